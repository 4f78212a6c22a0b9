package webres

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestValidatePath(t *testing.T) {
	valid := []string{
		"index.html", "js/app.js", ".hidden", "a b/c d.js", "caf\u00e9/\U0001F600.png",
		"filelist", ChecksumJSPath, "console.log.js", "COM0.js", "a..b",
	}
	for _, p := range valid {
		if err := ValidatePath(p); err != nil {
			t.Errorf("ValidatePath(%q) = %v, want nil", p, err)
		}
	}

	invalid := map[string]string{
		"":             "empty",
		"/etc/passwd":  "absolute",
		"C:/x.js":      "drive letter",
		"c:x.js":       "drive letter",
		"../x.js":      `".."`,
		"a/../../x.js": `".."`,
		"./x.js":       `"."`,
		"a//b.js":      "empty element",
		"dir/":         "empty element",
		`a\b.js`:       `'\'`,
		"a\x00b":       "control character",
		"a\x7fb":       "control character",
		"nul.js":       "reserved",
		"a/AUX":        "reserved",
		"a<b":          "Windows",
		"x/y. ":        "ends with",
		"bad\xff.js":   "UTF-8",
		"dir/ends.":    "ends with",
		"q\"uote.js":   "Windows",
	}
	for p, want := range invalid {
		err := ValidatePath(p)
		if err == nil {
			t.Errorf("ValidatePath(%q) = nil, want an error containing %q", p, want)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("ValidatePath(%q) = %q, want it to contain %q", p, err, want)
		}
	}
}

func TestFindCollisions(t *testing.T) {
	problems := FindCollisions([]string{"a.js", "A.JS", "b/x.js", "B/y.js", "B/z.js", "stra\u00dfe.js", "STRASSE.js", "ok.js"})
	if len(problems) != 3 {
		t.Fatalf("problems = %v, want 3", problems)
	}
	want := [][2]string{{"a.js", "A.JS"}, {"b", "B"}, {"stra\u00dfe.js", "STRASSE.js"}}
	for i, w := range want {
		p := problems[i]
		if len(p.Paths) != 2 || p.Paths[0] != w[0] || p.Paths[1] != w[1] {
			t.Errorf("problem %d = %v, want paths %v", i, p, w)
		}
	}
	if got := FindCollisions([]string{"a/b", "a/c", "a"}); len(got) != 0 {
		t.Errorf("FindCollisions on distinct paths = %v", got)
	}
}

func FuzzValidatePath(f *testing.F) {
	for _, s := range []string{"index.html", "a/b/c.js", "../x", "/abs", "C:/x", "a//b", "con.txt", "a\\b", "x\x00", "caf\u00e9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		err := ValidatePath(p)
		if err != nil {
			return
		}
		// Whatever passes must be safe to join under a folder on any OS.
		if !utf8.ValidString(p) || strings.HasPrefix(p, "/") || strings.Contains(p, "\\") || strings.Contains(p, ":") {
			t.Fatalf("ValidatePath accepted %q", p)
		}
		for elem := range strings.SplitSeq(p, "/") {
			if elem == "" || elem == "." || elem == ".." {
				t.Fatalf("ValidatePath accepted %q with element %q", p, elem)
			}
		}
	})
}

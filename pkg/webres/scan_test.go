package webres

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func scanProblems(t *testing.T, root string) []Problem {
	t.Helper()
	_, err := Scan(context.Background(), root)
	var invalid *InvalidTreeError
	if !errors.As(err, &invalid) {
		t.Fatalf("Scan error = %v, want *InvalidTreeError", err)
	}
	return invalid.Problems
}

func findProblem(problems []Problem, path string) (Problem, bool) {
	for _, p := range problems {
		for _, q := range p.Paths {
			if q == path {
				return p, true
			}
		}
	}
	return Problem{}, false
}

func TestScanOrderAndJunk(t *testing.T) {
	root := t.TempDir()
	for _, p := range []string{
		"index.html", "js/app.js", "js/app.js~", "js/.app.js.swp", "js/.app.js.swo", "js/.#app.js",
		".DS_Store", "img/Thumbs.db", "img/desktop.ini", "__MACOSX/._index.html", "__MACOSX/sub/x",
		"filelist", ChecksumJSPath, "css/.gitignore", "a-b.js", "a/b.js",
	} {
		writeFile(t, filepath.Join(root, p), []byte(p))
	}
	if err := os.MkdirAll(filepath.Join(root, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}

	tree, err := Scan(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range tree.Files {
		got = append(got, f.Path)
		if f.Size != int64(len(f.Path)) {
			t.Errorf("%s: size %d, want %d", f.Path, f.Size, len(f.Path))
		}
	}
	want := []string{"a-b.js", "a/b.js", "css/.gitignore", "filelist", "index.html", "js/app.js", ChecksumJSPath}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("files = %q, want %q", got, want)
	}

	var omitted []string
	for _, o := range tree.Omitted {
		omitted = append(omitted, o.Path)
		if o.Reason == "" {
			t.Errorf("%s omitted without a reason", o.Path)
		}
	}
	wantOmitted := []string{".DS_Store", "__MACOSX", "img/Thumbs.db", "img/desktop.ini", "js/.#app.js", "js/.app.js.swo", "js/.app.js.swp", "js/app.js~"}
	if strings.Join(omitted, " ") != strings.Join(wantOmitted, " ") {
		t.Errorf("omitted = %q, want %q", omitted, wantOmitted)
	}
}

func TestScanSymlinkInsideRoot(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "lib/real.js"), []byte("real content"))
	if err := os.Symlink("lib/real.js", filepath.Join(root, "alias.js")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("lib", filepath.Join(root, "vendor")); err != nil {
		t.Fatal(err)
	}

	tree, err := Scan(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	byPath := map[string]File{}
	for _, f := range tree.Files {
		byPath[f.Path] = f
	}
	for _, p := range []string{"alias.js", "lib/real.js", "vendor/real.js"} {
		f, ok := byPath[p]
		if !ok {
			t.Errorf("%s missing from %v", p, tree.Files)
			continue
		}
		content, err := os.ReadFile(f.DiskPath)
		if err != nil || string(content) != "real content" {
			t.Errorf("%s: DiskPath %s reads %q, %v", p, f.DiskPath, content, err)
		}
		if f.Size != int64(len("real content")) {
			t.Errorf("%s: size %d", p, f.Size)
		}
	}
}

func TestScanSymlinkProblems(t *testing.T) {
	outside := t.TempDir()
	writeFile(t, filepath.Join(outside, "secret.js"), []byte("x"))
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "index.html"), []byte("x"))
	links := map[string]string{
		"escape.js":   filepath.Join(outside, "secret.js"),
		"up.js":       "../" + filepath.Base(outside),
		"dangling.js": "nothing-here.js",
		"sub/loop":    "..",
		"self":        "self",
	}
	if err := os.MkdirAll(filepath.Join(root, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	for link, target := range links {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}

	problems := scanProblems(t, root)
	wantReason := map[string]string{
		"escape.js":   "outside the www folder",
		"up.js":       "outside the www folder",
		"dangling.js": "points to nothing",
		"sub/loop":    "loops back",
		"self":        "cannot be resolved",
	}
	for path, reason := range wantReason {
		p, ok := findProblem(problems, path)
		if !ok {
			t.Errorf("no problem for %s in %v", path, problems)
			continue
		}
		if !strings.Contains(p.Reason, reason) {
			t.Errorf("%s: reason %q, want it to contain %q", path, p.Reason, reason)
		}
	}
	if len(problems) != len(wantReason) {
		t.Errorf("%d problems, want %d: %v", len(problems), len(wantReason), problems)
	}
}

func TestScanInvalidNames(t *testing.T) {
	root := t.TempDir()
	bad := map[string]string{
		`back\slash.js`: `'\'`,
		"tab\tname.js":  "control character",
		"what?.js":      "Windows",
		"pipe|.js":      "Windows",
		"colon:.js":     "Windows",
		"trailing.":     "ends with a space or a dot",
		"trailing ":     "ends with a space or a dot",
		"CON":           "reserved",
		"con.txt":       "reserved",
		"Lpt9.tar.gz":   "reserved",
		"dir?/a.js":     "Windows",
	}
	for name := range bad {
		writeFile(t, filepath.Join(root, name), []byte("x"))
	}
	writeFile(t, filepath.Join(root, "console.js"), []byte("ok"))
	writeFile(t, filepath.Join(root, "COM10.js"), []byte("ok"))

	problems := scanProblems(t, root)
	for name, reason := range bad {
		path := name
		if name == "dir?/a.js" {
			path = "dir?"
		}
		p, ok := findProblem(problems, path)
		if !ok {
			t.Errorf("no problem for %q", path)
			continue
		}
		if !strings.Contains(p.Reason, reason) {
			t.Errorf("%q: reason %q, want it to contain %q", path, p.Reason, reason)
		}
	}
	for _, ok := range []string{"console.js", "COM10.js"} {
		if _, found := findProblem(problems, ok); found {
			t.Errorf("%s reported as invalid", ok)
		}
	}
}

func TestScanCollisions(t *testing.T) {
	root := t.TempDir()
	for _, p := range []string{"Img/a.png", "img/b.png", "caf\u00e9.js", "cafe\u0301.js", "README", "readme"} {
		writeFile(t, filepath.Join(root, p), []byte("x"))
	}
	problems := scanProblems(t, root)
	if len(problems) != 3 {
		t.Fatalf("%d problems, want 3: %v", len(problems), problems)
	}
	for _, want := range [][2]string{{"Img", "img"}, {"README", "readme"}} {
		p, ok := findProblem(problems, want[0])
		if !ok || len(p.Paths) != 2 || !strings.Contains(p.Reason, "letter case") {
			t.Errorf("collision %v not reported: %v", want, problems)
		}
	}
	p, ok := findProblem(problems, "caf\u00e9.js")
	if !ok || !strings.Contains(p.Reason, "normalization") {
		t.Errorf("NFC collision not reported: %v", problems)
	}
}

func TestScanUnreadable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads files whatever their permissions")
	}
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "secret.js"), []byte("x"))
	writeFile(t, filepath.Join(root, "locked/a.js"), []byte("x"))
	if err := os.Chmod(filepath.Join(root, "secret.js"), 0); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(root, "locked"), 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(filepath.Join(root, "locked"), 0o755) })

	problems := scanProblems(t, root)
	for _, path := range []string{"secret.js", "locked"} {
		if p, ok := findProblem(problems, path); !ok || !strings.Contains(p.Reason, "cannot be read") {
			t.Errorf("%s not reported as unreadable: %v", path, problems)
		}
	}
}

func TestScanErrorListsEveryProblem(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "a?.js"), nil)
	writeFile(t, filepath.Join(root, "b*.js"), nil)
	_, err := Scan(context.Background(), root)
	if err == nil {
		t.Fatal("Scan succeeded, want an error")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 3 || !strings.Contains(lines[1], "a?.js: ") || !strings.Contains(lines[2], "b*.js: ") {
		t.Errorf("error = %q, want a header and one line per problem", err)
	}
}

func TestScanRootErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	writeFile(t, file, nil)
	for _, root := range []string{filepath.Join(dir, "missing"), file} {
		_, err := Scan(context.Background(), root)
		var invalid *InvalidTreeError
		if err == nil || errors.As(err, &invalid) {
			t.Errorf("Scan(%s) error = %v, want a plain error", root, err)
		}
	}
}

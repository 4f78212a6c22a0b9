package bundle

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestDigestsJSONRoundTrip(t *testing.T) {
	shaA, shaB := strings.Repeat("a", 64), strings.Repeat("b", 64)
	digests := Digests{
		{Path: "a.js", Size: 3, SHA256: shaA},
		{Path: "b.js", Size: 5, SHA256: shaB},
		{Path: "lib/a-copy.js", Size: 3, SHA256: shaA},
	}

	encoded, err := json.Marshal(digests)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"paths":["a.js","b.js","lib/a-copy.js"],"content":[0,1,0],"sizes":[3,5],"sha256":["` + shaA + `","` + shaB + `"]}`
	if string(encoded) != want {
		t.Errorf("JSON:\n%s\nwant\n%s", encoded, want)
	}

	var decoded Digests
	if err := json.Unmarshal(encoded, &decoded); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(decoded, digests) {
		t.Errorf("decoded %v, want %v", decoded, digests)
	}
}

func TestDigestsJSONEmpty(t *testing.T) {
	encoded, err := json.Marshal(Digests{})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"paths":[],"content":[],"sizes":[],"sha256":[]}`; string(encoded) != want {
		t.Errorf("JSON %s, want %s", encoded, want)
	}
}

func TestDigestsJSONRejectsMisalignedTable(t *testing.T) {
	sha := `"` + strings.Repeat("c", 64) + `"`
	tests := []struct {
		name, table, want string
	}{
		{"content short", `{"paths":["a","b"],"content":[0],"sizes":[1],"sha256":[` + sha + `]}`, "1 content indexes for 2 paths"},
		{"sizes short", `{"paths":["a"],"content":[0],"sizes":[],"sha256":[` + sha + `]}`, "0 sizes for 1 SHA-256s"},
		{"index too large", `{"paths":["a"],"content":[1],"sizes":[1],"sha256":[` + sha + `]}`, `content index 1 of "a" is outside the 1 SHA-256s`},
		{"index negative", `{"paths":["a"],"content":[-1],"sizes":[1],"sha256":[` + sha + `]}`, `content index -1 of "a"`},
		{"list of numbers", `[1, 2]`, "cannot unmarshal number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var digests Digests
			err := json.Unmarshal([]byte(tt.table), &digests)
			if err == nil {
				t.Fatalf("decoded %v, want an error", digests)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestDigestsJSONReadsListForm(t *testing.T) {
	sha := strings.Repeat("d", 64)
	var digests Digests
	if err := json.Unmarshal([]byte(` [{"path":"a.js","size":1,"sha256":"`+sha+`"}]`), &digests); err != nil {
		t.Fatal(err)
	}
	want := Digests{{Path: "a.js", Size: 1, SHA256: sha}}
	if !slices.Equal(digests, want) {
		t.Errorf("decoded %v, want %v", digests, want)
	}
}

func TestParseMetadataVersions(t *testing.T) {
	sha := strings.Repeat("e", 64)
	fields := `"appId":"a.b","platform":"ios","appVersion":"1.0.0","pluginVersion":"8.0.1","platformVersion":"8.0.0","checksum":1,"size":1,"files":1,"unpackedSize":1`
	tests := []struct {
		name, json, wantProblem string
	}{
		{"version 2 table", `{"formatVersion":2,` + fields + `,"digests":{"paths":["a.js"],"content":[0],"sizes":[1],"sha256":["` + sha + `"]}}`, ""},
		{"version 1 list", `{"formatVersion":1,` + fields + `,"digests":[{"path":"a.js","size":1,"sha256":"` + sha + `"}]}`, ""},
		{"version 3", `{"formatVersion":3,` + fields + `,"digests":{"files":"new layout"}}`, "formatVersion 3 not supported (this version reads 1 to 2)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, problems := parseMetadata([]byte(tt.json))
			if tt.wantProblem == "" {
				if len(problems) > 0 {
					t.Fatalf("problems %q, want none", problems)
				}
				if len(m.Digests) != 1 || m.Digests[0].SHA256 != sha {
					t.Errorf("digests %v, want a.js with SHA-256 %s", m.Digests, sha)
				}
				return
			}
			if len(problems) != 1 || problems[0] != tt.wantProblem {
				t.Errorf("problems %q, want only %q", problems, tt.wantProblem)
			}
		})
	}
}

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
		{"list form", `[{"path":"a","size":1,"sha256":` + sha + `}]`, "cannot unmarshal array"},
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

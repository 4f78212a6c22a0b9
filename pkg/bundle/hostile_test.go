package bundle_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mfpdev/mfpdev/internal/ziptest"
	"github.com/mfpdev/mfpdev/pkg/bundle"
)

// TestReadRejectsHostileArchives checks that Read names the entry and the
// rule of every hostile archive of ziptest.
func TestReadRejectsHostileArchives(t *testing.T) {
	ctx := context.Background()
	valid, err := ziptest.Valid(ctx, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	limits := bundle.Limits{MaxEntries: 200, MaxUncompressed: 4 << 20}
	if _, err := bundle.Read(ctx, bytes.NewReader(valid), int64(len(valid)), bundle.ReadOptions{Limits: limits}); err != nil {
		t.Fatalf("valid archive rejected: %v", err)
	}

	for _, c := range ziptest.Cases(limits) {
		t.Run(c.Name, func(t *testing.T) {
			data, err := c.Make(valid)
			if err != nil {
				t.Fatal(err)
			}

			_, err = bundle.Read(ctx, bytes.NewReader(data), int64(len(data)), bundle.ReadOptions{Limits: limits})
			var invalid *bundle.InvalidArchiveError
			if !errors.As(err, &invalid) {
				t.Fatalf("Read error = %v, expected *InvalidArchiveError", err)
			}
			for _, p := range invalid.Problems {
				if p.Entry == c.Entry && strings.Contains(p.Rule, c.Rule) {
					return
				}
			}
			t.Errorf("no problem of entry %q with rule %q in:\n%v", c.Entry, c.Rule, err)
		})
	}
}

// TestProblemStringEscapesControls checks that a problem never prints
// the control characters of a hostile entry name, which a terminal would
// run as escape sequences.
func TestProblemStringEscapesControls(t *testing.T) {
	for _, p := range []bundle.Problem{
		{Entry: "www/a\x1b[31m.js", Rule: "name contains the control character U+001B: rename it"},
		{Entry: "www/ok.js", Rule: "collides with www/a\x1b[2J.js"},
		{Rule: "entry \x1b]0;title\x07 is invalid"},
		{Entry: "www/\xff.js", Rule: "not valid UTF-8"},
	} {
		s := p.String()
		if strings.ContainsAny(s, "\x1b\x07") || !utf8.ValidString(s) {
			t.Errorf("Problem%+v.String() = %q, contains control characters or invalid UTF-8", p, s)
		}
	}

	if got := (bundle.Problem{Entry: "www/ok.js", Rule: "duplicate entry name"}).String(); got != "www/ok.js: duplicate entry name" {
		t.Errorf("printable problem = %q, expected it unchanged", got)
	}
}

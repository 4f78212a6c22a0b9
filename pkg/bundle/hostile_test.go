package bundle_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

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

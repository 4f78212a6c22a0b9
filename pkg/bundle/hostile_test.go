package bundle_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
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

// TestReadRejectsEntryCountBeforeParsing reads an archive of 200,000
// entries with a limit of 1,000: the end record's count must reject it
// before archive/zip turns the central directory into 200,000 structures.
func TestReadRejectsEntryCountBeforeParsing(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 200,000 entries")
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := range 200_000 {
		if _, err := zw.CreateRaw(&zip.FileHeader{Name: fmt.Sprintf("www/%06d", i), Method: zip.Store}); err != nil {
			t.Fatal(err)
		}
	}
	zw.SetComment(ziptest.BlankComment)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := bundle.Read(context.Background(), bytes.NewReader(data), int64(len(data)), bundle.ReadOptions{Limits: bundle.Limits{MaxEntries: 1000}})
	runtime.ReadMemStats(&after)

	if err == nil || !strings.Contains(err.Error(), "200000 entries, over the limit of 1000") {
		t.Errorf("Read error = %v, expected the entry limit", err)
	}
	if allocated := after.TotalAlloc - before.TotalAlloc; allocated > 8<<20 {
		t.Errorf("Read allocated %d MiB to reject the archive, expected under 8 MiB", allocated>>20)
	}
}

package main

import (
	"context"
	"os"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/mfpdev/mfpdev/internal/ziptest"
	"github.com/mfpdev/mfpdev/pkg/bundle"
)

// cmdHostileZip writes an archive of the sample app ziptest builds:
// hostilezip NAME FILE. NAME is "valid", "zero-bomb" (1 GB of zeros,
// deflated) or a ziptest case name with '-' for spaces, for the default
// limits of "archive verify".
func cmdHostileZip(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: hostilezip NAME FILE")
	}
	name, dest := args[0], ts.MkAbs(args[1])

	if name == "zero-bomb" {
		f, err := os.Create(dest)
		ts.Check(err)
		ts.Check(ziptest.WriteZeroBomb(f, 1_000_000_000))
		ts.Check(f.Close())
		return
	}

	valid, err := ziptest.Valid(context.Background(), ts.MkAbs("."), nil)
	ts.Check(err)
	if name == "valid" {
		ts.Check(os.WriteFile(dest, valid, 0o644))
		return
	}

	for _, c := range ziptest.Cases(bundle.Limits{}) {
		if strings.ReplaceAll(c.Name, " ", "-") != name {
			continue
		}
		data, err := c.Make(valid)
		ts.Check(err)
		ts.Check(os.WriteFile(dest, data, 0o644))
		return
	}
	ts.Fatalf("hostilezip: no case %q", name)
}

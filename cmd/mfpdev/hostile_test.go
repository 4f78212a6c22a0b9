package main

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"fmt"
	"io"
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

// readZipEntry returns the content of one entry of the zip in data.
func readZipEntry(data []byte, name string) ([]byte, error) {
	entries, err := ziptest.Entries(data)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if e.Header.Name != name {
			continue
		}
		if e.Header.Method == zip.Store {
			return e.Raw, nil
		}
		return io.ReadAll(flate.NewReader(bytes.NewReader(e.Raw)))
	}
	return nil, fmt.Errorf("no entry %s", name)
}

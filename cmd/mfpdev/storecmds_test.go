package main

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/mfpdev/mfpdev/internal/ziptest"
	"github.com/mfpdev/mfpdev/pkg/webres"
)

// cmdValidZip writes a valid archive of ziptest's sample app (appId
// com.example.app, android, 1.0.0) whose content depends on VARIANT, and
// sets $CHECKSUM_VARIANT to its web-resources checksum:
// validzip VARIANT FILE.
func cmdValidZip(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: validzip VARIANT FILE")
	}
	variant, dest := args[0], ts.MkAbs(args[1])

	files := ziptest.SampleFiles()
	files["index.html"] = "<html><body>" + variant + "</body></html>\n"
	data, err := ziptest.Valid(context.Background(), ts.MkAbs("."), files)
	ts.Check(err)
	ts.Check(os.WriteFile(dest, data, 0o644))

	checksumJS, err := readZipEntry(data, "www/"+webres.ChecksumJSPath)
	ts.Check(err)
	checksum, err := webres.ParseChecksumJS(checksumJS)
	ts.Check(err)
	ts.Setenv("CHECKSUM_"+variant, strconv.FormatUint(uint64(checksum), 10))
}

// cmdCountFiles checks the number of regular files under DIR, at any
// depth, whose name starts with PREFIX (any name when PREFIX is empty):
// countfiles DIR N [PREFIX].
func cmdCountFiles(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: countfiles DIR N [PREFIX]")
	}
	want, err := strconv.Atoi(args[1])
	ts.Check(err)
	prefix := ""
	if len(args) == 3 {
		prefix = args[2]
	}

	var found []string
	err = filepath.WalkDir(ts.MkAbs(args[0]), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() && strings.HasPrefix(d.Name(), prefix) {
			found = append(found, path)
		}
		return nil
	})
	ts.Check(err)

	if (len(found) == want) == neg {
		ts.Fatalf("%d files under %s, expected %s%d: %v", len(found), args[0], map[bool]string{true: "not ", false: ""}[neg], want, found)
	}
}

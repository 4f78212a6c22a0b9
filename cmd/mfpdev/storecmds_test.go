package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/mfpdev/mfpdev/internal/store"
	"github.com/mfpdev/mfpdev/internal/ziptest"
	"github.com/mfpdev/mfpdev/pkg/webres"
)

// cmdValidZip writes a valid archive of ziptest's sample app (appId
// com.example.app, android, 1.0.0) whose content depends on VARIANT, and
// sets $CHECKSUM_VARIANT to its web-resources checksum. SIZE adds a file
// of that many poorly compressible bytes: validzip VARIANT FILE [SIZE].
func cmdValidZip(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: validzip VARIANT FILE [SIZE]")
	}
	variant, dest := args[0], ts.MkAbs(args[1])

	files := ziptest.SampleFiles()
	files["index.html"] = "<html><body>" + variant + "</body></html>\n"
	if len(args) == 3 {
		size, err := strconv.Atoi(args[2])
		ts.Check(err)
		const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/"
		rng := rand.New(rand.NewPCG(uint64(len(variant)), uint64(size)))
		big := make([]byte, size)
		for i := range big {
			big[i] = letters[rng.IntN(len(letters))]
		}
		files["big.txt"] = variant + string(big)
	}
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

// cmdSleepRandom sleeps a random duration below MAX, so that a script
// kills a process at a different moment on every run: sleeprandom MAX.
func cmdSleepRandom(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: sleeprandom MAX")
	}
	limit, err := time.ParseDuration(args[0])
	ts.Check(err)
	d := time.Duration(rand.Int64N(int64(limit)))
	ts.Logf("sleeping %s", d)
	time.Sleep(d)
}

// cmdStoreConsistent checks the SQLite database and blob folder of a
// server data folder: every blob a deployment references exists with its
// size, no other blob is left, and no temporary file remains:
// storeconsistent DATA.
func cmdStoreConsistent(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: storeconsistent DATA")
	}
	data := ts.MkAbs(args[0])
	ctx := context.Background()

	meta, err := store.OpenSQLite(ctx, filepath.Join(data, "metadata.db"))
	ts.Check(err)
	defer meta.Close()
	blobs, err := store.OpenFolder(filepath.Join(data, "blobs"))
	ts.Check(err)

	referenced, err := meta.BlobKeys(ctx)
	ts.Check(err)
	stored, err := blobs.List(ctx)
	ts.Check(err)
	storedSet := make(map[string]bool, len(stored))
	for _, key := range stored {
		storedSet[key] = true
		if !referenced[key] {
			ts.Fatalf("blob %s is stored but no deployment references it", key)
		}
	}
	for key := range referenced {
		if !storedSet[key] {
			ts.Fatalf("a deployment references blob %s, which is missing", key)
		}
		rc, info, err := blobs.Open(ctx, key)
		ts.Check(err)
		h := sha256.New()
		_, err = io.Copy(h, rc)
		rc.Close()
		ts.Check(err)
		if got := hex.EncodeToString(h.Sum(nil)); got != key {
			ts.Fatalf("blob %s (%d bytes) has SHA-256 %s: it is incomplete or corrupt", key, info.Size, got)
		}
	}

	for _, dir := range []string{filepath.Join(data, "tmp"), filepath.Join(data, "blobs", "tmp")} {
		entries, err := os.ReadDir(dir)
		ts.Check(err)
		if len(entries) > 0 {
			ts.Fatalf("%s holds %d leftover files after the start", dir, len(entries))
		}
	}
	ts.Logf("%d blobs, all referenced and complete", len(stored))
}

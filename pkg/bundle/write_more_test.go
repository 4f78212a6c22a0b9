package bundle

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// textBytes returns n bytes of pseudo-random, compressible text.
func textBytes(rng *rand.Rand, n int) []byte {
	words := []string{"function", "return", "var", "cordova", "plugin", "window", "document", "{", "}", ";\n", "(", ")"}
	var b bytes.Buffer
	for b.Len() < n {
		b.WriteString(words[rng.IntN(len(words))])
		b.WriteByte(' ')
	}

	return b.Bytes()[:n]
}

// randomBytes returns n incompressible bytes.
func randomBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}

	return b
}

func TestWriteLargeFiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	files := sampleFiles()
	files["js/big.js"] = textBytes(rng, 3<<20)
	files["img/big.png"] = randomBytes(rng, 3<<20)
	files["media/big.bin"] = randomBytes(rng, smallMax+1)

	dir := t.TempDir()
	srcs, meta := makeTree(t, filepath.Join(dir, "www"), files)
	dest := filepath.Join(dir, "out", "app.zip")
	writeOne(t, dest, srcs, meta, WriteOptions{ModTime: testModTime})

	data, err := os.ReadFile(dest)
	if err != nil {
		t.Fatal(err)
	}
	a, err := readBytes(data, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range a.WWWEntries() {
		switch e.Path {
		case "js/big.js":
			if e.Method != 8 || e.PackedSize >= e.Size {
				t.Errorf("%s: method %d, %d of %d bytes, expected deflated", e.Name, e.Method, e.PackedSize, e.Size)
			}
		case "img/big.png", "media/big.bin":
			if e.Method != 0 {
				t.Errorf("%s: method %d, expected stored", e.Name, e.Method)
			}
		}
	}

	leftovers, _ := filepath.Glob(filepath.Join(dir, "out", ".*"))
	if len(leftovers) > 0 {
		t.Errorf("temp files left: %v", leftovers)
	}
}

func TestWriteCancelKeepsOldArchive(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	files := sampleFiles()
	for i := range 300 {
		files[fmt.Sprintf("js/m%03d.js", i)] = textBytes(rng, 32<<10)
	}
	files["js/big.js"] = textBytes(rng, 3<<20)

	dir := t.TempDir()
	srcs, meta := makeTree(t, filepath.Join(dir, "www"), files)
	outDir := filepath.Join(dir, "out")
	dest := filepath.Join(outDir, "app.zip")
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		t.Fatal(err)
	}
	old := []byte("previous archive")
	if err := os.WriteFile(dest, old, 0o644); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	jobs := []Job{
		{Dest: dest, Files: srcs, Meta: meta},
		{Dest: filepath.Join(outDir, "ios.zip"), Files: srcs, Meta: meta},
	}
	_, err := WriteArchives(ctx, jobs, WriteOptions{ModTime: testModTime, Progress: func(int64) { cancel() }})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("WriteArchives returned %v, expected context.Canceled", err)
	}

	got, err := os.ReadFile(dest)
	if err != nil || !bytes.Equal(got, old) {
		t.Errorf("previous archive changed: %q, %v", got, err)
	}
	entries, _ := os.ReadDir(outDir)
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("files left in %s: %v", outDir, names)
	}
}

func TestReadZip64EntryCount(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 70,000 entries")
	}

	files := make(map[string][]byte, zip64Files)
	for i := range zip64Files {
		files[fmt.Sprintf("d%02d/f%05d.txt", i%100, i)] = []byte(fmt.Sprint(i))
	}

	dir := t.TempDir()
	srcs := make([]SourceFile, 0, len(files)+2)
	for p, c := range files {
		srcs = append(srcs, SourceFile{Path: p, Content: c})
	}
	srcs, meta := withChecksumFiles(t, srcs)

	dest := filepath.Join(dir, "app.zip")
	writeOne(t, dest, srcs, meta, WriteOptions{ModTime: testModTime})
	data, err := os.ReadFile(dest)
	if err != nil {
		t.Fatal(err)
	}

	a, err := readBytes(data, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(a.WWWEntries()); n != len(srcs) {
		t.Errorf("%d www entries, expected %d", n, len(srcs))
	}
	if !bytes.Contains(data, []byte("PK\x06\x06")) {
		t.Error("no zip64 end of central directory record")
	}
}

// zip64Files is more entries than the 65,535 a zip without zip64 holds.
var zip64Files = 70_000

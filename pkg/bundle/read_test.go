package bundle

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeSample writes the sample tree as an archive and returns its bytes.
func writeSample(t testing.TB, opts WriteOptions) []byte {
	t.Helper()

	dir := t.TempDir()
	srcs, meta := makeTree(t, filepath.Join(dir, "www"), sampleFiles())
	dest := filepath.Join(dir, "app.zip")
	if opts.ModTime.IsZero() {
		opts.ModTime = testModTime
	}
	writeOne(t, dest, srcs, meta, opts)

	data, err := os.ReadFile(dest)
	if err != nil {
		t.Fatal(err)
	}

	return data
}

func readBytes(data []byte, opts ReadOptions) (*Archive, error) {
	return Read(context.Background(), bytes.NewReader(data), int64(len(data)), opts)
}

// problemsOf returns the problems of an *InvalidArchiveError, failing the
// test for any other result.
func problemsOf(t *testing.T, data []byte, opts ReadOptions) []Problem {
	t.Helper()

	_, err := readBytes(data, opts)
	var invalid *InvalidArchiveError
	if !errors.As(err, &invalid) {
		t.Fatalf("Read returned %v, expected *InvalidArchiveError", err)
	}

	return invalid.Problems
}

// expectProblem fails unless problems has one about entry whose rule
// contains fragment.
func expectProblem(t *testing.T, problems []Problem, entry, fragment string) {
	t.Helper()

	for _, p := range problems {
		if p.Entry == entry && strings.Contains(p.Rule, fragment) {
			return
		}
	}
	t.Errorf("no problem on %q containing %q; got %v", entry, fragment, problems)
}

func TestReadWrittenArchive(t *testing.T) {
	data := writeSample(t, WriteOptions{})

	a, err := readBytes(data, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if a.Meta.AppID != "com.example.app" {
		t.Errorf("AppID = %q", a.Meta.AppID)
	}
	if a.ChecksumJS != a.Meta.Checksum {
		t.Errorf("ChecksumJS = %d, Meta.Checksum = %d", a.ChecksumJS, a.Meta.Checksum)
	}
	if a.Signed {
		t.Error("Signed = true for an unsigned archive")
	}
	if got := len(a.WWWEntries()); got != a.Meta.Files {
		t.Errorf("%d www entries, metadata lists %d", got, a.Meta.Files)
	}
	if a.Size != int64(len(data)) {
		t.Errorf("Size = %d, expected %d", a.Size, len(data))
	}

	rc, err := a.OpenEntry("www/index.html")
	if err != nil {
		t.Fatal(err)
	}
	content, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(content, sampleFiles()["index.html"]) {
		t.Errorf("www/index.html = %q", content)
	}

	if _, err := a.OpenEntry("www/nope.js"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("OpenEntry of a missing entry returned %v", err)
	}
}

package bundle

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mfpdev/mfpdev/pkg/signing"
)

// deltaFixture is a base and a target archive and a delta between them.
type deltaFixture struct {
	dir        string
	base, full *Archive
	fullPath   string
	deltaPath  string
	ship, keep []string
}

func writeFull(t *testing.T, dir, name string, files map[string][]byte) (string, []SourceFile, Metadata) {
	t.Helper()

	srcs, meta := makeTree(t, filepath.Join(dir, name), files)
	dest := filepath.Join(dir, name+".zip")
	if _, err := WriteArchives(context.Background(), []Job{{Dest: dest, Files: srcs, Meta: meta}}, WriteOptions{ModTime: testModTime}); err != nil {
		t.Fatal(err)
	}

	return dest, srcs, meta
}

func readFile(t *testing.T, path string) *Archive {
	t.Helper()

	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	a, err := Read(context.Background(), bytes.NewReader(b), int64(len(b)), ReadOptions{})
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}

	return a
}

func newDeltaFixture(t *testing.T) *deltaFixture {
	t.Helper()
	dir := t.TempDir()

	basePath, _, _ := writeFull(t, dir, "v1", map[string][]byte{
		"index.html":     []byte("<html>v1</html>"),
		"js/app.js":      []byte("console.log(1)"),
		"js/old.js":      []byte("old"),
		"css/style.css":  []byte("body{}"),
		"img/logo.png":   bytes.Repeat([]byte{1, 2, 3}, 1000),
		"skinLoader.js":  []byte("skin"),
		"lib/moved.js":   []byte("moved content"),
		"lib/same-a.txt": []byte("same"),
	})
	fullPath, srcs, meta := writeFull(t, dir, "v2", map[string][]byte{
		"index.html":      []byte("<html>v2</html>"),
		"js/app.js":       []byte("console.log(1)"),
		"css/style.css":   []byte("body{}"),
		"img/logo.png":    bytes.Repeat([]byte{1, 2, 3}, 1000),
		"skinLoader.js":   []byte("skin"),
		"vendor/moved.js": []byte("moved content"),
		"lib/same-a.txt":  []byte("same"),
		"js/new.js":       []byte("new"),
	})

	f := &deltaFixture{dir: dir, base: readFile(t, basePath), full: readFile(t, fullPath), fullPath: fullPath}
	f.ship, f.keep = DiffDigests(f.base.Meta.Digests, f.full.Meta.Digests)

	var shipped []SourceFile
	for _, s := range srcs {
		if slices.Contains(f.ship, s.Path) {
			shipped = append(shipped, s)
		}
	}
	baseChecksum := f.base.Meta.Checksum
	meta.BaseChecksum = &baseChecksum
	f.deltaPath = filepath.Join(dir, "delta.zip")
	if _, err := WriteDelta(context.Background(), Job{Dest: f.deltaPath, Files: shipped, Meta: meta}, f.keep, WriteOptions{ModTime: testModTime}); err != nil {
		t.Fatal(err)
	}

	return f
}

func TestDiffDigestsSplitsByContent(t *testing.T) {
	f := newDeltaFixture(t)

	wantShip := []string{"filelist", "index.html", "js/new.js", "plugins/cordova-plugin-mfp/worklight/checksum.js", "skinLoader.js", "vendor/moved.js"}
	wantKeep := []string{"css/style.css", "img/logo.png", "js/app.js", "lib/same-a.txt"}
	slices.Sort(f.ship)
	slices.Sort(f.keep)
	if !slices.Equal(f.ship, wantShip) {
		t.Errorf("ship = %q, want %q", f.ship, wantShip)
	}
	if !slices.Equal(f.keep, wantKeep) {
		t.Errorf("keep = %q, want %q", f.keep, wantKeep)
	}
}

func TestWriteDeltaReadsBack(t *testing.T) {
	f := newDeltaFixture(t)
	d := readFile(t, f.deltaPath)

	if !d.Delta {
		t.Fatal("Delta = false, want true")
	}
	if d.Meta.BaseChecksum == nil || *d.Meta.BaseChecksum != f.base.Meta.Checksum {
		t.Errorf("BaseChecksum = %v, want %d", d.Meta.BaseChecksum, f.base.Meta.Checksum)
	}
	if d.Meta.Checksum != f.full.Meta.Checksum || d.ChecksumJS != f.full.Meta.Checksum {
		t.Errorf("checksum %d, checksum.js %d, want %d", d.Meta.Checksum, d.ChecksumJS, f.full.Meta.Checksum)
	}
	if d.Meta.Files != len(f.ship) {
		t.Errorf("Files = %d, want %d shipped files", d.Meta.Files, len(f.ship))
	}

	script := entryContent(t, d, DDUScriptName)
	if want := string(DeltaScript(f.keep)); script != want {
		t.Errorf("ddu.script = %q, want %q", script, want)
	}
	if got, want := entryContent(t, d, "www/filelist"), entryContent(t, f.full, "www/filelist"); got != want {
		t.Errorf("delta filelist = %q, want the full archive's %q", got, want)
	}
}

func TestWriteDeltaRejectsKeptAndShipped(t *testing.T) {
	dir := t.TempDir()
	var base uint32 = 1
	job := Job{
		Dest:  filepath.Join(dir, "d.zip"),
		Files: []SourceFile{{Path: "a.js", Content: []byte("a")}},
		Meta:  Metadata{AppID: "a", Platform: "android", AppVersion: "1", PluginVersion: "8.0.1", BaseChecksum: &base},
	}

	_, err := WriteDelta(context.Background(), job, []string{"a.js"}, WriteOptions{})
	if err == nil || !strings.Contains(err.Error(), "both kept and shipped") {
		t.Fatalf("err = %v, want a kept-and-shipped error", err)
	}
	if _, statErr := os.Stat(job.Dest); !errors.Is(statErr, os.ErrNotExist) {
		t.Errorf("archive written despite the error: %v", statErr)
	}
}

func TestReadDeltaScriptRules(t *testing.T) {
	f := newDeltaFixture(t)

	tests := []struct {
		name, script, rule string
	}{
		{"empty path", "/www/\n", "line 1"},
		{"invalid path", "/www/../etc/passwd\n", "line 1"},
		{"twice", "/www/js/app.js\n/www/js/app.js\n", "listed twice"},
		{"shipped", "/www/index.html\n", "also shipped"},
		{"filelist mismatch", "/www/js/app.js\n", "differs from the list of the shipped and kept files"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := rewriteEntry(t, f.deltaPath, DDUScriptName, []byte(tt.script))
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}

			_, err = Read(context.Background(), bytes.NewReader(b), int64(len(b)), ReadOptions{})
			var invalid *InvalidArchiveError
			if !errors.As(err, &invalid) {
				t.Fatalf("err = %v, want *InvalidArchiveError", err)
			}
			if !strings.Contains(err.Error(), tt.rule) {
				t.Errorf("err = %v, want a problem with %q", err, tt.rule)
			}
		})
	}
}

func TestReadDeltaShippedDigestMismatch(t *testing.T) {
	f := newDeltaFixture(t)
	path := rewriteEntry(t, f.deltaPath, "www/js/new.js", []byte("NEW"))
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	_, err = Read(context.Background(), bytes.NewReader(b), int64(len(b)), ReadOptions{})
	if err == nil || !strings.Contains(err.Error(), "differs from its digest") {
		t.Fatalf("err = %v, want a digest mismatch", err)
	}
}

func TestReadBaseChecksumOnFullArchive(t *testing.T) {
	f := newDeltaFixture(t)
	var meta bytes.Buffer
	meta.WriteString(strings.Replace(entryContent(t, f.full, MetadataName), `"digests"`, `"baseChecksum": 7, "digests"`, 1))
	path := rewriteEntry(t, f.fullPath, MetadataName, meta.Bytes())
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	_, err = Read(context.Background(), bytes.NewReader(b), int64(len(b)), ReadOptions{})
	if err == nil || !strings.Contains(err.Error(), "only a delta archive has a base") {
		t.Fatalf("err = %v, want a baseChecksum problem", err)
	}
}

func TestReadMetadataOnly(t *testing.T) {
	f := newDeltaFixture(t)
	b, err := os.ReadFile(f.fullPath)
	if err != nil {
		t.Fatal(err)
	}

	meta, err := ReadMetadata(context.Background(), bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if meta.Checksum != f.full.Meta.Checksum || len(meta.Digests) != len(f.full.Meta.Digests) {
		t.Errorf("metadata checksum %d with %d digests, want %d with %d", meta.Checksum, len(meta.Digests), f.full.Meta.Checksum, len(f.full.Meta.Digests))
	}
}

func entryContent(t *testing.T, a *Archive, name string) string {
	t.Helper()

	rc, err := a.OpenEntry(name)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}

	return string(b)
}

// rewriteEntry copies the archive at path with the content of entry name
// replaced, and a blank 512-byte comment, and returns the copy's path.
func rewriteEntry(t *testing.T, path, name string, content []byte) string {
	t.Helper()

	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()

	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		if f.Name != name {
			if err := zw.Copy(f); err != nil {
				t.Fatal(err)
			}
			continue
		}
		fh := f.FileHeader
		fh.Flags &^= 0x8
		fh.Method = zip.Store
		fh.CompressedSize64, fh.UncompressedSize64 = uint64(len(content)), uint64(len(content))
		fh.CRC32 = crc(content)
		w, err := zw.CreateRaw(&fh)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(content)
	}
	zw.SetComment(string(signing.BlankComment()))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}

	dest := filepath.Join(t.TempDir(), "rewritten.zip")
	if err := os.WriteFile(dest, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	return dest
}

func crc(b []byte) uint32 { return crc32.ChecksumIEEE(b) }

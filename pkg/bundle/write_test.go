package bundle

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/mfpdev/mfpdev/pkg/webres"
)

var testModTime = time.Date(2024, 5, 6, 7, 8, 10, 0, time.UTC)

// makeTree writes a small Cordova-like www folder under dir and returns its
// files, filelist and checksum.js included, and the metadata of the tree.
func makeTree(t testing.TB, dir string, files map[string][]byte) ([]SourceFile, Metadata) {
	t.Helper()

	var paths []string
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, content, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}

	tree, err := webres.Scan(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := tree.Sum(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	var srcs []SourceFile
	for _, f := range tree.Files {
		if f.Path == webres.FileListName || f.Path == webres.ChecksumJSPath {
			continue
		}
		srcs = append(srcs, SourceFile{Path: f.Path, DiskPath: f.DiskPath})
	}
	srcs = append(srcs,
		SourceFile{Path: webres.FileListName, Content: sum.FileList},
		SourceFile{Path: webres.ChecksumJSPath, Content: webres.ChecksumJS(sum.Checksum, testModTime)},
	)

	meta := Metadata{
		AppID: "com.example.app", Platform: "android", AppVersion: "1.0.0",
		PluginVersion: "8.0.2024082705", PlatformVersion: "8.0.0.00-20230609-123807",
		Checksum: sum.Checksum, Size: sum.Size, CreatedBy: "mfpdev test",
	}

	return srcs, meta
}

// withChecksumFiles adds filelist and checksum.js to in-memory sources
// and returns them with their metadata.
func withChecksumFiles(t testing.TB, srcs []SourceFile) ([]SourceFile, Metadata) {
	t.Helper()

	// fstest.MapFS files have a Stat method, which lets Compute size its
	// buffers.
	tree := make(fstest.MapFS, len(srcs))
	paths := make([]string, 0, len(srcs))
	for _, s := range srcs {
		tree[s.Path] = &fstest.MapFile{Data: s.Content, Mode: 0o644}
		paths = append(paths, s.Path)
	}
	sum, err := webres.Compute(context.Background(), paths, func(p string) (io.ReadCloser, error) {
		return tree.Open(p)
	})
	if err != nil {
		t.Fatal(err)
	}

	srcs = append(srcs,
		SourceFile{Path: webres.FileListName, Content: sum.FileList},
		SourceFile{Path: webres.ChecksumJSPath, Content: webres.ChecksumJS(sum.Checksum, testModTime)},
	)
	meta := Metadata{
		AppID: "com.example.app", Platform: "android", AppVersion: "1.0.0",
		PluginVersion: "8.0.2024082705", PlatformVersion: "8.0.0.00-20230609-123807",
		Checksum: sum.Checksum, Size: sum.Size, CreatedBy: "mfpdev test",
	}

	return srcs, meta
}

func sampleFiles() map[string][]byte {
	return map[string][]byte{
		"index.html":          []byte("<html><body>hello</body></html>\r\n"),
		"cordova.js":          bytes.Repeat([]byte("var cordova = {};\n"), 200),
		"css/app.css":         []byte("body { color: red }\n"),
		"img/logo.png":        {0x89, 'P', 'N', 'G', 1, 2, 3, 4},
		"js/ünïcode.js":       []byte("// ünïcode\n"),
		"js/empty.js":         {},
		"plugins/x/plugin.js": []byte("module.exports = 1;\n"),
	}
}

func writeOne(t testing.TB, dest string, srcs []SourceFile, meta Metadata, opts WriteOptions) Result {
	t.Helper()

	res, err := WriteArchives(context.Background(), []Job{{Dest: dest, Files: srcs, Meta: meta}}, opts)
	if err != nil {
		t.Fatal(err)
	}

	return res[0]
}

func TestWriteLayout(t *testing.T) {
	dir := t.TempDir()
	srcs, meta := makeTree(t, filepath.Join(dir, "www"), sampleFiles())
	dest := filepath.Join(dir, "out", "app.zip")

	var progress int64
	res := writeOne(t, dest, srcs, meta, WriteOptions{ModTime: testModTime, Progress: func(n int64) { progress = n }})

	var total int64
	for _, s := range srcs {
		if s.DiskPath == "" {
			total += int64(len(s.Content))
			continue
		}
		fi, err := os.Stat(s.DiskPath)
		if err != nil {
			t.Fatal(err)
		}
		total += fi.Size()
	}
	if progress != total {
		t.Errorf("last progress %d bytes, files hold %d", progress, total)
	}

	data, err := os.ReadFile(dest)
	if err != nil {
		t.Fatal(err)
	}
	if res.PackedSize != int64(len(data)) {
		t.Errorf("PackedSize = %d, file has %d bytes", res.PackedSize, len(data))
	}
	if sum := sha256.Sum256(data); res.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("SHA256 = %s, file hashes to %x", res.SHA256, sum)
	}
	if tail := data[len(data)-512:]; !bytes.Equal(tail, bytes.Repeat([]byte{' '}, 512)) {
		t.Errorf("last 512 bytes are not spaces: %q", tail)
	}

	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		if f.Flags&flagUTF8 == 0 {
			t.Errorf("%s: UTF-8 flag not set", f.Name)
		}
		if f.Flags&flagDataDescriptor != 0 {
			t.Errorf("%s: data descriptor flag set", f.Name)
		}
		if len(f.Extra) != 0 {
			t.Errorf("%s: extra fields %x", f.Name, f.Extra)
		}
		if f.Mode() != 0o644 {
			t.Errorf("%s: mode %v, expected -rw-r--r--", f.Name, f.Mode())
		}
		if !f.Modified.Equal(testModTime) {
			t.Errorf("%s: modified %v, expected %v", f.Name, f.Modified, testModTime)
		}
	}
	if last := names[len(names)-1]; last != MetadataName {
		t.Errorf("last entry %s, expected %s", last, MetadataName)
	}
	for i := 1; i < len(names)-1; i++ {
		if !webres.Less(names[i-1][4:], names[i][4:]) {
			t.Errorf("entries %s and %s out of checksum order", names[i-1], names[i])
		}
	}
	if got := len(names) - 1; got != len(srcs) {
		t.Errorf("%d www entries, expected %d", got, len(srcs))
	}
}

// TestWriteReproducible writes the same tree twice, with different file
// times, input orders and GOMAXPROCS, and expects identical bytes.
func TestWriteReproducible(t *testing.T) {
	dir := t.TempDir()
	srcs, meta := makeTree(t, filepath.Join(dir, "www"), sampleFiles())

	first := filepath.Join(dir, "a.zip")
	writeOne(t, first, srcs, meta, WriteOptions{ModTime: testModTime})

	for _, s := range srcs {
		if s.DiskPath != "" {
			when := time.Now().Add(-time.Duration(rand.IntN(1000)) * time.Hour)
			if err := os.Chtimes(s.DiskPath, when, when); err != nil {
				t.Fatal(err)
			}
		}
	}
	shuffled := append([]SourceFile(nil), srcs...)
	rand.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	old := runtimeSetProcs(1)
	defer runtimeSetProcs(old)

	second := filepath.Join(dir, "b.zip")
	writeOne(t, second, shuffled, meta, WriteOptions{ModTime: testModTime})

	a, _ := os.ReadFile(first)
	b, _ := os.ReadFile(second)
	if !bytes.Equal(a, b) {
		t.Fatalf("archives differ: %d and %d bytes", len(a), len(b))
	}
}

func TestWriteSharedFiles(t *testing.T) {
	dir := t.TempDir()
	files := sampleFiles()
	android, meta := makeTree(t, filepath.Join(dir, "android"), files)
	files["cordova.js"] = []byte("// ios cordova\n")
	ios, iosMeta := makeTree(t, filepath.Join(dir, "ios"), files)
	iosMeta.Platform = "ios"

	jobs := []Job{
		{Dest: filepath.Join(dir, "out", "android.zip"), Files: android, Meta: meta},
		{Dest: filepath.Join(dir, "out", "ios.zip"), Files: ios, Meta: iosMeta},
	}
	var read int64
	res, err := WriteArchives(context.Background(), jobs, WriteOptions{ModTime: testModTime, Progress: func(n int64) { read = n }})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 {
		t.Fatalf("%d results, expected 2", len(res))
	}

	// Each archive must equal the one written alone.
	for i, job := range jobs {
		alone := filepath.Join(dir, fmt.Sprintf("alone-%d.zip", i))
		writeOne(t, alone, job.Files, job.Meta, WriteOptions{ModTime: testModTime})
		a, _ := os.ReadFile(alone)
		b, _ := os.ReadFile(job.Dest)
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs from the same archive written alone", job.Dest)
		}
	}
	if read == 0 {
		t.Error("Progress never called")
	}
}

func TestWriteRejectsInvalidInput(t *testing.T) {
	dir := t.TempDir()
	dest := filepath.Join(dir, "app.zip")
	cases := map[string][]SourceFile{
		"dot-dot":   {{Path: "../x.js", Content: []byte("x")}},
		"duplicate": {{Path: "a.js", Content: []byte("x")}, {Path: "a.js", Content: []byte("y")}},
		"collision": {{Path: "A.js", Content: []byte("x")}, {Path: "a.js", Content: []byte("y")}},
		"missing":   {{Path: "a.js", DiskPath: filepath.Join(dir, "nope.js")}},
		"both":      {{Path: "a.js", DiskPath: dest, Content: []byte("y")}},
	}
	for name, files := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := WriteArchives(context.Background(), []Job{{Dest: dest, Files: files}}, WriteOptions{})
			if err == nil {
				t.Fatal("no error")
			}
			if _, err := os.Stat(dest); !os.IsNotExist(err) {
				t.Errorf("archive written despite the error")
			}
		})
	}
}

func TestWriteRejectsInvalidLevel(t *testing.T) {
	dest := filepath.Join(t.TempDir(), "app.zip")
	files := []SourceFile{{Path: "a.js", Content: []byte("x")}}
	for _, level := range []int{-1, 10} {
		_, err := WriteArchives(context.Background(), []Job{{Dest: dest, Files: files}}, WriteOptions{Level: level})
		if err == nil {
			t.Fatalf("level %d: no error", level)
		}
		if want := fmt.Sprintf("compression level %d is invalid", level); !strings.Contains(err.Error(), want) {
			t.Errorf("level %d: error %q, want it to contain %q", level, err, want)
		}
		if _, err := os.Stat(dest); !os.IsNotExist(err) {
			t.Errorf("level %d: archive written despite the error", level)
		}
	}
}

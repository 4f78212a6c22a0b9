package webres

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

type checksumVector struct {
	Name      string            `json:"name"`
	Files     map[string]string `json:"files"` // path -> base64 content
	EmptyDirs []string          `json:"emptyDirs"`
	Checksum  uint32            `json:"checksum"`
	Size      int64             `json:"size"`
	FileList  string            `json:"filelist"`
}

func loadVectors(t *testing.T) []checksumVector {
	t.Helper()
	names, err := filepath.Glob("testdata/checksum-vectors/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		t.Fatal("no vectors in testdata/checksum-vectors")
	}
	var vectors []checksumVector
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		var v checksumVector
		if err := json.Unmarshal(data, &v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		vectors = append(vectors, v)
	}
	return vectors
}

func writeVector(t *testing.T, v checksumVector) string {
	t.Helper()
	root := t.TempDir()
	for p, b64 := range v.Files {
		content, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		writeFile(t, filepath.Join(root, filepath.FromSlash(p)), content)
	}
	for _, d := range v.EmptyDirs {
		if err := os.MkdirAll(filepath.Join(root, filepath.FromSlash(d)), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func writeFile(t *testing.T, path string, content []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestChecksumVectors(t *testing.T) {
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			root := writeVector(t, v)
			sum := scanAndSum(t, root)
			if sum.Checksum != v.Checksum {
				t.Errorf("checksum = %d, want %d", sum.Checksum, v.Checksum)
			}
			if sum.Size != v.Size {
				t.Errorf("size = %d, want %d", sum.Size, v.Size)
			}
			if string(sum.FileList) != v.FileList {
				t.Errorf("filelist = %q, want %q", sum.FileList, v.FileList)
			}
			wantPaths := strings.Split(strings.ReplaceAll(v.FileList, "\n/", "\n"), "\n")
			wantPaths[0] = strings.TrimPrefix(wantPaths[0], "/")
			if fmt.Sprint(sum.Paths) != fmt.Sprint(wantPaths) {
				t.Errorf("paths = %q, want %q", sum.Paths, wantPaths)
			}
		})
	}
}

// scanAndSum returns the checksum of the files under root. A tree that Scan
// rejects only for letter-case collisions (valid for the plugin, not for
// iOS) is checksummed with Compute over the same files on disk.
func scanAndSum(t *testing.T, root string) Sum {
	t.Helper()
	tree, err := Scan(context.Background(), root)
	if err == nil {
		sum, err := tree.Sum(context.Background())
		if err != nil {
			t.Fatalf("Sum: %v", err)
		}
		return sum
	}

	var invalid *InvalidTreeError
	if !errors.As(err, &invalid) {
		t.Fatalf("Scan: %v", err)
	}
	for _, p := range invalid.Problems {
		if len(p.Paths) != 2 || !strings.Contains(p.Reason, "letter case") {
			t.Fatalf("Scan: %v", err)
		}
	}
	var paths []string
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			rel, _ := filepath.Rel(root, path)
			paths = append(paths, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := Compute(context.Background(), paths, func(p string) (io.ReadCloser, error) {
		return os.Open(filepath.Join(root, p))
	})
	if err != nil {
		t.Fatalf("Compute: %v", err)
	}
	return sum
}

// memOpener serves files from a map and counts the opens.
func memOpener(files map[string][]byte, opened map[string]int) func(string) (io.ReadCloser, error) {
	var mu = make(chan struct{}, 1)
	return func(p string) (io.ReadCloser, error) {
		mu <- struct{}{}
		opened[p]++
		<-mu
		b, ok := files[p]
		if !ok {
			return nil, fmt.Errorf("open %s: %w", p, os.ErrNotExist)
		}
		return io.NopCloser(bytes.NewReader(b)), nil
	}
}

func TestComputeVectors(t *testing.T) {
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			files := make(map[string][]byte)
			var paths []string
			for p, b64 := range v.Files {
				files[p], _ = base64.StdEncoding.DecodeString(b64)
				paths = append(paths, p)
			}
			opened := make(map[string]int)
			sum, err := Compute(context.Background(), paths, memOpener(files, opened))
			if err != nil {
				t.Fatal(err)
			}
			if sum.Checksum != v.Checksum || sum.Size != v.Size || string(sum.FileList) != v.FileList {
				t.Errorf("got checksum %d size %d filelist %q, want %d %d %q", sum.Checksum, sum.Size, sum.FileList, v.Checksum, v.Size, v.FileList)
			}
			if opened[FileListName] != 0 {
				t.Errorf("filelist was read through open %d times, want 0", opened[FileListName])
			}
			for p, n := range opened {
				if n != 1 {
					t.Errorf("%s opened %d times, want 1", p, n)
				}
				if ExcludedFromChecksum(p) {
					t.Errorf("excluded %s was opened", p)
				}
			}
		})
	}
}

// referenceChecksum is the plain definition: whole files in memory, '\r'
// removed with a copy, one CRC update per file and per path.
func referenceChecksum(files map[string][]byte) (uint32, int64, string) {
	paths := []string{FileListName}
	for p := range files {
		if p != FileListName {
			paths = append(paths, p)
		}
	}
	sort.Slice(paths, func(i, j int) bool { return Less(paths[i], paths[j]) })
	var kept []string
	for _, p := range paths {
		if !ExcludedFromChecksum(p) {
			kept = append(kept, p)
		}
	}
	list := "/" + strings.Join(kept, "\n/")
	var crc uint32
	var size int64
	for _, p := range kept {
		content := files[p]
		if p == FileListName {
			content = []byte(list)
		}
		size += int64(len(content))
		crc = crc32.Update(crc, crc32.IEEETable, bytes.ReplaceAll(content, []byte("\r"), nil))
		crc = crc32.Update(crc, crc32.IEEETable, []byte("/"+p))
	}
	return crc, size, list
}

func TestComputeLargeAndCRLF(t *testing.T) {
	big := bytes.Repeat([]byte("line one\r\nline two\n\r\r"), (streamAbove/20)+12345)
	binary := make([]byte, streamAbove*2+7)
	for i := range binary {
		binary[i] = byte(i * 7)
	}
	files := map[string][]byte{
		"big.txt":         big,
		"bin/blob.dat":    binary,
		"empty.js":        nil,
		"cr.txt":          []byte("\r"),
		"crlf-long.js":    bytes.Repeat([]byte("x\r\n"), 70000),
		"skinLoader.js":   []byte("left out"),
		"deep/a/b/c.html": []byte("<p>\r\n</p>"),
	}
	for i := range 600 {
		files[fmt.Sprintf("many/%03d.js", i)] = []byte(fmt.Sprintf("f(%d);\r\n", i))
	}
	var paths []string
	for p := range files {
		paths = append(paths, p)
	}

	wantCRC, wantSize, wantList := referenceChecksum(files)
	sum, err := Compute(context.Background(), paths, memOpener(files, map[string]int{}))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Checksum != wantCRC {
		t.Errorf("checksum = %d, want %d", sum.Checksum, wantCRC)
	}
	if sum.Size != wantSize {
		t.Errorf("size = %d, want %d", sum.Size, wantSize)
	}
	if string(sum.FileList) != wantList {
		t.Errorf("filelist differs from the reference")
	}

	// The same files on disk, where sizes are known and large files stream.
	root := t.TempDir()
	for p, content := range files {
		writeFile(t, filepath.Join(root, p), content)
	}
	tree, err := Scan(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	diskSum, err := tree.Sum(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if diskSum.Checksum != wantCRC || diskSum.Size != wantSize {
		t.Errorf("disk sum = %d/%d, want %d/%d", diskSum.Checksum, diskSum.Size, wantCRC, wantSize)
	}
}

func TestComputeFileGrewAfterScan(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "a.js"), []byte("short"))
	tree, err := Scan(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	grown := []byte("much longer than at scan time\r\n")
	writeFile(t, filepath.Join(root, "a.js"), grown)

	sum, err := tree.Sum(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want, wantSize, _ := referenceChecksum(map[string][]byte{"a.js": grown})
	if sum.Checksum != want || sum.Size != wantSize {
		t.Errorf("sum = %d/%d, want %d/%d (the content read)", sum.Checksum, sum.Size, want, wantSize)
	}
}

func TestComputeOpenError(t *testing.T) {
	files := map[string][]byte{"a.js": []byte("a")}
	for i := range 1000 {
		files[fmt.Sprintf("f%04d.js", i)] = []byte("x")
	}
	paths := []string{"missing.js"}
	for p := range files {
		paths = append(paths, p)
	}
	_, err := Compute(context.Background(), paths, memOpener(files, map[string]int{}))
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v, want a not-exist error", err)
	}
	if !strings.Contains(err.Error(), "missing.js") {
		t.Errorf("error %q does not name missing.js", err)
	}
}

func TestComputeCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Compute(ctx, []string{"a.js"}, memOpener(map[string][]byte{"a.js": nil}, map[string]int{}))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestComputeEmptyTree(t *testing.T) {
	sum, err := Compute(context.Background(), nil, memOpener(nil, map[string]int{}))
	if err != nil {
		t.Fatal(err)
	}
	want := crc32.Update(crc32.Update(0, crc32.IEEETable, []byte("/filelist")), crc32.IEEETable, []byte("/filelist"))
	if string(sum.FileList) != "/filelist" || sum.Size != 9 || sum.Checksum != want {
		t.Errorf("sum = %+v, want filelist %q size 9 checksum %d", sum, "/filelist", want)
	}
}

func TestLessUTF16Order(t *testing.T) {
	// U+FF5E (one code unit 0xFF5E) sorts after U+1F600 (surrogates
	// 0xD83D 0xDE00) in JavaScript, although its UTF-8 bytes sort first.
	cases := []struct {
		a, b string
		want bool
	}{
		{"a", "b", true},
		{"a", "a", false},
		{"a", "a/b", true},
		{"a/b", "a-b", false},
		{"A", "a", true},
		{"\U0001F600", "\uFF5E", true},
		{"\uFF5E", "\U0001F600", false},
		{"\u00e9", "\U0001F600", true},
		{"\U0001F600", "\U0001F601", true},
	}
	for _, c := range cases {
		if got := Less(c.a, c.b); got != c.want {
			t.Errorf("Less(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

func BenchmarkTreeSum(b *testing.B) {
	tree, total := largeTree(b)
	b.SetBytes(total)
	b.ResetTimer()
	for b.Loop() {
		if _, err := tree.Sum(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTreeSumPeakHeap reports the peak growth of live heap objects
// during Sum as peak-heap-MB, sampled every 100µs, so it may miss short
// peaks. It stays near the read window whatever the tree size.
func BenchmarkTreeSumPeakHeap(b *testing.B) {
	tree, _ := largeTree(b)
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak uint64
	b.ResetTimer()
	for b.Loop() {
		runtime.GC()
		metrics.Read(sample)
		base := sample[0].Value.Uint64()

		done := make(chan struct{})
		sampled := make(chan uint64)
		go func() {
			var max uint64
			ticker := time.NewTicker(100 * time.Microsecond)
			defer ticker.Stop()
			for {
				s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
				metrics.Read(s)
				if v := s[0].Value.Uint64(); v > base && v-base > max {
					max = v - base
				}
				select {
				case <-done:
					sampled <- max
					return
				case <-ticker.C:
				}
			}
		}()
		_, err := tree.Sum(context.Background())
		close(done)
		peak = max(peak, <-sampled)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}

// largeTree writes about 10,000 files and 85 MB, shaped like a large app:
// many small scripts, a few hundred medium files and ten 4 MB bundles, all
// with CRLF line endings so that every byte takes the '\r'-stripping path.
func largeTree(b *testing.B) (*Tree, int64) {
	b.Helper()
	root := b.TempDir()
	var total int64
	for i := range 10000 {
		size := 3 << 10
		switch {
		case i%1000 == 0:
			size = 4 << 20
		case i%40 == 0:
			size = 64 << 10
		}
		content := bytes.Repeat([]byte("console.log(1);\r\n"), size/17+1)[:size]
		path := filepath.Join(root, fmt.Sprintf("d%02d/f%05d.js", i%50, i))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(path, content, 0o644); err != nil {
			b.Fatal(err)
		}
		total += int64(size)
	}
	tree, err := Scan(context.Background(), root)
	if err != nil {
		b.Fatal(err)
	}
	return tree, total
}

func BenchmarkScan(b *testing.B) {
	root := b.TempDir()
	for i := range 10000 {
		path := filepath.Join(root, fmt.Sprintf("d%02d/f%05d.js", i%50, i))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := Scan(context.Background(), root); err != nil {
			b.Fatal(err)
		}
	}
}

func TestSampleProjectChecksums(t *testing.T) {
	data, err := os.ReadFile("../../testdata/sample-checksums.json")
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]struct {
		Checksum uint32 `json:"checksum"`
		Size     int64  `json:"size"`
	}
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	folders := map[string]string{
		"android": "../../testdata/sample/platforms/android/app/src/main/assets/www",
		"ios":     "../../testdata/sample/platforms/ios/www",
	}
	for platform, folder := range folders {
		tree, err := Scan(context.Background(), folder)
		if err != nil {
			t.Fatalf("%s: %v", platform, err)
		}
		sum, err := tree.Sum(context.Background())
		if err != nil {
			t.Fatalf("%s: %v", platform, err)
		}
		if sum.Checksum != want[platform].Checksum {
			t.Errorf("%s: checksum = %d, want %d", platform, sum.Checksum, want[platform].Checksum)
		}
		if sum.Size != want[platform].Size {
			t.Errorf("%s: size = %d, want %d", platform, sum.Size, want[platform].Size)
		}
	}
}

// trackedReader counts the readers that are still open.
type trackedReader struct {
	io.Reader
	open *atomic.Int64
}

func (r trackedReader) Close() error {
	r.open.Add(-1)
	return nil
}

func TestComputeErrorClosesReaders(t *testing.T) {
	big := bytes.Repeat([]byte("x"), streamAbove+100)
	var open atomic.Int64
	var paths []string
	for i := range 40 {
		paths = append(paths, fmt.Sprintf("big%02d.bin", i))
	}
	opener := func(p string) (io.ReadCloser, error) {
		if p == "big05.bin" {
			return nil, errors.New("disk on fire")
		}
		open.Add(1)
		return trackedReader{bytes.NewReader(big), &open}, nil
	}

	_, err := Compute(context.Background(), paths, opener)
	if err == nil || !strings.Contains(err.Error(), "big05.bin") {
		t.Fatalf("err = %v, want one naming big05.bin", err)
	}
	if n := open.Load(); n != 0 {
		t.Errorf("%d readers left open after the error", n)
	}
}

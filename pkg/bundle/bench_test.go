package bundle

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

// benchTree is a generated www tree shared by the benchmarks of one run:
// about 10,000 files and 85 MB, mostly text, with images, fonts and a few
// large files.
var benchTree struct {
	once sync.Once
	dir  string
	srcs []SourceFile
	meta Metadata
	err  error
}

// generateTree writes a Cordova-like www tree of about n files and total
// bytes under dir, reproducibly from seed.
func generateTree(dir string, n int, total int64, seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	avg := total / int64(n)

	for i := range n {
		var name string
		var content []byte
		size := int(rng.ExpFloat64() * float64(avg) * 0.8)
		if i%1000 == 999 {
			size = 2<<20 + rng.IntN(2<<20)
		}

		switch k := rng.IntN(10); {
		case k < 6:
			name = fmt.Sprintf("js/mod%02d/file%05d.js", i%50, i)
			content = textBytes(rng, size)
		case k < 7:
			name = fmt.Sprintf("css/style%05d.css", i)
			content = textBytes(rng, size)
		case k < 9:
			name = fmt.Sprintf("img/set%02d/pic%05d.png", i%20, i)
			content = randomBytes(rng, size)
		default:
			name = fmt.Sprintf("fonts/font%05d.woff2", i)
			content = randomBytes(rng, size)
		}

		full := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(full, content, 0o644); err != nil {
			return err
		}
	}

	return nil
}

func loadBenchTree(b *testing.B) {
	benchTree.once.Do(func() {
		dir, err := os.MkdirTemp("", "mfpdev-bench-*")
		if err != nil {
			benchTree.err = err
			return
		}
		benchTree.dir = dir
		www := filepath.Join(dir, "www")
		if err := generateTree(www, 10_000, 85<<20, 42); err != nil {
			benchTree.err = err
			return
		}
		benchTree.srcs, benchTree.meta = makeTree(b, www, map[string][]byte{"index.html": []byte("<html></html>")})
	})
	if benchTree.err != nil {
		b.Fatal(benchTree.err)
	}
}

// BenchmarkWriteArchives writes the generated tree as one archive, and as
// two archives (two platforms with the same files). It reports the archive
// size and the peak RSS of the process.
func BenchmarkWriteArchives(b *testing.B) {
	loadBenchTree(b)
	b.Cleanup(func() { os.RemoveAll(benchTree.dir) })

	for _, platforms := range []int{1, 2} {
		b.Run(fmt.Sprintf("platforms=%d", platforms), func(b *testing.B) {
			out := b.TempDir()
			var jobs []Job
			var unpacked int64
			for p := range platforms {
				jobs = append(jobs, Job{Dest: filepath.Join(out, fmt.Sprintf("app-%d.zip", p)), Files: benchTree.srcs, Meta: benchTree.meta})
			}

			var packed int64
			for b.Loop() {
				res, err := WriteArchives(context.Background(), jobs, WriteOptions{ModTime: testModTime, Progress: func(n int64) { unpacked = n }})
				if err != nil {
					b.Fatal(err)
				}
				packed = res[0].PackedSize
			}

			b.SetBytes(unpacked)
			b.ReportMetric(float64(packed), "zip-bytes")
			b.ReportMetric(float64(peakRSS())/(1<<20), "peak-RSS-MB")
		})
	}
}

// peakRSS returns the maximum resident set size of the process in bytes.
func peakRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}

	return ru.Maxrss * 1024
}

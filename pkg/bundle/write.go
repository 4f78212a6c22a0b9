package bundle

import (
	"archive/zip"
	"bufio"
	"context"
	"crypto"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"
)

// Job is one archive to write.
type Job struct {
	Dest  string       // final archive path, written to a temp file and renamed
	Files []SourceFile // the www files, in any order
	// Meta carries the identity of the archive and the web-resources
	// Checksum and Size, set by the caller. The writer sets FormatVersion,
	// Files, UnpackedSize and Digests.
	Meta Metadata
}

// SourceFile is one file to write under www/. When DiskPath is empty the
// entry holds Content, which may be empty.
type SourceFile struct {
	Path     string // relative to www/, '/'-separated
	DiskPath string // read from disk, or
	Content  []byte // used as is (filelist, checksum.js)
}

// WriteOptions are the settings shared by every archive of one call.
type WriteOptions struct {
	Signer  crypto.Signer // nil: unsigned (the comment is still 512 spaces)
	ModTime time.Time     // every entry's time, in UTC (zero means 1980-01-01)
	// Progress, when set, receives the number of bytes read so far. It is
	// called from one goroutine at a time.
	Progress func(n int64)
	// Level is the Deflate level, from 1 (fastest) to 9 (smallest); 0
	// means DefaultLevel.
	Level int
}

// validate rejects a Level outside 0 to 9.
func (o WriteOptions) validate() error {
	if o.Level < 0 || o.Level > 9 {
		return fmt.Errorf("compression level %d is invalid: use 1 (fastest) to 9 (smallest), or 0 for the default %d", o.Level, DefaultLevel)
	}

	return nil
}

// level returns the Deflate level to write with.
func (o WriteOptions) level() int {
	if o.Level == 0 {
		return DefaultLevel
	}

	return o.Level
}

// Result describes one archive written.
type Result struct {
	Path       string // Job.Dest
	PackedSize int64  // size of the archive file in bytes
	SHA256     string // lowercase hex SHA-256 of the final file
	Signed     bool
}

// WriteArchives writes the archives of jobs, typically the platforms of
// one project. A file that several jobs contain with the same path and the
// same content is read and compressed once. Each archive is written to a
// temp file beside its destination and renamed over it only once every
// archive is complete. On error or cancellation no temp file remains and
// the previous archives are untouched. Results are in the order of jobs.
func WriteArchives(ctx context.Context, jobs []Job, opts WriteOptions) ([]Result, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	items, err := planItems(jobs)
	if err != nil {
		return nil, err
	}

	outs, err := createOutputs(jobs, opts)
	if err != nil {
		return nil, err
	}

	results, err := writeAll(ctx, items, outs, opts)
	if err != nil {
		for _, o := range outs {
			o.discard()
		}

		return nil, err
	}

	for _, o := range outs {
		if err := o.commit(); err != nil {
			for _, o := range outs {
				o.discard()
			}

			return nil, err
		}
	}

	return results, nil
}

// writeAll runs the compression pipeline and finishes every archive.
func writeAll(ctx context.Context, items []*item, outs []*output, opts WriteOptions) ([]Result, error) {
	spillDir := filepath.Dir(outs[0].job.Dest)
	if err := runPipeline(ctx, items, outs, spillDir, opts); err != nil {
		return nil, err
	}

	results := make([]Result, len(outs))
	for i, o := range outs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}

		res, err := o.finish(opts.Signer)
		if err != nil {
			return nil, fmt.Errorf("write archive %s: %w", o.job.Dest, err)
		}
		results[i] = res
	}

	return results, nil
}

// Memory bounds of the pipeline. The window caps the bytes held by files
// of up to smallMax bytes, read or compressed but not yet written. Larger
// files are streamed through a spill file and hold fixed-size buffers.
const (
	windowBytes   = 4 << 20
	windowToken   = 16 << 10
	smallMax      = 1 << 20
	largeFileCost = 512 << 10
)

// task is one item in flight: the dispatcher creates it, a worker fills
// done, and the archive writer consumes it in item order.
type task struct {
	item   *item
	tokens int
	done   chan *itemResult
}

// runPipeline reads and compresses items with GOMAXPROCS workers and
// appends them to the archives in item order.
func runPipeline(ctx context.Context, items []*item, outs []*output, spillDir string, opts WriteOptions) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	workers := max(1, min(runtime.GOMAXPROCS(0), len(items)))
	order := make(chan *task, len(items))
	work := make(chan *task, workers)
	window := make(chan struct{}, windowBytes/windowToken)

	go dispatch(ctx, items, order, work, window)

	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()

			enc := newEncoder(spillDir, opts.level())
			for t := range work {
				t.done <- enc.encodeItem(ctx, t.item)
			}
		}()
	}

	var firstErr error
	var read int64
	for t := range order {
		res := <-t.done
		if firstErr == nil {
			firstErr = res.err
		}
		if firstErr == nil {
			firstErr = writeItem(t.item, res, outs)
		}
		if firstErr != nil {
			cancel()
		}

		res.release()
		for range t.tokens {
			<-window
		}

		read += res.read
		if opts.Progress != nil && res.read > 0 && firstErr == nil {
			opts.Progress(read)
		}
	}
	wg.Wait()

	if firstErr != nil {
		return firstErr
	}

	// The dispatcher stops early only when ctx is done.
	return ctx.Err()
}

// dispatch hands items to the workers in order, holding window tokens for
// each until the writer has consumed it.
func dispatch(ctx context.Context, items []*item, order, work chan<- *task, window chan struct{}) {
	defer close(order)
	defer close(work)

	for _, it := range items {
		tokens := int(min(it.cost, windowBytes)+windowToken-1) / windowToken
		tokens = max(tokens, 1)

		for i := range tokens {
			select {
			case window <- struct{}{}:
			case <-ctx.Done():
				for range i {
					<-window
				}

				return
			}
		}

		t := &task{item: it, tokens: tokens, done: make(chan *itemResult, 1)}
		order <- t
		work <- t
	}
}

// writeItem appends the entry of one path to every archive that has it.
func writeItem(it *item, res *itemResult, outs []*output) error {
	for i, src := range it.sources {
		o := outs[src.job]
		b := res.blobs[res.blobOf[i]]
		if err := o.writeEntry(it.path, b); err != nil {
			return fmt.Errorf("write archive %s: %s: %w", o.job.Dest, it.path, err)
		}
	}

	return nil
}

// output is one archive being written to its temp file.
type output struct {
	job     *Job
	modTime time.Time
	level   int // Deflate level of the root files
	file    *os.File
	hasher  *tailHasher
	buf     *bufio.Writer
	zw      *zip.Writer
	digests []FileDigest
	total   int64
	done    bool
}

func hexSum(b []byte) string { return hex.EncodeToString(b) }

var errNoJobs = errors.New("write archives: no archive to write")

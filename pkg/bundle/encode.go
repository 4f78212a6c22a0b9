package bundle

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path"
	"strings"

	"github.com/klauspost/compress/flate"
)

// DefaultLevel is the Deflate level of klauspost/compress/flate used when
// WriteOptions.Level is 0: the best ratio of its fast encoders (levels 1
// to 6). On an Ionic app of 13,590 files and 85 MB, on 2 cores, the archive
// was 1.045 times the size of Info-ZIP "zip -6"'s in 0.32 times its wall
// time. Level 7 gave 1.026 times in 0.45, and level 8 1.011 times in 0.56
// (docs/benchmarks.md).
const DefaultLevel = 6

// storedExtensions lists file types that are already compressed: deflating
// them costs time and saves next to nothing, so they are stored.
var storedExtensions = map[string]bool{
	".png": true, ".jpg": true, ".jpeg": true, ".gif": true, ".webp": true,
	".woff": true, ".woff2": true,
	".gz": true, ".tgz": true, ".zip": true, ".bz2": true, ".xz": true,
	".zst": true, ".br": true, ".7z": true, ".jar": true, ".apk": true,
	".mp3": true, ".mp4": true, ".m4a": true, ".m4v": true, ".aac": true,
	".ogg": true, ".oga": true, ".ogv": true, ".opus": true, ".webm": true,
	".mov": true,
}

func isCompressedType(name string) bool {
	return storedExtensions[strings.ToLower(path.Ext(name))]
}

// blob is the encoded form of one file content, written into every
// archive that has this content at this path.
type blob struct {
	method uint16
	crc    uint32
	size   int64
	packed int64
	sum    [sha256.Size]byte

	data   []byte   // the bytes to write, or
	spill  *os.File // a temp file with the deflated bytes, or
	reread *source  // a stored file, copied again from its source
}

// itemResult is the outcome of encoding one item.
type itemResult struct {
	blobs  []*blob
	blobOf []int // index into blobs for each source of the item
	read   int64 // bytes read from the sources
	err    error
}

// release removes the spill files of r.
func (r *itemResult) release() {
	for _, b := range r.blobs {
		if b.spill != nil {
			b.spill.Close()
			os.Remove(b.spill.Name())
		}
	}
}

// encoder is the state of one worker: reusable read and output buffers
// and Deflate compressor.
type encoder struct {
	spillDir string
	in       []byte
	out      bytes.Buffer
	fw       *flate.Writer
	chunk    []byte
}

// newEncoder returns a worker's encoder. level must be a valid Deflate
// level, which WriteOptions.validate checks.
func newEncoder(spillDir string, level int) *encoder {
	fw, err := flate.NewWriter(io.Discard, level)
	if err != nil {
		panic(err)
	}

	return &encoder{spillDir: spillDir, fw: fw}
}

// encodeItem encodes the sources of one item. Sources with the same size
// and SHA-256 share one blob, so they are compressed once.
func (e *encoder) encodeItem(ctx context.Context, it *item) *itemResult {
	res := &itemResult{blobOf: make([]int, len(it.sources))}

	for i := range it.sources {
		if err := ctx.Err(); err != nil {
			res.err = err
			return res
		}

		src := &it.sources[i]
		shared, err := e.findShared(src, res)
		if err != nil {
			res.err = fmt.Errorf("read %s: %w", src.name(), err)
			return res
		}
		if shared >= 0 {
			res.blobOf[i] = shared
			continue
		}

		b, err := e.encode(ctx, src, it.path)
		if err != nil {
			res.err = fmt.Errorf("read %s: %w", src.name(), err)
			return res
		}
		res.read += b.size
		res.blobs = append(res.blobs, b)
		res.blobOf[i] = len(res.blobs) - 1
	}

	return res
}

// findShared returns the index of a blob already encoded with the content
// of src, or -1.
func (e *encoder) findShared(src *source, res *itemResult) (int, error) {
	candidate := false
	for _, b := range res.blobs {
		candidate = candidate || b.size == src.size
	}
	if !candidate {
		return -1, nil
	}

	r, err := src.open()
	if err != nil {
		return -1, err
	}
	defer r.Close()

	h := sha256.New()
	n, err := copyChunks(context.Background(), h, r, e.chunkBuffer())
	if err != nil {
		return -1, err
	}
	res.read += n

	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	for i, b := range res.blobs {
		if b.size == n && b.sum == sum {
			return i, nil
		}
	}

	return -1, nil
}

// encode reads one source and compresses it, in memory when it is small
// and through a spill file otherwise.
func (e *encoder) encode(ctx context.Context, src *source, name string) (*blob, error) {
	if src.file.DiskPath == "" {
		return e.encodeBytes(src.file.Content, name, false), nil
	}
	if src.size > smallMax {
		return e.encodeLarge(ctx, src, name)
	}

	f, err := os.Open(src.file.DiskPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()

	if cap(e.in) < int(src.size)+1 {
		e.in = make([]byte, src.size+1)
	}
	// Read one byte more than expected to notice a file that grew.
	n, err := io.ReadFull(f, e.in[:src.size+1])
	if err != io.ErrUnexpectedEOF && err != io.EOF && err != nil {
		return nil, err
	}
	if int64(n) != src.size {
		return nil, fmt.Errorf("file changed while the archive was written (%d bytes, expected %d): run the command again", n, src.size)
	}

	return e.encodeBytes(e.in[:n], name, true), nil
}

// encodeBytes compresses data, storing it when Deflate does not shrink it.
// With scratch set, data is reused by the caller and must be copied. The
// blob holds an exactly sized copy, so the bytes in flight are the bytes
// the window accounts for.
func (e *encoder) encodeBytes(data []byte, name string, scratch bool) *blob {
	b := &blob{size: int64(len(data)), crc: crc32.ChecksumIEEE(data), sum: sha256.Sum256(data)}

	if !isCompressedType(name) && len(data) > 0 {
		e.out.Reset()
		e.fw.Reset(&e.out)
		e.fw.Write(data) // writes to a bytes.Buffer return no error
		e.fw.Close()
		if e.out.Len() < len(data) {
			b.method, b.data, b.packed = zip.Deflate, bytes.Clone(e.out.Bytes()), int64(e.out.Len())
			return b
		}
	}

	b.method, b.packed, b.data = zip.Store, b.size, data
	if scratch {
		b.data = bytes.Clone(data)
	}

	return b
}

// encodeLarge streams a large file: it computes its CRC-32 and SHA-256 and
// deflates it into a spill file. When Deflate does not shrink the file, the
// spill file is dropped and the writer copies the file again.
func (e *encoder) encodeLarge(ctx context.Context, src *source, name string) (*blob, error) {
	f, err := os.Open(src.file.DiskPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()

	b := &blob{size: src.size}
	crc := crc32.NewIEEE()
	sum := sha256.New()
	sinks := []io.Writer{crc, sum}

	var spill *os.File
	var spillBuf *bufio.Writer
	if !isCompressedType(name) {
		spill, err = os.CreateTemp(e.spillDir, ".mfpdev-spill-*.tmp")
		if err != nil {
			return nil, err
		}
		spillBuf = bufio.NewWriterSize(spill, 64<<10)
		e.fw.Reset(spillBuf)
		sinks = append(sinks, e.fw)
	}
	dropSpill := func() {
		if spill != nil {
			spill.Close()
			os.Remove(spill.Name())
		}
	}

	n, err := copyChunks(ctx, io.MultiWriter(sinks...), f, e.chunkBuffer())
	if err == nil && n != src.size {
		err = fmt.Errorf("file changed while the archive was written (%d bytes, expected %d): run the command again", n, src.size)
	}
	if err == nil && spill != nil {
		err = closeSpill(e.fw, spillBuf)
	}
	if err != nil {
		dropSpill()
		return nil, err
	}

	b.crc = crc.Sum32()
	sum.Sum(b.sum[:0])

	if spill != nil {
		packed, err := spill.Seek(0, io.SeekCurrent)
		if err != nil {
			dropSpill()
			return nil, err
		}
		if packed < b.size {
			b.method, b.packed, b.spill = zip.Deflate, packed, spill
			return b, nil
		}
		dropSpill()
	}

	b.method, b.packed, b.reread = zip.Store, b.size, src

	return b, nil
}

// chunkBuffer returns the worker's buffer for streamed reads. The standard
// io.Copy would allocate 32 KiB per file instead.
func (e *encoder) chunkBuffer() []byte {
	if e.chunk == nil {
		e.chunk = make([]byte, 256<<10)
	}

	return e.chunk
}

func closeSpill(fw *flate.Writer, buf *bufio.Writer) error {
	if err := fw.Close(); err != nil {
		return err
	}

	return buf.Flush()
}

// copyChunks copies r to w with buf, checking ctx between chunks.
func copyChunks(ctx context.Context, w io.Writer, r io.Reader, buf []byte) (int64, error) {
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}

		n, err := r.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return total, werr
			}
			total += int64(n)
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

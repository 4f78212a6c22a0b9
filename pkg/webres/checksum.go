package webres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"math/bits"
	"os"
	"slices"
	"strings"
	"sync"
)

// Sum is the web-resources checksum of a tree and what it was computed over.
type Sum struct {
	Checksum uint32   // CRC-32 (IEEE) as the device reports it
	Size     int64    // raw bytes of the included files, filelist included
	Paths    []string // included paths in checksum order, filelist included
	FileList []byte   // content of the filelist file to ship
}

// Tuning of the read pipeline. File contents read ahead stay within
// readWindow, held in buffers rounded up to a power of two (so at most
// twice that), plus one streamBuffer and a 64 KiB scratch buffer,
// whatever the size of the tree.
const (
	readWorkers  = 8         // files read at the same time
	readAhead    = 256       // files read ahead of the CRC, at most
	readWindow   = 16 << 20  // bytes read ahead of the CRC, at most
	streamAbove  = 4 << 20   // files larger than this are streamed
	streamBuffer = 256 << 10 // chunk size when streaming
	sizeUnknown  = int64(-1)
)

// source is one checksummed path and how to read it.
type source struct {
	path    string
	size    int64 // expected size, or sizeUnknown
	content []byte
	open    func() (io.ReadCloser, error) // nil when content is used
}

// Compute returns the web-resources checksum of a tree whose regular files
// are paths ('/'-separated, relative to www, any order). open is called
// once for each included path, from several goroutines at once, and may
// return a reader with a Stat method (like *os.File) to size its buffer.
// The content of "filelist" is synthesized and never read through open.
func Compute(ctx context.Context, paths []string, open func(path string) (io.ReadCloser, error)) (Sum, error) {
	sizes := make(map[string]int64, len(paths))
	for _, p := range paths {
		sizes[p] = sizeUnknown
	}
	return compute(ctx, sizes, func(p string) func() (io.ReadCloser, error) {
		return func() (io.ReadCloser, error) { return open(p) }
	})
}

// Sum computes the web-resources checksum of the scanned files.
func (t *Tree) Sum(ctx context.Context) (Sum, error) {
	sizes := make(map[string]int64, len(t.Files))
	disk := make(map[string]string, len(t.Files))
	for _, f := range t.Files {
		sizes[f.Path] = f.Size
		disk[f.Path] = f.DiskPath
	}
	return compute(ctx, sizes, func(p string) func() (io.ReadCloser, error) {
		return func() (io.ReadCloser, error) { return os.Open(disk[p]) }
	})
}

// compute orders the paths, builds the filelist and runs the CRC.
func compute(ctx context.Context, sizes map[string]int64, opener func(string) func() (io.ReadCloser, error)) (Sum, error) {
	sizes[FileListName] = 0
	paths := make([]string, 0, len(sizes))
	for p := range sizes {
		if !ExcludedFromChecksum(p) {
			paths = append(paths, p)
		}
	}
	slices.SortFunc(paths, func(a, b string) int {
		switch {
		case Less(a, b):
			return -1
		case Less(b, a):
			return 1
		}
		return 0
	})

	fileList := []byte("/" + strings.Join(paths, "\n/"))
	sources := make([]source, len(paths))
	for i, p := range paths {
		if p == FileListName {
			sources[i] = source{path: p, size: int64(len(fileList)), content: fileList}
			continue
		}
		sources[i] = source{path: p, size: sizes[p], open: opener(p)}
	}

	checksum, size, err := crcSources(ctx, sources)
	if err != nil {
		return Sum{}, err
	}
	return Sum{Checksum: checksum, Size: size, Paths: paths, FileList: fileList}, nil
}

// chunk is the head of one file, read ahead of the CRC. When rest is not
// nil the file continues there and the consumer streams it.
type chunk struct {
	data     []byte
	pooled   bool // data came from getBuffer
	rest     io.ReadCloser
	reserved int64 // bytes of the window held until the CRC is done
	err      error
}

// crcSources reads the sources with a few goroutines into an ordered
// window bounded in files and bytes, and feeds one sequential CRC.
func crcSources(ctx context.Context, sources []source) (uint32, int64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r := startReaders(ctx, sources)
	defer r.stop(cancel)

	h := newStripCRC()
	var size int64
	for i, s := range sources {
		var c chunk
		select {
		case c = <-r.slot(i):
		case <-ctx.Done():
			return 0, 0, ctx.Err()
		}
		if c.err != nil {
			return 0, 0, c.err
		}

		h.write(c.data)
		size += int64(len(c.data))
		if c.rest != nil {
			n, err := h.stream(ctx, c.rest)
			c.rest.Close()
			size += n
			if err != nil {
				return 0, 0, fmt.Errorf("read %s: %w", s.path, err)
			}
		}
		if c.pooled {
			putBuffer(c.data)
		}
		r.done(c)

		h.writePath(s.path)
	}
	return h.crc, size, nil
}

// readers reads sources ahead of the CRC. Source i arrives on slot(i), and
// the consumer takes the sources in order and calls done for each.
type readers struct {
	sources []source
	window  *byteWindow
	slots   []chan chunk  // source i goes to slots[i%readAhead]
	tickets chan struct{} // one per source dispatched and not yet done
	wg      sync.WaitGroup
}

type readJob struct {
	index    int
	reserved int64
}

func startReaders(ctx context.Context, sources []source) *readers {
	r := &readers{
		sources: sources,
		window:  newByteWindow(readWindow),
		slots:   make([]chan chunk, readAhead),
		tickets: make(chan struct{}, readAhead),
	}
	for i := range r.slots {
		r.slots[i] = make(chan chunk, 1)
	}

	jobs := make(chan readJob)
	r.wg.Go(func() { r.dispatch(ctx, jobs) })
	for range readWorkers {
		r.wg.Go(func() {
			for j := range jobs {
				r.slot(j.index) <- readHead(ctx, r.sources[j.index], j.reserved, r.window)
			}
		})
	}
	return r
}

// dispatch hands out the sources in order once a ticket and their share of
// the window are free. A slot is empty when its source is dispatched,
// because the source readAhead positions earlier is already done.
func (r *readers) dispatch(ctx context.Context, jobs chan<- readJob) {
	defer close(jobs)
	for i, s := range r.sources {
		reserve := s.size
		if reserve < 0 || reserve > streamAbove {
			reserve = streamAbove
		}
		select {
		case r.tickets <- struct{}{}:
		case <-ctx.Done():
			return
		}
		if r.window.acquire(ctx, reserve) != nil {
			return
		}
		select {
		case jobs <- readJob{i, reserve}:
		case <-ctx.Done():
			r.window.release(reserve)
			return
		}
	}
}

func (r *readers) slot(i int) chan chunk { return r.slots[i%readAhead] }

// done returns the window share and the ticket of a consumed chunk.
func (r *readers) done(c chunk) {
	r.window.release(c.reserved)
	<-r.tickets
}

// stop cancels the readers, waits for them and closes the files a failure
// left unread.
func (r *readers) stop(cancel context.CancelFunc) {
	cancel()
	r.wg.Wait()
	for _, slot := range r.slots {
		select {
		case c := <-slot:
			if c.rest != nil {
				c.rest.Close()
			}
			if c.pooled {
				putBuffer(c.data)
			}
		default:
		}
	}
}

// readHead reads a source up to reserved bytes. A longer file is handed on
// open, with what was read so far, for the consumer to stream.
func readHead(ctx context.Context, s source, reserved int64, window *byteWindow) chunk {
	if s.open == nil {
		return chunk{data: s.content, reserved: reserved}
	}
	if err := ctx.Err(); err != nil {
		window.release(reserved)
		return chunk{err: err}
	}

	rc, err := s.open()
	if err != nil {
		window.release(reserved)
		return chunk{err: fmt.Errorf("read %s: %w", s.path, err)}
	}

	capacity := reserved
	if s.size < 0 {
		if st, ok := rc.(interface{ Stat() (fs.FileInfo, error) }); ok {
			if info, err := st.Stat(); err == nil && info.Mode().IsRegular() && info.Size() < capacity {
				capacity = info.Size()
			}
		}
	}
	buf := getBuffer(int(capacity))
	n, err := io.ReadFull(rc, buf)
	if err == nil {
		// A full buffer may be the whole file or the head of a file that
		// grew since it was sized. Reading one more byte distinguishes them.
		var probe [1]byte
		if _, err = io.ReadFull(rc, probe[:]); err == nil {
			rest := struct {
				io.Reader
				io.Closer
			}{io.MultiReader(bytes.NewReader(probe[:]), rc), rc}
			return chunk{data: buf, pooled: true, rest: rest, reserved: reserved}
		}
	}
	rc.Close()
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		window.release(reserved - int64(n))
		return chunk{data: buf[:n], pooled: true, reserved: int64(n)}
	}
	putBuffer(buf)
	window.release(reserved)
	return chunk{err: fmt.Errorf("read %s: %w", s.path, err)}
}

// bufferPools hold read buffers by size class: class c has capacity 1<<c.
// Reusing them keeps Sum from allocating the size of the tree.
var bufferPools [23]sync.Pool // up to 4 MiB, the largest head read

const minBufferClass = 12 // 4 KiB

func bufferClass(n int) int {
	return max(bits.Len(uint(n-1)), minBufferClass)
}

// getBuffer returns a buffer of length n, from a pool when one fits.
func getBuffer(n int) []byte {
	if n == 0 {
		return nil
	}
	c := bufferClass(n)
	if c >= len(bufferPools) {
		return make([]byte, n)
	}
	if b, ok := bufferPools[c].Get().(*[]byte); ok {
		return (*b)[:n]
	}
	return make([]byte, n, 1<<c)
}

// putBuffer returns a buffer from getBuffer to its pool.
func putBuffer(b []byte) {
	if cap(b) == 0 {
		return
	}
	c := bufferClass(cap(b))
	if c >= len(bufferPools) || cap(b) != 1<<c {
		return
	}
	b = b[:cap(b)]
	bufferPools[c].Put(&b)
}

// stripCRC is a running CRC-32 (IEEE) that skips every '\r' byte of file
// content, as the plugin's checksum does.
type stripCRC struct {
	crc     uint32
	scratch []byte // content without '\r', gathered for fewer CRC calls
	buf     []byte // read buffer for streamed files
}

func newStripCRC() *stripCRC {
	return &stripCRC{scratch: make([]byte, 0, 64<<10), buf: make([]byte, streamBuffer)}
}

// stream feeds r to the CRC until EOF and returns the bytes read.
func (h *stripCRC) stream(ctx context.Context, r io.Reader) (int64, error) {
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		n, err := r.Read(h.buf)
		h.write(h.buf[:n])
		total += int64(n)
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

func (h *stripCRC) write(p []byte) {
	if bytes.IndexByte(p, '\r') < 0 {
		h.crc = crc32.Update(h.crc, crc32.IEEETable, p)
		return
	}
	out := h.scratch[:0]
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\r')
		if i < 0 {
			i = len(p)
		}
		if len(out)+i > cap(out) {
			h.crc = crc32.Update(h.crc, crc32.IEEETable, out)
			out = out[:0]
		}
		if i >= cap(out) {
			h.crc = crc32.Update(h.crc, crc32.IEEETable, p[:i])
		} else {
			out = append(out, p[:i]...)
		}
		if i < len(p) {
			i++ // skip the '\r'
		}
		p = p[i:]
	}
	h.crc = crc32.Update(h.crc, crc32.IEEETable, out)
}

func (h *stripCRC) writePath(path string) {
	h.crc = crc32.Update(h.crc, crc32.IEEETable, []byte("/"+path))
}

// byteWindow bounds the bytes read ahead of the CRC. Only the dispatcher
// acquires, in file order, so the file the CRC waits for always fits.
type byteWindow struct {
	mu   sync.Mutex
	free int64
	wake chan struct{}
}

func newByteWindow(n int64) *byteWindow {
	return &byteWindow{free: n, wake: make(chan struct{}, 1)}
}

func (w *byteWindow) acquire(ctx context.Context, n int64) error {
	for {
		w.mu.Lock()
		if w.free >= n {
			w.free -= n
			w.mu.Unlock()
			return nil
		}
		w.mu.Unlock()
		select {
		case <-w.wake:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (w *byteWindow) release(n int64) {
	w.mu.Lock()
	w.free += n
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

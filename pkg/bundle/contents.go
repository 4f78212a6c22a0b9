package bundle

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"

	"github.com/klauspost/compress/flate"

	"github.com/mfpdev/mfpdev/pkg/webres"
)

// checkContents reads every entry once and checks the metadata, the
// digests and the web-resources checksum against the content. It returns
// the metadata, nil when missing or unreadable, and the checksum that
// checksum.js carries.
func (rd *reader) checkContents() (*Metadata, uint32) {
	rd.zr.RegisterDecompressor(zip.Deflate, func(r io.Reader) io.ReadCloser { return flate.NewReader(r) })

	for _, name := range []string{MetadataName, DDUScriptName, "www/" + webres.FileListName, "www/" + webres.ChecksumJSPath} {
		if es := rd.byName[name]; es != nil {
			es.keep = true
		}
	}

	// A delta archive's www/ holds only changed files, so its checksum
	// cannot be computed without the base archive.
	delta := rd.byName[DDUScriptName] != nil
	var sum *webres.Sum
	if len(rd.problems) == 0 && !delta {
		sum = rd.computeChecksum()
	}
	rd.readRemaining()

	meta := rd.checkMetadata()
	var checksumJS uint32
	if !delta {
		checksumJS = rd.checkWebResources(meta, sum)
	}
	if meta != nil {
		rd.checkDigests(meta)
	}
	if delta {
		checksumJS = rd.checkDelta(meta)
	} else if meta != nil && meta.BaseChecksum != nil {
		rd.problem(MetadataName, "baseChecksum set, but the archive has no %s: only a delta archive has a base", DDUScriptName)
	}

	return meta, checksumJS
}

// computeChecksum computes the web-resources checksum of the www/ files,
// hashing each entry as the computation reads it.
func (rd *reader) computeChecksum() *webres.Sum {
	var paths []string
	for _, es := range rd.entries {
		if es.valid && es.entry.Path != "" && !es.entry.Dir {
			paths = append(paths, es.entry.Path)
		}
	}

	open := func(path string) (io.ReadCloser, error) {
		es := rd.byName["www/"+path]
		return rd.openEntry(es)
	}
	sum, err := webres.Compute(rd.ctx, paths, open)

	failed := false
	for _, es := range rd.entries {
		if es.failed {
			failed = true
		}
	}
	if err != nil {
		if !failed && rd.ctx.Err() == nil {
			rd.problem("", "compute the web-resources checksum: %v", err)
		}

		return nil
	}

	return &sum
}

// readRemaining reads the entries the checksum computation did not read.
func (rd *reader) readRemaining() {
	for _, es := range rd.entries {
		if rd.stopped || rd.ctx.Err() != nil {
			return
		}
		if !es.valid || es.entry.Dir || es.read || es.failed {
			continue
		}

		rc, err := rd.openEntry(es)
		if err != nil {
			continue
		}
		io.Copy(io.Discard, rc)
		rc.Close()
	}
}

// openEntry opens es for a reader that meters, hashes and, when es.keep is
// set, keeps its content. Read errors are recorded as problems of es.
func (rd *reader) openEntry(es *entryState) (io.ReadCloser, error) {
	rd.mu.Lock()
	stopped := rd.stopped
	rd.mu.Unlock()
	if stopped {
		return nil, errStopped
	}

	rc, err := es.file.Open()
	if err != nil {
		rd.entryFailed(es, err)
		return nil, err
	}

	m := &meteredReader{ctx: rd.ctx, r: rc, entry: es.file.Name, packed: int64(es.file.CompressedSize64), budget: rd.budget}

	return &entryReader{rd: rd, es: es, rc: rc, m: m, hash: sha256.New()}, nil
}

var errStopped = errors.New("archive over a limit: reading stopped")

// entryReader reads one entry and records its size and SHA-256 at EOF.
// Each entry is read by one goroutine, so its fields need no lock.
type entryReader struct {
	rd   *reader
	es   *entryState
	rc   io.ReadCloser
	m    *meteredReader
	hash hash.Hash
	data bytes.Buffer
	done bool
}

func (e *entryReader) Read(p []byte) (int, error) {
	if e.done {
		return 0, io.EOF
	}

	n, err := e.m.Read(p)
	e.hash.Write(p[:n])
	if e.es.keep {
		if e.data.Len()+n > maxMetadataSize {
			err = fmt.Errorf("entry larger than %d bytes", maxMetadataSize)
		} else {
			e.data.Write(p[:n])
		}
	}

	switch {
	case err == io.EOF:
		e.done = true
		e.es.read = true
		e.es.entry.Size = e.m.n
		e.es.entry.SHA256 = hexSum(e.hash.Sum(nil))
		e.es.data = e.data.Bytes()
	case err != nil:
		e.done = true
		e.rd.entryFailed(e.es, err)
	}

	return n, err
}

func (e *entryReader) Close() error { return e.rc.Close() }

// Stat returns the entry's header information, so that webres.Compute
// sizes its read buffer from the declared size instead of its maximum.
func (e *entryReader) Stat() (fs.FileInfo, error) { return e.es.file.FileInfo(), nil }

// entryFailed records why reading an entry failed.
func (rd *reader) entryFailed(es *entryState, err error) {
	rd.mu.Lock()
	defer rd.mu.Unlock()

	es.failed = true
	if rd.ctx.Err() != nil {
		return
	}

	var limit *LimitError
	switch {
	case errors.As(err, &limit):
		if !rd.stopped {
			rd.problems = append(rd.problems, Problem{Entry: limit.Entry, Rule: limit.Error()})
		}
		rd.stopped = true
	case errors.Is(err, zip.ErrChecksum):
		rd.problems = append(rd.problems, Problem{Entry: es.file.Name, Rule: "CRC-32 mismatch: the entry is corrupt"})
	case errors.Is(err, zip.ErrFormat):
		rd.problems = append(rd.problems, Problem{Entry: es.file.Name, Rule: "content does not match the sizes in its header: the entry is corrupt"})
	default:
		rd.problems = append(rd.problems, Problem{Entry: es.file.Name, Rule: fmt.Sprintf("read content: %v", err)})
	}
}

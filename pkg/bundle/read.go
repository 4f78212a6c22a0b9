package bundle

import (
	"archive/zip"
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"sync"

	"github.com/mfpdev/mfpdev/pkg/signing"
)

// ReadOptions are the checks Read applies beyond the archive format.
type ReadOptions struct {
	Limits Limits
	// PublicKeys, when set, are the keys a signed archive must verify
	// against. A match with any one of them is enough.
	PublicKeys []*rsa.PublicKey
	// RequireSignature makes an unsigned archive invalid.
	RequireSignature bool
}

// Entry is one entry of a valid archive.
type Entry struct {
	Name       string // the zip entry name ("www/js/app.js")
	Path       string // relative to www/ ("js/app.js"), or "" outside www/
	Dir        bool   // a directory entry (its name ends with '/')
	Size       int64  // uncompressed size in bytes, as read
	PackedSize int64  // compressed size in bytes
	Method     uint16 // zip.Store or zip.Deflate
	SHA256     string // lowercase hex SHA-256 of the content, or "" for a directory
}

// Archive is a direct-update archive that passed every check of Read. Its
// entries are read from the io.ReaderAt given to Read, which must stay
// open while OpenEntry is used.
type Archive struct {
	Meta    Metadata
	Entries []Entry // in central directory order
	Signed  bool
	// ChecksumJS is the checksum www/plugins/cordova-plugin-mfp/worklight/checksum.js
	// carries, equal to Meta.Checksum.
	ChecksumJS uint32
	// Delta reports a ddu.script entry at the root. The checksum, filelist
	// and checksum.js checks do not apply to a delta archive, whose www/
	// holds only the changed files.
	Delta  bool
	Size   int64  // bytes of the archive file
	SHA256 string // lowercase hex SHA-256 of the archive file

	files map[string]*zip.File
}

// WWWEntries returns the file entries under www/, in archive order.
// Directory entries are left out.
func (a *Archive) WWWEntries() []Entry {
	var out []Entry
	for _, e := range a.Entries {
		if e.Path != "" && !e.Dir {
			out = append(out, e)
		}
	}

	return out
}

// OpenEntry opens the content of the entry with the zip name name
// ("www/index.html", "ddu.script") as a stream. Reading the stream to EOF
// checks the entry's CRC-32 and size again.
func (a *Archive) OpenEntry(name string) (io.ReadCloser, error) {
	f := a.files[name]
	if f == nil {
		return nil, fmt.Errorf("open archive entry %s: %w", name, fs.ErrNotExist)
	}

	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("open archive entry %s: %w", name, err)
	}

	return rc, nil
}

// Read checks every rule of the format and returns *InvalidArchiveError
// listing each entry and rule that failed. It decompresses every entry
// once, within opts.Limits, and reads the whole file to hash it and to
// verify its signature. Errors other than *InvalidArchiveError come from
// ctx.
func Read(ctx context.Context, r io.ReaderAt, size int64, opts ReadOptions) (*Archive, error) {
	rd := &reader{
		ctx:    ctx,
		r:      r,
		size:   size,
		budget: &budget{limits: opts.Limits.withDefaults()},
	}

	a, err := rd.read(opts)
	if ctxErr := ctx.Err(); ctxErr != nil {
		return nil, fmt.Errorf("read archive: %w", ctxErr)
	}
	if err != nil {
		return nil, err
	}
	if len(rd.problems) > 0 {
		return nil, &InvalidArchiveError{Problems: rd.problems}
	}

	return a, nil
}

// reader is the state of one Read call.
type reader struct {
	ctx      context.Context
	r        io.ReaderAt
	size     int64
	budget   *budget
	problems []Problem

	zr      *zip.Reader
	entries []*entryState
	byName  map[string]*entryState

	// mu guards problems and stopped while webres.Compute reads entries
	// from several goroutines.
	mu sync.Mutex
	// stopped is set once a limit is exceeded: nothing more is read.
	stopped bool
}

// entryState is the state of one zip entry during Read.
type entryState struct {
	file   *zip.File
	entry  Entry
	valid  bool   // the name and header passed every rule
	read   bool   // the content was read and hashed
	keep   bool   // the content is needed whole (metadata, filelist, ...)
	data   []byte // the content, when keep is set
	failed bool   // reading the content failed
}

func (rd *reader) problem(entry, format string, args ...any) {
	rd.problems = append(rd.problems, Problem{Entry: entry, Rule: fmt.Sprintf(format, args...)})
}

func (rd *reader) read(opts ReadOptions) (*Archive, error) {
	if !rd.openZip() {
		return nil, nil
	}
	rd.checkComment()

	limits := rd.budget.limits
	if n := len(rd.zr.File); n > limits.MaxEntries {
		rd.problem("", "%v", &LimitError{Limit: limitEntries, Value: int64(n), Max: int64(limits.MaxEntries)})
		return nil, nil
	}

	rd.checkEntries()
	rd.checkLayout()
	if !rd.checkDeclaredSizes() {
		return nil, nil
	}

	meta, checksumJS := rd.checkContents()

	signed := rd.checkSignature(opts)
	sum, err := rd.hashFile()
	if err != nil {
		return nil, err
	}

	a := &Archive{Signed: signed, ChecksumJS: checksumJS, Size: rd.size, SHA256: sum, files: make(map[string]*zip.File)}
	if meta != nil {
		a.Meta = *meta
	}
	for _, es := range rd.entries {
		a.Entries = append(a.Entries, es.entry)
		a.files[es.entry.Name] = es.file
		a.Delta = a.Delta || es.entry.Name == DDUScriptName
	}

	return a, nil
}

// openZip identifies the file and parses its central directory.
func (rd *reader) openZip() bool {
	if rule := identify(rd.ctx, rd.r, rd.size); rule != "" {
		rd.problem("", "%s", rule)
		return false
	}
	if n, ok := rd.declaredEntries(); ok && n > uint64(rd.budget.limits.MaxEntries) {
		rd.problem("", "%v", &LimitError{Limit: limitEntries, Value: int64(min(n, 1<<62)), Max: int64(rd.budget.limits.MaxEntries)})
		return false
	}

	zr, err := zip.NewReader(rd.r, rd.size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		rd.problem("", "not a valid zip archive: %v", err)
		return false
	}
	rd.zr = zr

	return true
}

// hashFile returns the SHA-256 of the whole file.
func (rd *reader) hashFile() (string, error) {
	h := sha256.New()
	buf := make([]byte, 256<<10)
	if _, err := copyChunks(rd.ctx, h, io.NewSectionReader(rd.r, 0, rd.size), buf); err != nil {
		return "", fmt.Errorf("read archive: %w", err)
	}

	return hexSum(h.Sum(nil)), nil
}

// checkSignature reports whether the archive is signed and verifies the
// signature against the trusted keys.
func (rd *reader) checkSignature(opts ReadOptions) bool {
	signed, err := signing.IsSigned(rd.r, rd.size)
	if err != nil {
		rd.problem("", "%v", err)
		return false
	}

	if !signed {
		if opts.RequireSignature {
			rd.problem("", "archive not signed, but a signature by a trusted key is required: sign it with --sign-key and the private key of the trusted public key")
		}

		return false
	}

	if len(opts.PublicKeys) > 0 {
		if _, err := signing.VerifyAny(rd.ctx, rd.r, rd.size, opts.PublicKeys); err != nil {
			rd.problem("", "%v", err)
		}
	}

	return true
}

// entryPath returns the path of a www/ entry relative to www/, without
// the trailing '/' of a directory, and whether name is under www/.
func entryPath(name string) (string, bool) {
	rest, ok := strings.CutPrefix(name, "www/")
	if !ok {
		return "", false
	}

	return strings.TrimSuffix(rest, "/"), true
}

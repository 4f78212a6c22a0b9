package bundle

import (
	"archive/zip"
	"crypto/sha256"
	"encoding"
	"hash"
	"io"
	"time"
)

const (
	// flagUTF8 marks an entry name as UTF-8 (general purpose bit 11).
	flagUTF8 = 0x800
	// flagDataDescriptor marks an entry whose sizes and CRC-32 follow its
	// data (general purpose bit 3).
	flagDataDescriptor = 0x8
	// flagEncrypted marks an encrypted entry (general purpose bit 0).
	flagEncrypted = 0x1

	// creatorUnix is the "version made by" of every entry: Unix host (3),
	// so that readers take the permissions from the external attributes,
	// and format version 2.0.
	creatorUnix = 3<<8 | 20
	// readerVersion20 is the "version needed to extract" of a Store or
	// Deflate entry without zip64 fields.
	readerVersion20 = 20
	// regularFileAttrs is a regular file with mode 0644 in the high 16 bits
	// of the external attributes, as Unix zip tools write it.
	regularFileAttrs = (0o100000 | 0o644) << 16

	// maxEntrySize is the largest entry the writer accepts. Go's raw zip
	// writer writes no zip64 fields in local headers, so an entry of 4 GiB
	// or more would be unreadable by streaming unzippers.
	maxEntrySize = 1<<32 - 1
)

// dosEpoch is the earliest time an MS-DOS date can hold.
var dosEpoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// dosTime converts t, taken in UTC, to MS-DOS date and time fields. Times
// before 1980 become 1980-01-01 and times after 2107 become the end of 2107.
// Seconds are rounded down to an even number, as the format requires.
func dosTime(t time.Time) (date, clock uint16) {
	t = t.UTC()
	if t.Before(dosEpoch) {
		t = dosEpoch
	}
	if t.Year() > 2107 {
		t = time.Date(2107, 12, 31, 23, 59, 58, 0, time.UTC)
	}

	date = uint16(t.Day() + int(t.Month())<<5 + (t.Year()-1980)<<9)
	clock = uint16(t.Second()/2 + t.Minute()<<5 + t.Hour()<<11)

	return date, clock
}

// newFileHeader returns the header of a regular-file entry whose data is
// written raw by the caller. The header has no extra fields: Go's writer
// adds an extended-timestamp field only when Modified is set, so only the
// MS-DOS fields carry the time.
func newFileHeader(name string, method uint16, crc uint32, packed, size int64, mod time.Time) *zip.FileHeader {
	date, clock := dosTime(mod)

	return &zip.FileHeader{
		Name:               name,
		CreatorVersion:     creatorUnix,
		ReaderVersion:      readerVersion20,
		Flags:              flagUTF8,
		Method:             method,
		ModifiedTime:       clock,
		ModifiedDate:       date,
		CRC32:              crc,
		CompressedSize64:   uint64(packed),
		UncompressedSize64: uint64(size),
		ExternalAttrs:      regularFileAttrs,
	}
}

// tailHasher passes every byte to w and hashes all but the last keep bytes
// written so far. Once writing ends, the hash state covers the file up to
// its comment, so the hash of the file with any comment can be finished
// without reading the file again.
type tailHasher struct {
	w     io.Writer
	keep  int
	tail  []byte // the last bytes written, not yet hashed
	hash  hash.Hash
	count int64
}

func newTailHasher(w io.Writer, keep int) *tailHasher {
	return &tailHasher{w: w, keep: keep, tail: make([]byte, 0, 2*keep), hash: sha256.New()}
}

func (t *tailHasher) Write(p []byte) (int, error) {
	n, err := t.w.Write(p)
	t.count += int64(n)
	p = p[:n]

	// Hash what is certain to lie before the last keep bytes: the held
	// tail first, then the start of p.
	total := len(t.tail) + len(p)
	if excess := total - t.keep; excess > 0 {
		fromTail := min(excess, len(t.tail))
		t.hash.Write(t.tail[:fromTail])
		t.tail = append(t.tail[:0], t.tail[fromTail:]...)

		fromP := excess - fromTail
		t.hash.Write(p[:fromP])
		p = p[fromP:]
	}
	t.tail = append(t.tail, p...)

	return n, err
}

// sumWith returns the SHA-256 of everything written with its last keep
// bytes replaced by suffix. It does not change the running state.
func (t *tailHasher) sumWith(suffix []byte) ([]byte, error) {
	state, err := t.hash.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		return nil, err
	}

	h := sha256.New()
	if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(state); err != nil {
		return nil, err
	}
	h.Write(suffix)

	return h.Sum(nil), nil
}

package bundle

import (
	"bytes"
	"encoding/binary"
)

const (
	zip64LocatorSignature = "PK\x06\x07"
	zip64EndSignature     = "PK\x06\x06"
	zip64LocatorSize      = 20
	zip64EndSize          = 56
	maxCommentSize        = 1<<16 - 1
)

// declaredEntries returns the entry count that the end of central
// directory record states, the zip64 one when present. Read checks it
// against Limits.MaxEntries before archive/zip parses a central directory
// of millions of entries into memory. ok is false when no end record is
// found, and archive/zip then reports the archive as invalid.
func (rd *reader) declaredEntries() (count uint64, ok bool) {
	tailSize := min(rd.size, int64(endRecordSize+maxCommentSize))
	tail := make([]byte, tailSize)
	if _, err := rd.r.ReadAt(tail, rd.size-tailSize); err != nil {
		return 0, false
	}

	at := bytes.LastIndex(tail[:max(len(tail)-endRecordSize+4, 0)], []byte(endRecordSignature))
	if at < 0 || at+endRecordSize > len(tail) {
		return 0, false
	}
	end := tail[at : at+endRecordSize]
	count = uint64(binary.LittleEndian.Uint16(end[10:12]))

	locatorOffset := rd.size - tailSize + int64(at) - zip64LocatorSize
	if count != 0xFFFF || locatorOffset < 0 {
		return count, true
	}

	locator := make([]byte, zip64LocatorSize)
	if _, err := rd.r.ReadAt(locator, locatorOffset); err != nil || string(locator[:4]) != zip64LocatorSignature {
		return count, true
	}
	endOffset := int64(binary.LittleEndian.Uint64(locator[8:16]))
	end64 := make([]byte, zip64EndSize)
	if endOffset < 0 || endOffset > rd.size-zip64EndSize {
		return count, true
	}
	if _, err := rd.r.ReadAt(end64, endOffset); err != nil || string(end64[:4]) != zip64EndSignature {
		return count, true
	}

	return binary.LittleEndian.Uint64(end64[32:40]), true
}

package bundle

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
)

const (
	localHeaderSize           = 30
	centralHeaderSignature    = "PK\x01\x02"
	dataDescriptorSignature   = "PK\x07\x08"
	zip64ExtraID              = 0x0001
	zip64Marker               = 0xFFFFFFFF
	dataDescriptorSize32      = 12 // CRC-32, compressed and uncompressed size
	dataDescriptorSize64      = 20 // the same with 8-byte sizes
	maxLocalHeaderProblems    = 20
	localHeaderProblemsCapped = "more local headers disagree with the central directory; only the first 20 are listed"
)

// checkLayout reads the entries the way a streaming unzipper such as
// Android's ZipInputStream does: one local header after the other from the
// start of the file, up to the central directory. Every local header must
// agree with its central directory record (name, flags, method, CRC-32 and
// sizes), and entries must follow each other without gaps, so that a
// device extracts exactly what Read checked.
func (rd *reader) checkLayout() {
	var offset int64
	reported := 0
	for _, f := range rd.zr.File {
		if rd.ctx.Err() != nil {
			return
		}

		next, rule := rd.checkLocalHeader(f, offset)
		if rule != "" {
			reported++
			if reported > maxLocalHeaderProblems {
				rd.problem("", "%s", localHeaderProblemsCapped)
				return
			}
			rd.problem(f.Name, "%s", rule)
			if next < 0 {
				return
			}
		}
		offset = next
	}

	sig := make([]byte, 4)
	if _, err := rd.r.ReadAt(sig, offset); err != nil || string(sig) != centralHeaderSignature {
		rd.problem("", "%d unexpected bytes between the last entry and the central directory, which streaming unzippers read as a broken entry", max(rd.size-offset, 0))
	}
}

// checkLocalHeader compares the local header at offset with f's central
// directory record. It returns the offset just after the entry's data
// (and data descriptor), or -1 when the layout cannot be followed further,
// and the rule broken, or "".
func (rd *reader) checkLocalHeader(f *zip.File, offset int64) (int64, string) {
	head := make([]byte, localHeaderSize)
	if _, err := rd.r.ReadAt(head, offset); err != nil || string(head[:4]) != localHeaderSignature {
		return -1, fmt.Sprintf("no local header at offset %d where the previous entry ends: the central directory does not match the entries streaming unzippers read", offset)
	}

	flags := binary.LittleEndian.Uint16(head[6:8])
	method := binary.LittleEndian.Uint16(head[8:10])
	crc := binary.LittleEndian.Uint32(head[14:18])
	packed := uint64(binary.LittleEndian.Uint32(head[18:22]))
	size := uint64(binary.LittleEndian.Uint32(head[22:26]))
	nameLen := int64(binary.LittleEndian.Uint16(head[26:28]))
	extraLen := int64(binary.LittleEndian.Uint16(head[28:30]))

	rest := make([]byte, nameLen+extraLen)
	if _, err := rd.r.ReadAt(rest, offset+localHeaderSize); err != nil {
		return -1, fmt.Sprintf("local header at offset %d is truncated", offset)
	}
	name, extra := rest[:nameLen], rest[nameLen:]
	dataStart := offset + localHeaderSize + nameLen + extraLen
	if packed == zip64Marker || size == zip64Marker {
		packed, size = zip64Sizes(extra, packed, size)
	}

	if dataOffset, err := f.DataOffset(); err != nil || dataOffset != dataStart {
		return -1, fmt.Sprintf("the central directory places the entry elsewhere than the local header at offset %d, which streaming unzippers read", offset)
	}

	var rule string
	streamed := flags&flagDataDescriptor != 0
	switch {
	case string(name) != f.Name:
		rule = fmt.Sprintf("local header names the entry %q: the central directory and the local header disagree", name)
	case flags&(flagDataDescriptor|flagUTF8|flagEncrypted) != f.Flags&(flagDataDescriptor|flagUTF8|flagEncrypted):
		rule = fmt.Sprintf("local header flags %#04x differ from the central directory's %#04x", flags, f.Flags)
	case method != f.Method:
		rule = fmt.Sprintf("local header method %d differs from the central directory's %d", method, f.Method)
	case !streamed && crc != f.CRC32:
		rule = fmt.Sprintf("local header CRC-32 %08x differs from the central directory's %08x", crc, f.CRC32)
	case !streamed && (packed != f.CompressedSize64 || size != f.UncompressedSize64):
		rule = fmt.Sprintf("local header sizes (%d packed, %d unpacked) differ from the central directory's (%d, %d)",
			packed, size, f.CompressedSize64, f.UncompressedSize64)
	}

	next := dataStart + int64(f.CompressedSize64)
	if streamed {
		var descriptorRule string
		next, descriptorRule = rd.checkDataDescriptor(f, next)
		if rule == "" {
			rule = descriptorRule
		}
	}

	return next, rule
}

// checkDataDescriptor compares the data descriptor that starts at offset,
// with or without its optional signature, with f's central directory
// record. It returns the offset after the descriptor and the rule broken,
// or "".
func (rd *reader) checkDataDescriptor(f *zip.File, offset int64) (int64, string) {
	wide := f.CompressedSize64 >= zip64Marker || f.UncompressedSize64 >= zip64Marker
	size := int64(dataDescriptorSize32)
	if wide {
		size = dataDescriptorSize64
	}

	buf := make([]byte, 4+size)
	n, _ := rd.r.ReadAt(buf, offset)
	buf = buf[:n]
	if len(buf) >= 4 && bytes.Equal(buf[:4], []byte(dataDescriptorSignature)) {
		buf = buf[4:]
		offset += 4
	}
	if int64(len(buf)) < size {
		return offset + size, "data descriptor is truncated"
	}

	crc := binary.LittleEndian.Uint32(buf[0:4])
	var packed, unpacked uint64
	if wide {
		packed, unpacked = binary.LittleEndian.Uint64(buf[4:12]), binary.LittleEndian.Uint64(buf[12:20])
	} else {
		packed, unpacked = uint64(binary.LittleEndian.Uint32(buf[4:8])), uint64(binary.LittleEndian.Uint32(buf[8:12]))
	}
	if crc != f.CRC32 || packed != f.CompressedSize64 || unpacked != f.UncompressedSize64 {
		return offset + size, fmt.Sprintf("data descriptor (CRC-32 %08x, %d packed, %d unpacked) differs from the central directory's (%08x, %d, %d)",
			crc, packed, unpacked, f.CRC32, f.CompressedSize64, f.UncompressedSize64)
	}

	return offset + size, ""
}

// zip64Sizes returns the sizes a local header's zip64 extra field holds in
// place of the 0xFFFFFFFF markers.
func zip64Sizes(extra []byte, packed, size uint64) (uint64, uint64) {
	for len(extra) >= 4 {
		id := binary.LittleEndian.Uint16(extra[0:2])
		n := int(binary.LittleEndian.Uint16(extra[2:4]))
		if 4+n > len(extra) {
			break
		}
		field := extra[4 : 4+n]
		extra = extra[4+n:]
		if id != zip64ExtraID {
			continue
		}

		if size == zip64Marker && len(field) >= 8 {
			size = binary.LittleEndian.Uint64(field)
			field = field[8:]
		}
		if packed == zip64Marker && len(field) >= 8 {
			packed = binary.LittleEndian.Uint64(field)
		}
	}

	return packed, size
}

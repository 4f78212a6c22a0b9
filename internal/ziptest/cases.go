package ziptest

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"

	"github.com/klauspost/compress/flate"

	"github.com/mfpdev/mfpdev/pkg/bundle"
)

// Case is one hostile or broken archive. A reader that follows the rules
// rejects it with a problem whose text contains both Entry and Rule.
type Case struct {
	Name  string
	Entry string // the entry the problem names, "" for the archive as a whole
	Rule  string // a phrase of the rule the problem states
	// Make turns the bytes of a valid archive into the hostile one.
	Make func(valid []byte) ([]byte, error)
}

// Cases returns the hostile archives. The entry count, ratio and size
// bombs are sized to go just over limits (bundle's defaults for zero
// fields), so keep MaxEntries and MaxUncompressed small where memory
// matters: the size bomb holds MaxUncompressed bytes of random data.
func Cases(limits bundle.Limits) []Case {
	if limits.MaxEntries <= 0 {
		limits.MaxEntries = bundle.DefaultMaxEntries
	}
	if limits.MaxUncompressed <= 0 {
		limits.MaxUncompressed = bundle.DefaultMaxUncompressed
	}

	cases := []Case{
		added("parent element", "www/../evil.js", `".." element`),
		added("absolute path", "/www/evil.js", "absolute"),
		added("drive letter at root", "C:/www/evil.js", "absolute"),
		added("drive letter under www", "www/C:/evil.js", "drive letter"),
		added("backslash", `www\js\evil.js`, `'\'`),
		added("NUL in name", "www/evil\x00.js", "U+0000"),
		added("control character", "www/evil\x1b.js", "U+001B"),
		added("duplicate name", "www/index.html", "duplicate entry name"),
		added("case folding", "www/INDEX.html", "letter case"),
		{Name: "symbolic link", Entry: "www/link.js", Rule: "symbolic link", Make: editEntries(func(es []Entry) []Entry {
			link := stored("www/link.js", []byte("../../../../etc/passwd"))
			link.Header.ExternalAttrs = (0o120777) << 16
			return append(es, link)
		})},
		{Name: "directory and file", Entry: "www/index.html", Rule: "a directory entry and a file", Make: editEntries(func(es []Entry) []Entry {
			dir := stored("www/index.html/", nil)
			dir.Header.ExternalAttrs = (0o040755 << 16) | 0x10
			return append(es, dir)
		})},
		{Name: "NFC normalization", Entry: "www/cafe\u0301.js", Rule: "normalization", Make: editEntries(func(es []Entry) []Entry {
			return append(es, stored("www/caf\u00e9.js", []byte("a")), stored("www/cafe\u0301.js", []byte("b")))
		})},
		{Name: "entry count", Rule: "entries, over the limit", Make: editEntries(func(es []Entry) []Entry {
			for i := len(es); i <= limits.MaxEntries; i++ {
				es = append(es, stored(fmt.Sprintf("www/n/%07d", i), nil))
			}
			return es
		})},
		{Name: "compression ratio", Entry: "www/zeros.bin", Rule: "compression ratio", Make: editEntries(func(es []Entry) []Entry {
			return append(es, deflated("www/zeros.bin", make([]byte, 4<<20)))
		})},
		{Name: "sizes lie", Entry: "www/lie.bin", Rule: "does not match the sizes", Make: editEntries(func(es []Entry) []Entry {
			e := deflated("www/lie.bin", bytes.Repeat([]byte("0123456789"), 100_000))
			e.Header.UncompressedSize64 = 1000
			return append(es, e)
		})},
		{Name: "truncated", Rule: "not a valid zip", Make: func(valid []byte) ([]byte, error) {
			return valid[:len(valid)/2], nil
		}},
		{Name: "not a zip", Rule: "gzip", Make: func(valid []byte) ([]byte, error) {
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			zw.Write(valid)
			zw.Close()
			return buf.Bytes(), nil
		}},
		{Name: "corrupt data", Entry: "www/index.html", Rule: "corrupt", Make: editEntries(func(es []Entry) []Entry {
			for i := range es {
				if es[i].Header.Name == "www/index.html" {
					es[i].Raw = bytes.Clone(es[i].Raw)
					es[i].Raw[0] ^= 0xff
				}
			}
			return es
		})},
		localHeaderCase("local header name", "www/index.html", "local header names", func(h []byte) {
			h[localHeaderSize+len("www/index.")] = 'X'
		}),
		localHeaderCase("local header method", "www/index.html", "local header method", func(h []byte) {
			binary.LittleEndian.PutUint16(h[8:10], 99)
		}),
		localHeaderCase("local header CRC", "www/index.html", "local header CRC-32", func(h []byte) {
			h[14] ^= 0xff
		}),
		localHeaderCase("local header sizes", "www/index.html", "local header sizes", func(h []byte) {
			h[22]++
		}),
	}

	cases = append(cases, Case{Name: "data descriptor sizes", Entry: "www/streamed.js", Rule: "data descriptor", Make: streamedCase(func(descriptor []byte) {
		// Signature, CRC-32, compressed size, then the uncompressed size.
		descriptor[12]++
	})})

	cases = append(cases, Case{Name: "hidden entry", Rule: "unexpected bytes between the last entry and the central directory", Make: hiddenEntry})

	if limits.MaxUncompressed <= 64<<20 {
		cases = append(cases, Case{Name: "total uncompressed size", Rule: "total uncompressed size", Make: editEntries(func(es []Entry) []Entry {
			chunk := int64(1 << 20)
			for i := int64(0); i*chunk <= limits.MaxUncompressed; i++ {
				es = append(es, stored(fmt.Sprintf("www/big/%04d.bin", i), randomBytes(uint64(i), int(chunk))))
			}
			return es
		})})
	}

	return cases
}

// localHeaderSize is the fixed part of a local file header.
const localHeaderSize = 30

// added is a case that adds one stored entry named name.
func added(caseName, name, rule string) Case {
	return Case{Name: caseName, Entry: name, Rule: rule, Make: editEntries(func(es []Entry) []Entry {
		return append(es, stored(name, []byte("evil();\n")))
	})}
}

// editEntries returns a Make that rebuilds the archive after edit.
func editEntries(edit func([]Entry) []Entry) func([]byte) ([]byte, error) {
	return func(valid []byte) ([]byte, error) {
		es, err := Entries(valid)
		if err != nil {
			return nil, err
		}
		return Build(edit(es), BlankComment)
	}
}

// localHeaderCase patches the local header of entry name only, so that it
// disagrees with the central directory.
func localHeaderCase(caseName, name, rule string, patch func(header []byte)) Case {
	return Case{Name: caseName, Entry: name, Rule: rule, Make: func(valid []byte) ([]byte, error) {
		out := bytes.Clone(valid)
		for i := 0; i+localHeaderSize <= len(out); i++ {
			if string(out[i:i+4]) != "PK\x03\x04" {
				continue
			}
			nameLen := int(binary.LittleEndian.Uint16(out[i+26 : i+28]))
			end := i + localHeaderSize + nameLen
			if end <= len(out) && string(out[i+localHeaderSize:end]) == name {
				patch(out[i:end])
				return out, nil
			}
		}
		return nil, fmt.Errorf("no local header for %s", name)
	}}
}

// header returns the header of a regular-file entry as mfpdev writes it.
func header(name string, method uint16, content []byte, packed int) zip.FileHeader {
	return zip.FileHeader{
		Name:               name,
		CreatorVersion:     3<<8 | 20,
		ReaderVersion:      20,
		Flags:              0x800,
		Method:             method,
		CRC32:              crc32.ChecksumIEEE(content),
		CompressedSize64:   uint64(packed),
		UncompressedSize64: uint64(len(content)),
		ExternalAttrs:      (0o100000 | 0o644) << 16,
	}
}

func stored(name string, content []byte) Entry {
	return Entry{Header: header(name, zip.Store, content, len(content)), Raw: content}
}

func deflated(name string, content []byte) Entry {
	var buf bytes.Buffer
	fw, _ := flate.NewWriter(&buf, flate.BestCompression)
	fw.Write(content)
	fw.Close()
	return Entry{Header: header(name, zip.Deflate, content, buf.Len()), Raw: buf.Bytes()}
}

// randomBytes returns n incompressible bytes that depend on seed.
func randomBytes(seed uint64, n int) []byte {
	rng := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		binary.LittleEndian.PutUint64(b[i:], rng.Uint64())
	}
	return b
}

// WriteZeroBomb writes a zip holding one deflated entry of size zero bytes
// to w, streaming, so that even a bomb of gigabytes needs no memory. It
// has the 512-space comment of an unsigned archive.
func WriteZeroBomb(w io.Writer, size int64) error {
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, flate.BestCompression)
	})

	h := &zip.FileHeader{Name: "www/zeros.bin", Method: zip.Deflate, Flags: 0x800}
	h.SetMode(0o644)
	ew, err := zw.CreateHeader(h)
	if err != nil {
		return err
	}

	zeros := make([]byte, 1<<20)
	for written := int64(0); written < size; {
		n := min(int64(len(zeros)), size-written)
		if _, err := ew.Write(zeros[:n]); err != nil {
			return err
		}
		written += n
	}

	if err := zw.SetComment(BlankComment); err != nil {
		return err
	}

	return zw.Close()
}

// streamedCase adds a deflated entry www/streamed.js written with a data
// descriptor (sizes and CRC-32 after the data, flag bit 3), then patches
// that descriptor.
func streamedCase(patch func(descriptor []byte)) func([]byte) ([]byte, error) {
	return func(valid []byte) ([]byte, error) {
		entries, err := Entries(valid)
		if err != nil {
			return nil, err
		}

		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for _, e := range entries {
			h := e.Header
			w, err := zw.CreateRaw(&h)
			if err != nil {
				return nil, err
			}
			w.Write(e.Raw)
		}
		h := &zip.FileHeader{Name: "www/streamed.js", Method: zip.Deflate, Flags: 0x800}
		h.SetMode(0o644)
		w, err := zw.CreateHeader(h)
		if err != nil {
			return nil, err
		}
		w.Write(bytes.Repeat([]byte("streamed();\n"), 100))
		zw.SetComment(BlankComment)
		if err := zw.Close(); err != nil {
			return nil, err
		}

		out := buf.Bytes()
		zr, err := zip.NewReader(bytes.NewReader(out), int64(len(out)))
		if err != nil {
			return nil, err
		}
		f := zr.File[len(zr.File)-1]
		start, err := f.DataOffset()
		if err != nil {
			return nil, err
		}
		end := start + int64(f.CompressedSize64)
		patch(out[end : end+16])
		return out, nil
	}
}

// hiddenEntry inserts a local header and data of www/hidden.js before the
// central directory, which does not list it: archive/zip never reads the
// entry, but streaming unzippers extract it.
func hiddenEntry(valid []byte) ([]byte, error) {
	end := len(valid) - 22 - len(BlankComment)
	if end < 0 || string(valid[end:end+4]) != "PK\x05\x06" {
		return nil, fmt.Errorf("no end of central directory record %d bytes before the end", 22+len(BlankComment))
	}
	directory := binary.LittleEndian.Uint32(valid[end+16 : end+20])

	content := []byte("hidden();\n")
	name := "www/hidden.js"
	local := make([]byte, localHeaderSize, localHeaderSize+len(name)+len(content))
	copy(local, "PK\x03\x04")
	binary.LittleEndian.PutUint16(local[4:], 20)
	binary.LittleEndian.PutUint16(local[6:], 0x800)
	binary.LittleEndian.PutUint32(local[14:], crc32.ChecksumIEEE(content))
	binary.LittleEndian.PutUint32(local[18:], uint32(len(content)))
	binary.LittleEndian.PutUint32(local[22:], uint32(len(content)))
	binary.LittleEndian.PutUint16(local[26:], uint16(len(name)))
	local = append(append(local, name...), content...)

	out := make([]byte, 0, len(valid)+len(local))
	out = append(out, valid[:directory]...)
	out = append(out, local...)
	out = append(out, valid[directory:]...)
	newEnd := end + len(local)
	binary.LittleEndian.PutUint32(out[newEnd+16:], directory+uint32(len(local)))
	return out, nil
}

package bundle

import (
	"archive/zip"
	"bytes"
	"hash/crc32"
	"io"
	"testing"
)

// rawEntry is one entry copied or crafted for a hand-made zip.
type rawEntry struct {
	Header zip.FileHeader
	// Raw is the entry data as stored (compressed for Deflate).
	Raw []byte
	// Streamed writes the entry with CreateHeader, which compresses
	// Content and adds a data descriptor.
	Streamed bool
	Content  []byte
}

// entriesOf returns the entries of a zip, with their raw data.
func entriesOf(t testing.TB, data []byte) []rawEntry {
	t.Helper()

	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}

	var out []rawEntry
	for _, f := range zr.File {
		r, err := f.OpenRaw()
		if err != nil {
			t.Fatal(err)
		}
		raw, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, rawEntry{Header: f.FileHeader, Raw: raw})
	}

	return out
}

// storedEntry returns a stored regular-file entry with content.
func storedEntry(name string, content []byte) rawEntry {
	h := *newFileHeader(name, zip.Store, crc32.ChecksumIEEE(content), int64(len(content)), int64(len(content)), testModTime)
	return rawEntry{Header: h, Raw: content}
}

// buildZip writes entries into a zip with the given comment.
func buildZip(t testing.TB, entries []rawEntry, comment string) []byte {
	t.Helper()

	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := e.Header
		if e.Streamed {
			w, err := zw.CreateHeader(&h)
			if err != nil {
				t.Fatal(err)
			}
			w.Write(e.Content)
			continue
		}

		w, err := zw.CreateRaw(&h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(e.Raw)
	}
	if err := zw.SetComment(comment); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}

	return buf.Bytes()
}

// blankComment is the comment of an unsigned archive.
var blankComment = string(bytes.Repeat([]byte{' '}, 512))

// withEntries rebuilds data after edit changes its entries.
func withEntries(t testing.TB, data []byte, edit func([]rawEntry) []rawEntry) []byte {
	t.Helper()

	return buildZip(t, edit(entriesOf(t, data)), blankComment)
}

// renamed returns entries with the entry old renamed to name.
func renamed(entries []rawEntry, old, name string) []rawEntry {
	for i := range entries {
		if entries[i].Header.Name == old {
			entries[i].Header.Name = name
		}
	}

	return entries
}

// replaced returns entries with the content of name replaced, stored.
func replaced(entries []rawEntry, name string, content []byte) []rawEntry {
	for i := range entries {
		if entries[i].Header.Name == name {
			entries[i] = storedEntry(name, content)
		}
	}

	return entries
}

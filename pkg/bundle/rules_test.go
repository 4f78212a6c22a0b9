package bundle

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"testing"

	"github.com/mfpdev/mfpdev/pkg/webres"
)

func TestReadRules(t *testing.T) {
	valid := writeSample(t, WriteOptions{})
	add := func(extra ...rawEntry) []byte {
		return withEntries(t, valid, func(e []rawEntry) []rawEntry { return append(e, extra...) })
	}

	symlink := storedEntry("www/link.js", []byte("index.html"))
	symlink.Header.ExternalAttrs = (0o120000 | 0o777) << 16

	nonUTF8Flag := storedEntry("www/é.js", []byte("x"))
	nonUTF8Flag.Header.Flags = 0

	streamedStore := rawEntry{Header: zip.FileHeader{Name: "www/stream.js", Method: zip.Store}, Streamed: true, Content: []byte("x")}

	cases := []struct {
		name     string
		data     []byte
		entry    string
		fragment string
	}{
		{"absolute name", add(storedEntry("/etc/passwd", []byte("x"))), "/etc/passwd", "absolute path"},
		{"dot-dot", add(storedEntry("www/../evil.js", []byte("x"))), "www/../evil.js", `".."`},
		{"backslash", add(storedEntry(`www/js\evil.js`, []byte("x"))), `www/js\evil.js`, `'\'`},
		{"drive letter", add(storedEntry("www/C:/evil.js", []byte("x"))), "www/C:/evil.js", "drive letter"},
		{"control character", add(storedEntry("www/a\x01.js", []byte("x"))), "www/a\x01.js", "control character"},
		{"root file", add(storedEntry("README.txt", []byte("x"))), "README.txt", "outside www/"},
		{"symbolic link", add(symlink), "www/link.js", "symbolic link"},
		{"duplicate", add(storedEntry("www/index.html", []byte("x"))), "www/index.html", "duplicate"},
		{"case collision", add(storedEntry("www/INDEX.html", []byte("x"))), "www/INDEX.html", "letter case"},
		{"NFC collision", add(storedEntry("www/js/u\u0308ni\u0308code.js", []byte("x"))), "www/js/u\u0308ni\u0308code.js", "normalization"},
		{"directory and file", add(storedEntry("www/index.html/", nil)), "www/index.html", "directory entry and a file"},
		{"stored data descriptor", add(streamedStore), "www/stream.js", "data descriptor"},
		{"invalid UTF-8", add(storedEntry("www/\xff.js", []byte("x"))), "www/\xff.js", "not valid UTF-8"},
		{"no UTF-8 flag", add(nonUTF8Flag), "www/é.js", "UTF-8 flag"},
		{"no digest", add(storedEntry("www/new.js", []byte("x"))), "www/new.js", "no digest"},
		{"file count", add(storedEntry("www/new.js", []byte("x"))), MetadataName, "files is"},
		{"metadata missing", withEntries(t, valid, func(e []rawEntry) []rawEntry { return e[:len(e)-1] }), MetadataName, "missing"},
		{"metadata not JSON", withEntries(t, valid, func(e []rawEntry) []rawEntry { return replaced(e, MetadataName, []byte("{")) }), MetadataName, "invalid JSON"},
		{"metadata field missing", withEntries(t, valid, func(e []rawEntry) []rawEntry {
			return replaced(e, MetadataName, []byte(`{"formatVersion":2,"appId":"a","platform":"android","appVersion":"1","pluginVersion":"8.0.1","checksum":1,"size":1,"files":1,"unpackedSize":1,"digests":{"paths":[],"content":[],"sizes":[],"sha256":[]}}`))
		}), MetadataName, `"platformVersion" missing`},
		{"filelist missing", withEntries(t, valid, func(e []rawEntry) []rawEntry { return renamed(e, "www/filelist", "www/filelist.txt") }), "www/filelist", "missing"},
		{"filelist differs", withEntries(t, valid, func(e []rawEntry) []rawEntry { return replaced(e, "www/filelist", []byte("/index.html")) }), "www/filelist", "differs"},
		{"checksum.js missing", withEntries(t, valid, func(e []rawEntry) []rawEntry {
			return renamed(e, "www/"+webres.ChecksumJSPath, "www/plugins/cordova-plugin-mfp/worklight/checksum2.js")
		}), "www/" + webres.ChecksumJSPath, "missing"},
		{"checksum.js differs", withEntries(t, valid, func(e []rawEntry) []rawEntry {
			return replaced(e, "www/"+webres.ChecksumJSPath, webres.ChecksumJS(12345, testModTime))
		}), "www/" + webres.ChecksumJSPath, "carries checksum 12345"},
		{"file changed", withEntries(t, valid, func(e []rawEntry) []rawEntry { return replaced(e, "www/index.html", []byte("<html>changed</html>")) }), "www/index.html", "differs from its digest"},
		{"checksum changed", withEntries(t, valid, func(e []rawEntry) []rawEntry { return replaced(e, "www/index.html", []byte("<html>changed</html>")) }), MetadataName, "computed from the www/ entries"},
		{"short comment", buildZip(t, entriesOf(t, valid), "signed"), "", "zip comment is 6 bytes"},
		{"bytes after comment", append(append([]byte(nil), valid...), "trailing"...), "", "not the last 512 bytes"},
	}

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			expectProblem(t, problemsOf(t, c.data, ReadOptions{}), c.entry, c.fragment)
		})
	}
}

func TestReadTamperedByte(t *testing.T) {
	valid := writeSample(t, WriteOptions{})

	// The content of www/css/app.css is stored, so it appears as is.
	at := bytes.Index(valid, []byte("body { color: red }"))
	if at < 0 {
		t.Fatal("stored content of www/css/app.css not found in the archive")
	}
	tampered := append([]byte(nil), valid...)
	tampered[at] = 'B'

	expectProblem(t, problemsOf(t, tampered, ReadOptions{}), "www/css/app.css", "CRC-32")
}

func TestReadNotZip(t *testing.T) {
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(writeSample(t, WriteOptions{}))
	w.Close()

	expectProblem(t, problemsOf(t, gz.Bytes(), ReadOptions{}), "", "gzip-compressed zip archive (.zip.gz), not a zip")

	var plain bytes.Buffer
	w = gzip.NewWriter(&plain)
	w.Write([]byte("just text"))
	w.Close()
	expectProblem(t, problemsOf(t, plain.Bytes(), ReadOptions{}), "", "a gzip archive, not a zip")
	expectProblem(t, problemsOf(t, []byte("hello, world"), ReadOptions{}), "", "does not start with a zip entry")
	expectProblem(t, problemsOf(t, nil, ReadOptions{}), "", "empty")
}

func TestInvalidArchiveErrorNamesEntries(t *testing.T) {
	err := &InvalidArchiveError{Problems: []Problem{
		{Entry: "www/a.js", Rule: "duplicate entry name"},
		{Entry: "", Rule: "zip comment is 6 bytes"},
	}}

	msg := err.Error()
	for _, want := range []string{"www/a.js: duplicate entry name", "zip comment is 6 bytes", "2 problems"} {
		if !bytes.Contains([]byte(msg), []byte(want)) {
			t.Errorf("error %q does not contain %q", msg, want)
		}
	}
}

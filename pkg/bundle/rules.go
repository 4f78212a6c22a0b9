package bundle

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"unicode/utf8"

	"github.com/mholt/archives"

	"github.com/mfpdev/mfpdev/pkg/signing"
	"github.com/mfpdev/mfpdev/pkg/webres"
)

const (
	localHeaderSignature = "PK\x03\x04"
	endRecordSignature   = "PK\x05\x06"
	endRecordSize        = 22
)

// formatNames spells out the formats identify names by extension.
var formatNames = map[string]string{
	"gz": "gzip", "bz2": "bzip2", "xz": "xz", "zst": "zstd", "br": "brotli",
	"lz4": "LZ4", "sz": "Snappy", "lz": "lzip", "tar": "tar", "7z": "7-Zip",
	"rar": "RAR", "zip": "zip",
}

func formatName(ext string) string {
	if name := formatNames[ext]; name != "" {
		return name
	}

	return ext
}

// describeFormat names a format from its extensions: "gz" is a gzip
// archive, "tar.gz" a gzip-compressed tar archive.
func describeFormat(ext string) string {
	parts := strings.Split(strings.TrimPrefix(ext, "."), ".")
	if len(parts) == 1 {
		return "a " + formatName(parts[0]) + " archive"
	}

	outer := formatName(parts[len(parts)-1])
	inner := formatName(strings.Join(parts[:len(parts)-1], "."))

	return fmt.Sprintf("a %s-compressed %s archive (%s)", outer, inner, ext)
}

// identify returns why the file is not a zip that starts with an entry,
// naming its format when it is another known archive or compression
// format, or "" when it starts like a zip.
func identify(ctx context.Context, r io.ReaderAt, size int64) string {
	head := make([]byte, 4)
	n, _ := r.ReadAt(head, 0)
	if bytes.Equal(head[:n], []byte(localHeaderSignature)) {
		return ""
	}

	format, _, err := archives.Identify(ctx, "", io.NewSectionReader(r, 0, size))
	if err == nil && format != nil && format.Extension() != ".zip" {
		return fmt.Sprintf("the file is %s, not a zip: upload the direct-update .zip that mfpdev wrote", describeFormat(format.Extension()))
	}

	if size == 0 {
		return "the file is empty, not a zip"
	}

	return "the file does not start with a zip entry (PK\\x03\\x04): it is not a zip, or it has data before its first entry, which Android's ZipInputStream cannot read"
}

// checkComment checks that the zip comment is exactly 512 bytes and the
// last 512 bytes of the file.
func (rd *reader) checkComment() {
	if n := len(rd.zr.Comment); n != signing.CommentSize {
		rd.problem("", "zip comment is %d bytes, expected exactly %d (spaces or a signature)", n, signing.CommentSize)
		return
	}

	tailSize := int64(endRecordSize + signing.CommentSize)
	if rd.size < tailSize {
		rd.problem("", "file too short (%d bytes) for a %d-byte comment", rd.size, signing.CommentSize)
		return
	}

	tail := make([]byte, tailSize)
	if _, err := rd.r.ReadAt(tail, rd.size-tailSize); err != nil {
		rd.problem("", "read the end of the file: %v", err)
		return
	}
	if string(tail[:4]) != endRecordSignature || binary.LittleEndian.Uint16(tail[20:22]) != signing.CommentSize {
		rd.problem("", "the zip comment is not the last %d bytes of the file: remove the bytes after it", signing.CommentSize)
	}
}

// checkEntries checks every entry header and name, and records the entries.
func (rd *reader) checkEntries() {
	rd.byName = make(map[string]*entryState, len(rd.zr.File))
	dirs := make(map[string]bool)
	files := make(map[string]bool)
	var wwwPaths []string

	for _, f := range rd.zr.File {
		es := &entryState{file: f}
		es.entry = Entry{
			Name:       f.Name,
			Dir:        strings.HasSuffix(f.Name, "/"),
			PackedSize: int64(f.CompressedSize64),
			Method:     f.Method,
		}
		rd.entries = append(rd.entries, es)

		if rd.byName[f.Name] != nil {
			rd.problem(f.Name, "duplicate entry name")
			continue
		}
		rd.byName[f.Name] = es

		es.valid = rd.checkName(es) && rd.checkHeader(es)
		if p, ok := entryPath(f.Name); ok && p != "" {
			es.entry.Path = p
			wwwPaths = append(wwwPaths, p)
			if es.entry.Dir {
				dirs[p] = true
			} else {
				files[p] = true
			}
		}
	}

	for p := range dirs {
		if files[p] {
			rd.problem("www/"+p, "a directory entry and a file have this name")
			rd.byName["www/"+p].valid = false
		}
	}

	for _, c := range webres.FindCollisions(wwwPaths) {
		rd.problem("www/"+c.Paths[len(c.Paths)-1], "collides with www/%s: %s", strings.Join(c.Paths[:len(c.Paths)-1], ", www/"), c.Reason)
	}
}

// checkName checks the name of one entry: its encoding and where it sits.
func (rd *reader) checkName(es *entryState) bool {
	f := es.file
	name := f.Name

	if !utf8.ValidString(name) {
		rd.problem(name, "name is not valid UTF-8")
		return false
	}
	if f.Flags&flagUTF8 == 0 && !isASCII(name) {
		rd.problem(name, "non-ASCII name without the UTF-8 flag (general purpose bit 11)")
		return false
	}
	if strings.Contains(name, `\`) {
		rd.problem(name, `name contains '\': use '/' as the separator`)
		return false
	}

	switch name {
	case MetadataName, DDUScriptName:
		return true
	case "www/":
		return true
	}

	if strings.HasPrefix(name, "/") || len(name) >= 2 && name[1] == ':' && isASCIILetter(name[0]) {
		rd.problem(name, "absolute path: unzippers would write it outside the folder they extract to")
		return false
	}

	p, ok := entryPath(name)
	if !ok {
		rd.problem(name, "entry outside www/: only www/..., %s and %s may sit at the root", MetadataName, DDUScriptName)
		return false
	}
	if err := webres.ValidatePath(p); err != nil {
		rd.problem(name, "%v", err)
		return false
	}

	return true
}

// checkHeader checks the header fields of one entry.
func (rd *reader) checkHeader(es *entryState) bool {
	f := es.file
	ok := true

	mode := f.Mode()
	switch {
	case mode&fs.ModeSymlink != 0:
		rd.problem(f.Name, "symbolic link entry: devices extract only regular files")
		ok = false
	case mode&fs.ModeType&^fs.ModeDir != 0:
		rd.problem(f.Name, "special file entry (mode %v): devices extract only regular files", mode)
		ok = false
	case es.entry.Dir != mode.IsDir():
		rd.problem(f.Name, "directory mode on an entry whose name does not end with '/'")
		ok = false
	}

	if f.Flags&flagEncrypted != 0 {
		rd.problem(f.Name, "encrypted entry")
		ok = false
	}
	if f.Method != zip.Store && f.Method != zip.Deflate {
		rd.problem(f.Name, "compression method %d not supported: use Store (0) or Deflate (8)", f.Method)
		ok = false
	}
	if f.Method == zip.Store && f.Flags&flagDataDescriptor != 0 {
		rd.problem(f.Name, "stored entry with a data descriptor (flag bit 3), which Android's ZipInputStream cannot read")
		ok = false
	}
	if es.entry.Dir && f.UncompressedSize64 != 0 {
		rd.problem(f.Name, "directory entry with %d bytes of content", f.UncompressedSize64)
		ok = false
	}
	if es.entry.Dir && (f.Name == MetadataName+"/" || f.Name == DDUScriptName+"/") {
		rd.problem(f.Name, "directory entry named like a root file")
		ok = false
	}

	return ok
}

// checkDeclaredSizes rejects an archive whose headers alone exceed the
// limits, before anything is decompressed.
func (rd *reader) checkDeclaredSizes() bool {
	limits := rd.budget.limits
	var total uint64
	ok := true

	for _, f := range rd.zr.File {
		total += f.UncompressedSize64
		if f.UncompressedSize64 > ratioGrace && f.UncompressedSize64 > f.CompressedSize64*uint64(limits.MaxRatio) {
			ratio := f.UncompressedSize64 / max(f.CompressedSize64, 1)
			rd.problem(f.Name, "%v", &LimitError{Limit: limitRatio, Value: int64(ratio), Max: limits.MaxRatio, Entry: f.Name})
			ok = false
		}
	}
	if total > uint64(limits.MaxUncompressed) {
		rd.problem("", "%v", &LimitError{Limit: limitUncompressed, Value: int64(min(total, 1<<62)), Max: limits.MaxUncompressed})
		ok = false
	}

	return ok
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}

	return true
}

func isASCIILetter(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

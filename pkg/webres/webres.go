// Package webres reads the prepared web resources of a Cordova platform
// (its www folder) the way a direct update needs them.
//
// Scan lists the regular files of a www folder, follows symbolic links that
// stay inside it, leaves out operating-system junk (each listed in
// Tree.Omitted with its reason) and rejects names that a device or a
// developer machine cannot store. Compute and Tree.Sum compute the
// web-resources checksum exactly as cordova-plugin-mfp 8.0 does:
//
//  1. list every regular file as a '/'-separated path relative to www;
//  2. add "filelist" if it is not there;
//  3. sort the paths by UTF-16 code units (JavaScript's default sort);
//  4. drop paths whose last element is skinLoader.js, checksum.js,
//     .DS_Store, .jazzignore, .gitignore, .gitattributes or Thumbs.db;
//  5. the content of filelist is the remaining paths, each prefixed with
//     '/', joined with '\n' and without a trailing newline;
//  6. run one CRC-32 (IEEE) over, for each path in order, the file's bytes
//     with every '\r' byte removed and then the UTF-8 bytes of "/"+path.
//
// The size is the sum of the raw file sizes, filelist included. The
// checksum travels to the device in checksum.js (see ChecksumJS), which is
// excluded from the checksum by name so that it can be written afterwards.
package webres

import (
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// ChecksumJSPath is the path, relative to the www folder, of the file the
// plugin's runtime reads the checksum from.
const ChecksumJSPath = "plugins/cordova-plugin-mfp/worklight/checksum.js"

// FileListName is the file at the www root that lists the checksummed paths.
const FileListName = "filelist"

// File is one regular file of a scanned www folder.
type File struct {
	Path     string // relative to the www root, '/'-separated, as on disk
	DiskPath string // absolute path to read (symbolic links resolved)
	Size     int64  // bytes, as seen by Scan
}

// Omitted is a file or folder that Scan left out on purpose.
type Omitted struct {
	Path   string
	Reason string
}

// Problem is one reason a www folder or an archive entry name is invalid.
// Paths has one element, or two for a collision.
type Problem struct {
	Paths  []string
	Reason string
}

// InvalidTreeError lists every problem Scan found under Root.
type InvalidTreeError struct {
	Root     string
	Problems []Problem
}

func (e *InvalidTreeError) Error() string {
	var b strings.Builder
	noun := "problems"
	if len(e.Problems) == 1 {
		noun = "problem"
	}
	fmt.Fprintf(&b, "scan %s: %d %s, fix each and run again:", e.Root, len(e.Problems), noun)
	for _, p := range e.Problems {
		fmt.Fprintf(&b, "\n  %s: %s", strings.Join(p.Paths, ", "), p.Reason)
	}
	return b.String()
}

// checksumExcluded are the last path elements the plugin leaves out of the
// checksum and the filelist, compared with exact case.
var checksumExcluded = map[string]bool{
	"skinLoader.js":  true,
	"checksum.js":    true,
	".DS_Store":      true,
	".jazzignore":    true,
	".gitignore":     true,
	".gitattributes": true,
	"Thumbs.db":      true,
}

// ExcludedFromChecksum reports whether the plugin leaves path out of the
// checksum and the filelist because of its last element.
func ExcludedFromChecksum(path string) bool {
	return checksumExcluded[path[strings.LastIndexByte(path, '/')+1:]]
}

// Less reports whether a sorts before b in checksum order: by UTF-16 code
// units, as JavaScript's Array.prototype.sort compares strings. It differs
// from byte order only when a character above U+FFFF meets one in
// U+E000..U+FFFF.
func Less(a, b string) bool {
	// Skip the bytes the two share, back to the start of a character, so
	// that the decoding below starts where they differ.
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	for i > 0 && i < len(a) && a[i]&0xC0 == 0x80 {
		i--
	}
	a, b = a[i:], b[i:]

	for a != "" && b != "" {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if ra == utf8.RuneError && na == 1 && rb == utf8.RuneError && nb == 1 && a[0] != b[0] {
			// Invalid UTF-8 has no UTF-16 form; keep the order total.
			return a[0] < b[0]
		}
		if ra != rb {
			return lessUTF16(ra, rb)
		}
		a, b = a[na:], b[nb:]
	}
	return a == "" && b != ""
}

// lessUTF16 compares two different runes by their UTF-16 encodings.
func lessUTF16(a, b rune) bool {
	ua := utf16.AppendRune(nil, a)
	ub := utf16.AppendRune(nil, b)
	for i := 0; i < len(ua) && i < len(ub); i++ {
		if ua[i] != ub[i] {
			return ua[i] < ub[i]
		}
	}
	return len(ua) < len(ub)
}

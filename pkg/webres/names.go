package webres

import (
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// windowsReserved are the device names Windows reserves with any extension.
var windowsReserved = map[string]bool{
	"CON": true, "PRN": true, "AUX": true, "NUL": true,
	"COM1": true, "COM2": true, "COM3": true, "COM4": true, "COM5": true,
	"COM6": true, "COM7": true, "COM8": true, "COM9": true,
	"LPT1": true, "LPT2": true, "LPT3": true, "LPT4": true, "LPT5": true,
	"LPT6": true, "LPT7": true, "LPT8": true, "LPT9": true,
}

// checkName returns why one path element cannot be shipped, or "" when it
// can. The rules are Windows's (NTFS), the strictest file system a project
// is checked out on, plus no '\' (a separator to some unzippers) and no
// control characters.
func checkName(name string) string {
	if !utf8.ValidString(name) {
		return fmt.Sprintf("name %q is not valid UTF-8: rename it", name)
	}
	if strings.ContainsRune(name, '\\') {
		return `name contains '\', which devices read as a folder separator: rename it`
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return fmt.Sprintf("name contains the control character %U: rename it", r)
		}
	}
	if i := strings.IndexAny(name, `<>:"|?*`); i >= 0 {
		return fmt.Sprintf("name contains %q, which Windows does not allow in file names: rename it", name[i])
	}
	if strings.HasSuffix(name, " ") || strings.HasSuffix(name, ".") {
		return "name ends with a space or a dot, which Windows drops: rename it"
	}
	base, _, _ := strings.Cut(name, ".")
	if windowsReserved[strings.ToUpper(base)] {
		return fmt.Sprintf("name %q is a device name reserved by Windows: rename it", name)
	}
	return ""
}

// ValidatePath checks one entry name of an archive or a www folder. A valid
// name is a relative '/'-separated path of valid UTF-8 without a drive
// letter and without empty, "." or ".." elements. Every element must also
// pass the rules Scan applies to file names. Callers remove the trailing '/'
// of a directory entry first.
func ValidatePath(p string) error {
	switch {
	case p == "":
		return fmt.Errorf("invalid path: empty")
	case !utf8.ValidString(p):
		return fmt.Errorf("invalid path %q: not valid UTF-8, rename the file in UTF-8", p)
	case strings.HasPrefix(p, "/"):
		return fmt.Errorf("invalid path %q: absolute, use a path relative to www", p)
	case len(p) >= 2 && p[1] == ':' && (p[0] >= 'a' && p[0] <= 'z' || p[0] >= 'A' && p[0] <= 'Z'):
		return fmt.Errorf("invalid path %q: starts with a drive letter, use a path relative to www", p)
	}
	for elem := range strings.SplitSeq(p, "/") {
		switch elem {
		case "":
			return fmt.Errorf("invalid path %q: empty element, remove the doubled or trailing '/'", p)
		case ".", "..":
			return fmt.Errorf("invalid path %q: contains a %q element, use a path inside www", p, elem)
		}
		if reason := checkName(elem); reason != "" {
			return fmt.Errorf("invalid path %q: %s", p, reason)
		}
	}
	return nil
}

// junkReason returns why Scan leaves a name out as operating-system or
// editor junk, or "" when the name is kept.
func junkReason(name string, isDir bool) string {
	switch {
	case isDir && name == "__MACOSX":
		return "macOS archive metadata folder, left out with everything under it"
	case isDir:
		return ""
	case name == ".DS_Store":
		return "macOS Finder metadata"
	case name == "Thumbs.db":
		return "Windows thumbnail cache"
	case name == "desktop.ini":
		return "Windows folder settings"
	case strings.HasSuffix(name, ".swp"), strings.HasSuffix(name, ".swo"):
		return "Vim swap file"
	case strings.HasSuffix(name, "~"):
		return "editor backup file"
	case strings.HasPrefix(name, ".#"):
		return "Emacs lock file"
	}
	return ""
}

// FindCollisions returns a Problem for every two paths, or folders above
// them, that are different strings but equal after Unicode NFC
// normalization or after case folding. Such files overwrite each other on
// the case-insensitive, normalizing file systems of iOS, macOS and Windows.
func FindCollisions(paths []string) []Problem {
	fold := cases.Fold()
	first := make(map[string]string) // key -> first spelling seen
	reported := make(map[[2]string]bool)
	checked := make(map[string]bool) // folder prefixes recur for every file below them
	var problems []Problem

	for _, p := range paths {
		for end := 0; end < len(p); {
			next := strings.IndexByte(p[end+1:], '/')
			if next < 0 {
				end = len(p)
			} else {
				end = end + 1 + next
			}
			prefix := p[:end]
			if checked[prefix] {
				continue
			}
			checked[prefix] = true
			key := collisionKey(fold, prefix)

			seen, ok := first[key]
			if !ok {
				first[key] = prefix
				continue
			}
			if seen == prefix || reported[[2]string{seen, prefix}] {
				continue
			}
			reported[[2]string{seen, prefix}] = true
			reason := "names differ only in letter case, so they are one file on iOS, macOS and Windows: rename one"
			if norm.NFC.String(seen) == norm.NFC.String(prefix) {
				reason = "names differ only in Unicode normalization (NFC/NFD), so they are one file on iOS and macOS: rename one"
			}
			problems = append(problems, Problem{Paths: []string{seen, prefix}, Reason: reason})
		}
	}

	sort.SliceStable(problems, func(i, j int) bool { return Less(problems[i].Paths[0], problems[j].Paths[0]) })
	return problems
}

// collisionKey returns the name two paths share when a case-insensitive,
// normalizing file system would store them as one. For ASCII, case folding
// is lowercasing, which avoids the allocations of the Unicode transforms.
func collisionKey(fold cases.Caser, path string) string {
	ascii := true
	for i := 0; i < len(path); i++ {
		if path[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(path)
	}
	return norm.NFC.String(fold.String(norm.NFC.String(path)))
}

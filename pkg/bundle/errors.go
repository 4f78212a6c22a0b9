package bundle

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Problem is one rule an archive breaks.
type Problem struct {
	// Entry is the zip entry name the rule is about, or "" for the archive
	// as a whole (its comment, its central directory).
	Entry string
	Rule  string
}

// String returns "entry: rule". An entry name with control characters or
// invalid UTF-8 is quoted, so that printing a hostile archive's problems
// cannot send escape sequences to a terminal.
func (p Problem) String() string {
	if p.Entry == "" {
		return escapeControls(p.Rule)
	}

	name := p.Entry
	if !printable(name) {
		name = strconv.Quote(name)
	}

	return fmt.Sprintf("%s: %s", name, escapeControls(p.Rule))
}

// escapeControls replaces the control characters of a rule, which may
// quote an entry name, with Go escapes.
func escapeControls(s string) string {
	if printable(s) {
		return s
	}

	quoted := strconv.Quote(s)
	return quoted[1 : len(quoted)-1]
}

func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return false
		}
	}

	return true
}

// InvalidArchiveError lists every rule an archive breaks.
type InvalidArchiveError struct {
	Problems []Problem
}

func (e *InvalidArchiveError) Error() string {
	var b strings.Builder
	b.WriteString("invalid direct-update archive")

	if len(e.Problems) == 1 {
		b.WriteString(": ")
		b.WriteString(e.Problems[0].String())

		return b.String()
	}

	fmt.Fprintf(&b, " (%d problems):", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}

	return b.String()
}

package bundle

import (
	"fmt"
	"strings"
)

// Problem is one rule an archive breaks.
type Problem struct {
	// Entry is the zip entry name the rule is about, or "" for the archive
	// as a whole (its comment, its central directory).
	Entry string
	Rule  string
}

func (p Problem) String() string {
	if p.Entry == "" {
		return p.Rule
	}

	return fmt.Sprintf("%s: %s", p.Entry, p.Rule)
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

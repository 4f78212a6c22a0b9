package bundle

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
)

// Default limits of Read.
const (
	DefaultMaxEntries      = 100_000
	DefaultMaxUncompressed = 1 << 30
	DefaultMaxRatio        = 200

	// ratioGrace is the size an entry may reach before its compression
	// ratio is checked: small files of repeated bytes compress by more
	// than any sane ratio limit and are harmless.
	ratioGrace = 1 << 20

	// maxMetadataSize bounds the metadata file, which lists every file
	// (about 150 bytes each).
	maxMetadataSize = 64 << 20
)

// Limits bound the work Read does on an untrusted archive. A zero field
// takes its default.
type Limits struct {
	MaxEntries      int   // entries in the central directory
	MaxUncompressed int64 // total bytes of all entries once decompressed
	// MaxRatio bounds uncompressed/compressed size of each entry larger
	// than 1 MiB.
	MaxRatio int64
}

func (l Limits) withDefaults() Limits {
	if l.MaxEntries <= 0 {
		l.MaxEntries = DefaultMaxEntries
	}
	if l.MaxUncompressed <= 0 {
		l.MaxUncompressed = DefaultMaxUncompressed
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = DefaultMaxRatio
	}

	return l
}

// LimitError reports an archive that exceeds one of the Limits. Read lists
// it as a Problem.
type LimitError struct {
	Limit string // "entries", "total uncompressed size" or "compression ratio"
	Value int64  // the value reached
	Max   int64  // the limit
	Entry string // the entry, for the compression ratio
}

func (e *LimitError) Error() string {
	switch e.Limit {
	case limitRatio:
		return fmt.Sprintf("compression ratio reached %d, over the limit of %d", e.Value, e.Max)
	case limitEntries:
		return fmt.Sprintf("%d entries, over the limit of %d", e.Value, e.Max)
	}

	return fmt.Sprintf("%s reached %d bytes, over the limit of %d bytes", e.Limit, e.Value, e.Max)
}

const (
	limitEntries      = "entries"
	limitUncompressed = "total uncompressed size"
	limitRatio        = "compression ratio"
)

// budget counts the bytes decompressed from all entries of one archive.
type budget struct {
	limits Limits
	total  atomic.Int64
}

// meteredReader counts the bytes read from one entry and fails as soon as
// the entry or the archive goes over a limit, whatever the headers claim.
type meteredReader struct {
	ctx    context.Context
	r      io.Reader
	entry  string
	packed int64
	budget *budget
	n      int64
}

func (m *meteredReader) Read(p []byte) (int, error) {
	if err := m.ctx.Err(); err != nil {
		return 0, err
	}

	n, err := m.r.Read(p)
	m.n += int64(n)

	l := m.budget.limits
	if total := m.budget.total.Add(int64(n)); total > l.MaxUncompressed {
		return n, &LimitError{Limit: limitUncompressed, Value: total, Max: l.MaxUncompressed}
	}
	if m.n > ratioGrace && m.n > m.packed*l.MaxRatio {
		return n, &LimitError{Limit: limitRatio, Value: m.n / max(m.packed, 1), Max: l.MaxRatio, Entry: m.entry}
	}

	return n, err
}

// Package iostreams holds the standard streams of a command and whether each
// is a terminal, so that commands print progress and prompt only on a
// terminal and tests can run them with plain buffers.
package iostreams

import (
	"bytes"
	"io"
	"os"

	"golang.org/x/term"
)

// IOStreams is the set of streams a command reads and writes.
// Out carries results only; ErrOut carries progress, warnings and errors.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	stdinTTY  bool
	stdoutTTY bool
	stderrTTY bool
}

// System returns the process's standard streams. CI=true or
// MFPDEV_NO_TTY=1 makes every stream count as a non-terminal.
func System() *IOStreams {
	forceNoTTY := os.Getenv("MFPDEV_NO_TTY") == "1"
	isTTY := func(f *os.File) bool { return !forceNoTTY && term.IsTerminal(int(f.Fd())) }
	return &IOStreams{
		In:        os.Stdin,
		Out:       os.Stdout,
		ErrOut:    os.Stderr,
		stdinTTY:  isTTY(os.Stdin),
		stdoutTTY: isTTY(os.Stdout),
		stderrTTY: isTTY(os.Stderr),
	}
}

// Test returns streams backed by buffers, none of them a terminal.
func Test() (streams *IOStreams, in, out, errOut *bytes.Buffer) {
	in, out, errOut = &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut}, in, out, errOut
}

// IsStdinTTY reports whether standard input is a terminal.
func (s *IOStreams) IsStdinTTY() bool { return s.stdinTTY }

// IsStdoutTTY reports whether standard output is a terminal.
func (s *IOStreams) IsStdoutTTY() bool { return s.stdoutTTY }

// IsStderrTTY reports whether standard error is a terminal.
func (s *IOStreams) IsStderrTTY() bool { return s.stderrTTY }

// SetTTY marks all three streams as terminals or not; tests use it.
func (s *IOStreams) SetTTY(tty bool) {
	s.stdinTTY, s.stdoutTTY, s.stderrTTY = tty, tty, tty
}

// CanPrompt reports whether the user can answer a prompt: both standard
// input and standard error must be terminals.
func (s *IOStreams) CanPrompt() bool { return s.stdinTTY && s.stderrTTY }

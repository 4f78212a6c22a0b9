// Package cmdutil holds what every mfpdev command shares: the Factory of
// dependencies, the error types that map to exit codes, and small helpers
// for flags and output.
package cmdutil

import (
	"net/http"
	"os"
	"time"

	"github.com/mfpdev/mfpdev/internal/cli/iostreams"
	"github.com/mfpdev/mfpdev/internal/cli/prompt"
)

// Factory carries the dependencies of the commands. Tests build one with
// buffers for streams, a scripted prompter and a fixed clock.
type Factory struct {
	IOStreams *iostreams.IOStreams
	Prompter  prompt.Prompter
	// HTTPClient returns the client for talking to update servers.
	HTTPClient func() *http.Client
	// Getenv reads an environment variable.
	Getenv func(string) string
	// Now returns the current time.
	Now func() time.Time
	// WorkDir returns the folder the command was started in.
	WorkDir func() (string, error)
	// Version is the mfpdev version, set at build time.
	Version string
}

// NewFactory returns the Factory of a real process.
func NewFactory(version string) *Factory {
	return &Factory{
		IOStreams:  iostreams.System(),
		Prompter:   prompt.Survey{},
		HTTPClient: func() *http.Client { return &http.Client{Timeout: 5 * time.Minute} },
		Getenv:     os.Getenv,
		Now:        time.Now,
		WorkDir:    os.Getwd,
		Version:    version,
	}
}

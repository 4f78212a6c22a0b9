// Package cmdutil holds what every mfpdev command shares: the Factory of
// dependencies, the error types that map to exit codes, and small helpers
// for flags and output.
package cmdutil

import (
	"net"
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

// newHTTPClient returns the client for update servers. It sets no overall
// timeout, because uploads and downloads of large archives may take long:
// each request is bounded by its context, and connecting, the TLS
// handshake and waiting for response headers have their own limits.
func newHTTPClient() *http.Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.DialContext = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	transport.TLSHandshakeTimeout = 15 * time.Second
	transport.ResponseHeaderTimeout = 10 * time.Minute
	return &http.Client{Transport: transport}
}

// NewFactory returns the Factory of a real process.
func NewFactory(version string) *Factory {
	return &Factory{
		IOStreams:  iostreams.System(),
		Prompter:   prompt.Survey{},
		HTTPClient: newHTTPClient,
		Getenv:     os.Getenv,
		Now:        time.Now,
		WorkDir:    os.Getwd,
		Version:    version,
	}
}

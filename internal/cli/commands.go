package cli

import (
	"github.com/spf13/cobra"

	"github.com/mfpdev/mfpdev/internal/cli/cmdutil"
)

// The top-level commands, in the order "mfpdev --help" lists them.
// Each package provides a NewCmd… constructor taking the Factory:
// app (build and push web updates), archive (inspect and verify archives),
// keys (signing keys), server (run an update server, manage server
// profiles), device (act as a device).
var subcommands = []func(*cmdutil.Factory) *cobra.Command{}

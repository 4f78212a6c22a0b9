// Package server implements "mfpdev server": running a local update server
// (start) and managing the server profiles that "mfpdev app webupdate"
// pushes to (add, edit, remove, list, info).
package server

import (
	"github.com/spf13/cobra"

	"github.com/mfpdev/mfpdev/internal/cli/cmdutil"
)

// NewCmdServer returns the "server" command and its subcommands.
func NewCmdServer(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "server <command>",
		Short: "Run an update server and manage server profiles",
		Long: `Run a local update server, and manage the server profiles that
"mfpdev app webupdate" pushes archives to.

A profile stores a server's URL, login, admin context root, default runtime
and request timeout, and optionally its password. With no profile, pushes go
to the local server at http://localhost:9080 with login admin and password
admin, which is what "mfpdev server start" runs by default.

Profiles are kept in $MFPDEV_CONFIG, or mfpdev/config.json in the user's
configuration folder, readable by the user only.`,
	}

	cmd.AddCommand(NewCmdAdd(f, nil))
	cmd.AddCommand(NewCmdEdit(f, nil))
	cmd.AddCommand(NewCmdRemove(f, nil))
	cmd.AddCommand(NewCmdList(f, nil))
	cmd.AddCommand(NewCmdInfo(f, nil))
	if newCmdStart != nil {
		cmd.AddCommand(newCmdStart(f))
	}
	cmd.AddCommand(NewCmdHashPassword(f, nil))
	return cmd
}

// newCmdStart builds "server start". The init function of start.go sets it.
var newCmdStart func(f *cmdutil.Factory) *cobra.Command

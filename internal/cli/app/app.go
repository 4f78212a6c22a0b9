// Package app implements "mfpdev app": building the direct-update archives
// of a Cordova project, pushing them to an update server, and editing the
// project's direct-update settings.
package app

import (
	"github.com/spf13/cobra"

	"github.com/mfpdev/mfpdev/internal/cli/cmdutil"
)

// NewCmdApp returns the "app" command and its subcommands.
func NewCmdApp(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "app <command>",
		Short: "Build and push web updates of a Cordova app",
	}
	cmd.AddCommand(NewCmdWebupdate(f, nil))
	cmd.AddCommand(NewCmdConfig(f, nil))
	cmd.AddCommand(NewCmdDeployments(f, nil))
	cmd.AddCommand(NewCmdUndeploy(f, nil))
	return cmd
}

package cli

import (
	"github.com/spf13/cobra"

	"github.com/mfpdev/mfpdev/internal/cli/app"
	"github.com/mfpdev/mfpdev/internal/cli/archive"
	"github.com/mfpdev/mfpdev/internal/cli/cmdutil"
	"github.com/mfpdev/mfpdev/internal/cli/device"
	"github.com/mfpdev/mfpdev/internal/cli/keys"
	"github.com/mfpdev/mfpdev/internal/cli/server"
)

// subcommands are the constructors of the top-level commands, in the order
// "mfpdev --help" lists them.
var subcommands = []func(*cmdutil.Factory) *cobra.Command{
	app.NewCmdApp,         // build and push web updates
	archive.NewCmdArchive, // inspect and verify archives
	keys.NewCmdKeys,       // signing keys
	server.NewCmdServer,   // run an update server; manage server profiles
	device.NewCmdDevice,   // act as a device: check and apply updates
}

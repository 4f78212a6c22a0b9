// Package device implements "mfpdev device check" and "mfpdev device
// update", which play the part of an installed app: they report the
// checksum of a folder of web resources to an update server and apply the
// archive it offers, as cordova-plugin-mfp does on a phone.
package device

import (
	"github.com/spf13/cobra"

	"github.com/mfpdev/mfpdev/internal/cli/cmdutil"
)

// NewCmdDevice returns the "device" command and its subcommands.
func NewCmdDevice(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "device <command>",
		Short: "Act as a device: check for and apply direct updates",
		Long: `Act as an installed app that uses cordova-plugin-mfp: report the
checksum of a folder of web resources to an update server, and download,
verify and apply the archive it offers.

The folder is replaced only after the archive has been verified and
unpacked beside it; the device's own state (partial download, lock,
integrity-failure flag) lives in a hidden folder next to it,
.mfpdev-device-<folder name>.`,
	}
	cmd.AddCommand(NewCmdCheck(f, nil))
	cmd.AddCommand(NewCmdUpdate(f, nil))
	return cmd
}

package device

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mfpdev/mfpdev/internal/cli/cmdutil"
	"github.com/mfpdev/mfpdev/pkg/protocol"
)

// CheckOptions are the inputs of "mfpdev device check".
type CheckOptions struct {
	deviceOptions
}

// NewCmdCheck returns "mfpdev device check". runF replaces checkRun in tests.
func NewCmdCheck(f *cmdutil.Factory, runF func(*CheckOptions) error) *cobra.Command {
	opts := &CheckOptions{deviceOptions{IO: f.IOStreams, HTTPClient: f.HTTPClient, Getenv: f.Getenv}}
	cmd := &cobra.Command{
		Use:   "check [server-profile] --www DIR [flags]",
		Short: "Ask the server whether an update is available for a folder of web resources",
		Long: `Ask the update server whether an update is available, as an installed app
does at start-up: send the app id, platform, app version, plugin version and
the checksum in the folder's plugins/cordova-plugin-mfp/worklight/checksum.js,
and print the answer with its reason.

App id, app version, plugin version and public key default to the values of
the Cordova project the folder belongs to, or of the project --project names
when the folder is a copy outside it; the platform defaults to the
platforms/<name> folder it is in.

The server is taken from the first of these that applies:
  1. --url
  2. the server profile named as the argument
  3. the default server profile, or the only profile (several profiles
     without a default are an error)
  4. the url of the <mfp:server> element in the project's config.xml
  5. ` + protocol.DefaultServerURL + `
The runtime is that of the profile or <mfp:server> element, else
` + protocol.DefaultRuntime + `. --runtime overrides it.

The values are checked before any request. As the server requires, the
plugin version must be at least three dot-separated numbers and the app
version a version such as 1.0.0; the app id and the platform must be those
of a Cordova app.

Check also finishes or rolls back an update that a killed process left
half-applied, so the folder is complete before its checksum is read.
` + exitStatusHelp,
		Example: `  # A device running the prepared Android web resources of this project
  mfpdev device check --www platforms/android/app/src/main/assets/www

  # A copy of the web resources outside the project, with the project's values
  mfpdev device check --www /tmp/device/www --project . --platform ios

  # Any folder, every value given
  mfpdev device check --www ./www --app-id com.example.app --platform android \
      --app-version 1.0.0 --plugin-version 8.0.2024082705 --url http://localhost:9080`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.validateArgs(cmd.Flags(), args); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return checkRun(cmd, opts)
		},
	}
	opts.addFlags(cmd)
	return cmd
}

func checkRun(cmd *cobra.Command, opts *CheckOptions) error {
	d, err := opts.device(cmd.Context())
	if err != nil {
		return err
	}
	resp, err := d.Check(cmd.Context())
	if err != nil {
		return err
	}
	if opts.JSON {
		return cmdutil.WriteJSON(opts.IO.Out, resp)
	}

	out := opts.IO.Out
	sum, _ := reportedChecksum(d)
	fmt.Fprintf(out, "device checksum: %d\n", sum)
	switch {
	case resp.UpdateAvailable:
		fmt.Fprintf(out, "update available: checksum %d, %s archive of %d bytes (%d bytes unpacked)\n",
			resp.Checksum, typeOrFull(resp.Type), resp.PackedSize, resp.UnpackedSize)
	case resp.Reason == protocol.ReasonUpToDate:
		fmt.Fprintln(out, "up to date")
	default:
		fmt.Fprintf(out, "no update: %s\n", describeNoUpdate(resp.Reason, resp.Message, resp.DeployedPluginVersion, resp.DevicePluginVersion))
	}
	return nil
}

func typeOrFull(t string) string {
	if t == "" {
		return protocol.TypeFull
	}
	return t
}

// describeNoUpdate returns the reason for no update with the server's message,
// or with the plugin versions when the server sent no message.
func describeNoUpdate(reason, message, deployedPlugin, devicePlugin string) string {
	switch {
	case message != "":
		return reason + ": " + message
	case reason == protocol.ReasonPluginVersionMismatch:
		return fmt.Sprintf("%s: the deployed archive was built with cordova-plugin-mfp %s, the device has %s", reason, deployedPlugin, devicePlugin)
	}
	return reason
}

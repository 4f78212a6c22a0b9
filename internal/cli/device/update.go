package device

import (
	"errors"
	"fmt"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/mfpdev/mfpdev/internal/cli/cmdutil"
	"github.com/mfpdev/mfpdev/pkg/client"
	"github.com/mfpdev/mfpdev/pkg/protocol"
)

// exitStatusHelp adapts cmdutil.ExitStatusHelp to the device statuses.
const exitStatusHelp = `
Exit status:
  0  up to date, updated (SUCCESS), or no update for the reason printed
  1  the check or the update failed (every FAILURE_… status); the web
     resources folder is unchanged
  2  invalid flags or arguments
  3  interrupted (Ctrl-C or SIGTERM, status CANCELED); the web resources
     folder is unchanged and a partial download is kept for the next run`

// UpdateOptions are the inputs of "mfpdev device update".
type UpdateOptions struct {
	deviceOptions
}

// updateJSON is the --json output of update; its field names are a contract.
type updateJSON struct {
	Status           client.Status `json:"status"`
	Checksum         uint32        `json:"checksum"`
	PreviousChecksum uint32        `json:"previousChecksum"`
	BytesDownloaded  int64         `json:"bytesDownloaded"`
	Type             string        `json:"type"`
	// Reason and Message are set when there was no update to apply.
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
	// Error explains a CANCELED or FAILURE_… status.
	Error string `json:"error,omitempty"`
}

// NewCmdUpdate returns "mfpdev device update". runF replaces updateRun in tests.
func NewCmdUpdate(f *cmdutil.Factory, runF func(*UpdateOptions) error) *cobra.Command {
	opts := &UpdateOptions{deviceOptions{IO: f.IOStreams, HTTPClient: f.HTTPClient, Getenv: f.Getenv}}
	cmd := &cobra.Command{
		Use:   "update [server-profile] --www DIR [flags]",
		Short: "Download, verify and apply the update the server offers",
		Long: `Check for an update and apply it, as cordova-plugin-mfp does on a phone:
download the archive (resuming a partial download of the same archive),
refuse to start without free space for the archive and its unpacked files,
verify the signature when a public key is known, check every entry and the
checksum, unpack beside the folder, and swap the new folder in by rename.
The folder always holds a complete tree, the old one or the new one, even
if the process is killed; the next check or update cleans up.

The outcome is one of the statuses the plugin reports: UP_TO_DATE, SUCCESS,
CANCELED or FAILURE_NETWORK_PROBLEM, FAILURE_DOWNLOADING,
FAILURE_NOT_ENOUGH_SPACE, FAILURE_UNZIPPING, FAILURE_ALREADY_IN_PROGRESS,
FAILURE_INTEGRITY, FAILURE_UNKNOWN. After FAILURE_INTEGRITY the next check
tells the server, which then offers the full archive.

The device's own state (a lock, a partial download, the integrity-failure
flag and a journal of the folder swap) is kept beside the folder, in
.mfpdev-device-<folder name>, never inside it; delete it to forget a
partial download.

When no public key is known, an applied archive's signature is not
checked, as on a device whose config.xml sets no
directUpdateAuthenticityPublicKey, and a note on standard error says so.

Flags and defaults are those of "mfpdev device check".
` + exitStatusHelp,
		Example: `  mfpdev device update --www platforms/android/app/src/main/assets/www
  mfpdev device update staging --www ./www --json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.validateArgs(cmd.Flags(), args); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return updateRun(cmd, opts)
		},
	}
	opts.addFlags(cmd)
	return cmd
}

func updateRun(cmd *cobra.Command, opts *UpdateOptions) error {
	d, err := opts.device(cmd.Context())
	if err != nil {
		return err
	}

	var bar *progressbar.ProgressBar
	var progress client.Progress
	if opts.IO.IsStderrTTY() {
		progress = func(done, total int64) {
			if bar == nil {
				bar = progressbar.NewOptions64(total,
					progressbar.OptionSetDescription("downloading"),
					progressbar.OptionSetWriter(opts.IO.ErrOut),
					progressbar.OptionShowBytes(true),
					progressbar.OptionShowTotalBytes(true),
					progressbar.OptionThrottle(65*time.Millisecond),
					progressbar.OptionFullWidth())
			}
			bar.Set64(done)
		}
	}
	result, err := d.Update(cmd.Context(), progress)
	if bar != nil {
		bar.Finish()
		fmt.Fprintln(opts.IO.ErrOut)
	}

	if opts.JSON {
		if err := cmdutil.WriteJSON(opts.IO.Out, toJSON(result, err)); err != nil {
			return err
		}
	} else {
		printResult(opts, result, err)
	}
	// An unsigned archive has no signature to check, so only a signed one
	// left unchecked is worth a note.
	if err == nil && result.Status == client.StatusSuccess && result.Signed && d.PublicKey == nil {
		fmt.Fprintln(opts.IO.ErrOut, signatureNote(opts.projectConfigPath))
	}
	return exitError(result, err)
}

// signatureNote returns the standard error line for an archive applied
// without a signature check, because neither --public-key nor a project
// gave a key. configPath is the config.xml that was read, or "".
func signatureNote(configPath string) string {
	if configPath == "" {
		return "note: signature not checked: pass --public-key or --project"
	}
	return "note: signature not checked because " + configPath + " sets no directUpdateAuthenticityPublicKey: pass --public-key to check it"
}

func toJSON(r *client.UpdateResult, err error) updateJSON {
	out := updateJSON{
		Status:           r.Status,
		Checksum:         r.Checksum,
		PreviousChecksum: r.PreviousChecksum,
		BytesDownloaded:  r.BytesDownloaded,
		Type:             r.Type,
	}
	if r.Status == client.StatusUpToDate {
		out.Reason, out.Message = r.Reason, r.Message
	}
	if err != nil {
		out.Error = err.Error()
	}
	return out
}

// printResult writes the outcome for a person: the result on stdout, a
// failure on stderr.
func printResult(opts *UpdateOptions, r *client.UpdateResult, err error) {
	out, errOut := opts.IO.Out, opts.IO.ErrOut
	switch {
	case err != nil:
		var failure *client.Failure
		msg := err.Error()
		if errors.As(err, &failure) {
			msg = failure.Err.Error()
		}
		fmt.Fprintf(errOut, "%s: %s\n", r.Status, msg)
	case r.Status == client.StatusSuccess:
		fmt.Fprintf(out, "%s: web resources updated from checksum %d to %d (%s archive, %d bytes downloaded)\n",
			r.Status, r.PreviousChecksum, r.Checksum, typeOrFull(r.Type), r.BytesDownloaded)
	case r.Reason == protocol.ReasonUpToDate || r.Reason == "":
		fmt.Fprintf(out, "%s: checksum %d\n", r.Status, r.Checksum)
	default:
		fmt.Fprintf(out, "%s: checksum %d, no update: %s\n", r.Status, r.Checksum,
			describeNoUpdate(r.Reason, r.Message, r.DeployedPluginVersion, r.DevicePluginVersion))
	}
}

// exitError maps the outcome to the exit status; the outcome is already printed.
func exitError(r *client.UpdateResult, err error) error {
	switch {
	case err == nil:
		return nil
	case r.Status == client.StatusCanceled:
		return &cmdutil.SilentError{Code: cmdutil.ExitCancelled}
	}
	return &cmdutil.SilentError{Code: cmdutil.ExitError}
}

// reportedChecksum returns the checksum d reports.
func reportedChecksum(d *client.Device) (uint32, error) {
	return d.CurrentChecksum()
}

package archive

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/mfpdev/mfpdev/internal/cli/cmdutil"
	"github.com/mfpdev/mfpdev/internal/cli/iostreams"
	"github.com/mfpdev/mfpdev/pkg/bundle"
)

// InspectOptions are the inputs of "mfpdev archive inspect".
type InspectOptions struct {
	IO   *iostreams.IOStreams
	File string
	JSON bool
}

// NewCmdInspect returns the "archive inspect" command.
func NewCmdInspect(f *cmdutil.Factory, runF func(*InspectOptions) error) *cobra.Command {
	opts := &InspectOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "inspect <file>",
		Short: "Show an archive's metadata and entries",
		Long: `Show the metadata of a direct-update archive (app id, platform, app and
plugin versions, checksum, sizes, signature) and its entries.

The archive is read with the same checks as "mfpdev archive verify"; an
archive that fails them is reported and nothing else is shown.
` + cmdutil.ExitStatusLocalHelp,
		Example: `  mfpdev archive inspect mobilefirst/com.example.app-android-1.0.0.zip
  mfpdev archive inspect --json app.zip | jq .metadata.checksum`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			if runF != nil {
				return runF(opts)
			}
			return inspectRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "Print the metadata and entries as one JSON document")
	return cmd
}

// inspectOutput is the JSON document "archive inspect --json" prints.
type inspectOutput struct {
	File     string          `json:"file"`
	Size     int64           `json:"packedSize"` // the archive file's bytes
	SHA256   string          `json:"sha256"`
	Signed   bool            `json:"signed"`
	Delta    bool            `json:"delta"`
	Metadata bundle.Metadata `json:"metadata"`
	Entries  []inspectEntry  `json:"entries"`
}

// inspectEntry is one entry of "archive inspect --json".
type inspectEntry struct {
	Name       string `json:"name"`
	Size       int64  `json:"size"`
	PackedSize int64  `json:"packedSize"`
	Method     string `json:"method"` // "store" or "deflate"
	SHA256     string `json:"sha256,omitempty"`
}

func methodName(method uint16) string {
	if method == 0 {
		return "store"
	}
	return "deflate"
}

func inspectRun(ctx context.Context, opts *InspectOptions) error {
	a, err := readArchive(ctx, opts.File, bundle.ReadOptions{})
	if err != nil {
		return err
	}
	if opts.JSON {
		entries := make([]inspectEntry, len(a.Entries))
		for i, e := range a.Entries {
			entries[i] = inspectEntry{Name: e.Name, Size: e.Size, PackedSize: e.PackedSize, Method: methodName(e.Method), SHA256: e.SHA256}
		}
		return cmdutil.WriteJSON(opts.IO.Out, inspectOutput{
			File: opts.File, Size: a.Size, SHA256: a.SHA256, Signed: a.Signed,
			Delta: a.Delta, Metadata: a.Meta, Entries: entries,
		})
	}
	printMetadata(opts.IO.Out, opts.File, a)
	fmt.Fprintln(opts.IO.Out)
	tw := tabwriter.NewWriter(opts.IO.Out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "SIZE\tPACKED\tMETHOD\t NAME")
	for _, e := range a.Entries {
		fmt.Fprintf(tw, "%d\t%d\t%s\t %s\n", e.Size, e.PackedSize, methodName(e.Method), e.Name)
	}
	return tw.Flush()
}

func printMetadata(w io.Writer, file string, a *bundle.Archive) {
	m := a.Meta
	signed := "no"
	if a.Signed {
		signed = "yes"
	}
	fmt.Fprintf(w, "File:              %s (%d bytes)\n", file, a.Size)
	fmt.Fprintf(w, "SHA-256:           %s\n", a.SHA256)
	fmt.Fprintf(w, "App:               %s %s on %s\n", m.AppID, m.AppVersion, m.Platform)
	fmt.Fprintf(w, "Plugin version:    %s\n", m.PluginVersion)
	if m.PlatformVersion != "" {
		fmt.Fprintf(w, "Platform version:  %s\n", m.PlatformVersion)
	}
	fmt.Fprintf(w, "Checksum:          %d\n", m.Checksum)
	fmt.Fprintf(w, "Files:             %d under www/ (%d bytes unpacked)\n", m.Files, m.UnpackedSize)
	fmt.Fprintf(w, "Signed:            %s\n", signed)
	if m.CreatedBy != "" {
		fmt.Fprintf(w, "Created by:        %s\n", m.CreatedBy)
	}
}

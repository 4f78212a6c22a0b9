// Package archive implements "mfpdev archive": showing what a
// direct-update archive holds and checking it as a device and the update
// server would.
package archive

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/mfpdev/mfpdev/internal/cli/cmdutil"
	"github.com/mfpdev/mfpdev/pkg/bundle"
)

// NewCmdArchive returns the "archive" command and its subcommands.
func NewCmdArchive(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "archive <command>",
		Short: "Inspect and verify direct-update archives",
	}
	cmd.AddCommand(NewCmdInspect(f, nil))
	cmd.AddCommand(NewCmdVerify(f, nil))
	return cmd
}

// readArchive opens and validates the archive at path.
func readArchive(ctx context.Context, path string, opts bundle.ReadOptions) (*bundle.Archive, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	info, err := file.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	a, err := bundle.Read(ctx, file, info.Size(), opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}

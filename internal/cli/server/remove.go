package server

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mfpdev/mfpdev/internal/cli/cmdutil"
)

// RemoveOptions are the inputs of "server remove".
type RemoveOptions struct {
	profileDeps

	Name string
}

// NewCmdRemove returns "server remove". runF replaces removeRun in tests.
func NewCmdRemove(f *cmdutil.Factory, runF func(*RemoveOptions) error) *cobra.Command {
	opts := &RemoveOptions{profileDeps: newProfileDeps(f)}

	cmd := &cobra.Command{
		Use:   "remove NAME",
		Short: "Remove a server profile",
		Long: `Remove a server profile and its saved password. When it was the
default, no profile is the default afterwards.` + "\n" + cmdutil.ExitStatusLocalHelp,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if runF != nil {
				return runF(opts)
			}
			return removeRun(opts)
		},
	}
	return cmd
}

func removeRun(opts *RemoveOptions) error {
	cfg, path, err := opts.loadConfig()
	if err != nil {
		return err
	}
	if err := cfg.Remove(opts.Name); err != nil {
		return err
	}
	if err := cfg.Save(path); err != nil {
		return err
	}

	if opts.IO.IsStderrTTY() {
		fmt.Fprintf(opts.IO.ErrOut, "Removed server profile %s\n", opts.Name)
	}
	return nil
}

package server

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/mfpdev/mfpdev/internal/cli/cmdutil"
)

// InfoOptions are the inputs of "server info".
type InfoOptions struct {
	profileDeps

	// Name is the profile to show; empty means the one a push uses.
	Name string
	JSON bool
}

// NewCmdInfo returns "server info". runF replaces infoRun in tests.
func NewCmdInfo(f *cmdutil.Factory, runF func(*InfoOptions) error) *cobra.Command {
	opts := &InfoOptions{profileDeps: newProfileDeps(f)}

	cmd := &cobra.Command{
		Use:   "info [NAME]",
		Short: "Show a server profile",
		Long: `Show a server profile, or without NAME the profile a push uses: the
default profile, or the local server when no profile exists. The password is
never shown, only whether the profile saves one.

--json prints one object with the fields name, url, login, passwordSaved,
adminContext, runtime, timeout (seconds), default and configured (false for
the built-in local server).` + "\n" + cmdutil.ExitStatusLocalHelp,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Name = args[0]
			}
			if runF != nil {
				return runF(opts)
			}
			return infoRun(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "Print the profile as JSON")
	return cmd
}

func infoRun(opts *InfoOptions) error {
	cfg, path, err := opts.loadConfig()
	if err != nil {
		return err
	}
	p, err := cfg.Resolve(opts.Name)
	if err != nil {
		return err
	}
	_, configured := cfg.Get(p.Name)
	isDefault := cfg.Default == p.Name || !configured
	view := viewOf(p, isDefault, configured)

	if opts.JSON {
		return cmdutil.WriteJSON(opts.IO.Out, view)
	}

	tw := tabwriter.NewWriter(opts.IO.Out, 0, 4, 1, ' ', 0)
	fmt.Fprintf(tw, "name:\t%s\n", view.Name)
	fmt.Fprintf(tw, "url:\t%s\n", view.URL)
	fmt.Fprintf(tw, "login:\t%s\n", view.Login)
	fmt.Fprintf(tw, "password:\t%s\n", savedWord(view.PasswordSaved))
	fmt.Fprintf(tw, "admin context root:\t%s\n", view.AdminContext)
	fmt.Fprintf(tw, "runtime:\t%s\n", view.Runtime)
	fmt.Fprintf(tw, "timeout:\t%ds\n", view.Timeout)
	fmt.Fprintf(tw, "default:\t%t\n", view.Default)
	if configured {
		fmt.Fprintf(tw, "profiles file:\t%s\n", path)
	} else {
		fmt.Fprintf(tw, "profiles file:\t%s (no profile saved: this is the built-in local server)\n", path)
	}
	return tw.Flush()
}

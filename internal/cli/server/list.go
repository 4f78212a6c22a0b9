package server

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/mfpdev/mfpdev/internal/cli/cmdutil"
	"github.com/mfpdev/mfpdev/internal/config"
)

// ListOptions are the inputs of "server list".
type ListOptions struct {
	profileDeps

	JSON bool
}

// NewCmdList returns "server list". runF replaces listRun in tests.
func NewCmdList(f *cmdutil.Factory, runF func(*ListOptions) error) *cobra.Command {
	opts := &ListOptions{profileDeps: newProfileDeps(f)}

	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the server profiles",
		Long: `List the server profiles: a table on a terminal, otherwise one
tab-separated line per profile (name, URL, login, runtime, "default" or empty).

--json prints an array of objects with the fields name, url, login,
passwordSaved, adminContext, runtime, timeout (seconds), default and
configured.` + "\n" + cmdutil.ExitStatusLocalHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return listRun(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "Print the profiles as JSON")
	return cmd
}

func listRun(opts *ListOptions) error {
	cfg, _, err := opts.loadConfig()
	if err != nil {
		return err
	}

	views := make([]profileView, 0, len(cfg.Profiles))
	for _, p := range cfg.Profiles {
		views = append(views, viewOf(p, p.Name == cfg.Default, true))
	}

	if opts.JSON {
		return cmdutil.WriteJSON(opts.IO.Out, views)
	}
	if len(views) == 0 {
		local := config.LocalProfile()
		fmt.Fprintf(opts.IO.ErrOut, "No server profiles: pushes go to %s with login %s. "+
			"Add one with \"mfpdev server add NAME --url URL --login LOGIN\".\n", local.URL, local.Login)
		return nil
	}

	if !opts.IO.IsStdoutTTY() {
		for _, v := range views {
			fmt.Fprintf(opts.IO.Out, "%s\t%s\t%s\t%s\t%s\n", v.Name, v.URL, v.Login, v.Runtime, defaultMark(v.Default, "default"))
		}
		return nil
	}

	tw := tabwriter.NewWriter(opts.IO.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tURL\tLOGIN\tRUNTIME\tPASSWORD\tDEFAULT")
	for _, v := range views {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", v.Name, v.URL, v.Login, v.Runtime,
			savedWord(v.PasswordSaved), defaultMark(v.Default, "*"))
	}
	return tw.Flush()
}

func defaultMark(isDefault bool, mark string) string {
	if isDefault {
		return mark
	}
	return ""
}

func savedWord(saved bool) string {
	if saved {
		return "saved"
	}
	return "not saved"
}

package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/mfpdev/mfpdev/internal/cli/cmdutil"
	"github.com/mfpdev/mfpdev/internal/cli/iostreams"
	"github.com/mfpdev/mfpdev/internal/cli/prompt"
	"github.com/mfpdev/mfpdev/pkg/adminclient"
	"github.com/mfpdev/mfpdev/pkg/protocol"
)

// serverFlags are the flags that name the server of a command that talks
// to the admin API, as in "app webupdate".
type serverFlags struct {
	URL      string
	Login    string
	Password string
}

func (s *serverFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&s.URL, "url", "", "Use the server at this base `URL` instead of a server profile, such as http://127.0.0.1:9081")
	fl.StringVar(&s.Login, "login", "", "User to log in as with --url (default \"admin\")")
	fl.StringVar(&s.Password, "password", "", "Password of the server login (default: the profile's saved password, $MFPDEV_PASSWORD, or a prompt on a terminal)")
}

// check rejects flag combinations that name the server twice.
func (s *serverFlags) check(args []string) error {
	return checkServerFlags(s.URL, s.Login, args)
}

// checkServerFlags rejects a --url given with a server profile in args,
// and a --login given without --url.
func checkServerFlags(url, login string, args []string) error {
	if url != "" && len(args) > 0 {
		return cmdutil.Usagef("name either a server profile (%q) or --url, not both", args[0])
	}
	if login != "" && url == "" {
		return cmdutil.Usagef("--login goes with --url; a server profile has its own login (mfpdev server edit NAME --login ID)")
	}
	return nil
}

// target resolves the server, its password and the runtime.
func (s *serverFlags) target(f *cmdutil.Factory, io *iostreams.IOStreams, prompter prompt.Prompter, args []string) (*pushTarget, error) {
	opts := PushOptions{
		IO:         io,
		Prompter:   prompter,
		HTTPClient: f.HTTPClient,
		Getenv:     f.Getenv,
		Password:   s.Password,
		URL:        s.URL,
		Login:      s.Login,
	}
	if len(args) > 0 {
		opts.Profile = args[0]
	}
	if len(args) > 1 {
		opts.Runtime = args[1]
	}
	return resolvePushTarget(opts)
}

// DeploymentsOptions are the inputs of "mfpdev app deployments".
type DeploymentsOptions struct {
	IO       *iostreams.IOStreams
	Prompter prompt.Prompter
	Factory  *cmdutil.Factory

	Server     serverFlags
	Args       []string
	AppID      string
	Platform   string
	AppVersion string
	JSON       bool
}

// NewCmdDeployments returns the "app deployments" command. runF replaces
// the command's work in tests of flag parsing.
func NewCmdDeployments(f *cmdutil.Factory, runF func(*DeploymentsOptions) error) *cobra.Command {
	opts := &DeploymentsOptions{IO: f.IOStreams, Prompter: f.Prompter, Factory: f}
	cmd := &cobra.Command{
		Use:   "deployments [server-profile] [runtime]",
		Short: "List the web resources deployed on a server",
		Long: `List the app versions that have web resources on an update server, with the
active deployment of each: the checksum devices compare with theirs, the
cordova-plugin-mfp version devices must match, whether the archive is
signed, and when and by whom it was uploaded.

--app-id, --platform and --app-version keep only the matching versions.
The earlier deployments of each version are listed too when --app-version
is given. An undeployed version, which has no active deployment, is listed
only when all three flags name it. The server is the one of server-profile, or the default profile,
or the local server http://localhost:9080 with admin/admin.
` + cmdutil.ExitStatusHelp,
		Example: `  # Everything deployed on the server of profile "prod"
  mfpdev app deployments prod

  # One app version and its history, as JSON
  mfpdev app deployments prod --app-id com.example.app --app-version 1.0.0 --json`,
		Args: cobra.MaximumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.Server.check(args); err != nil {
				return err
			}
			opts.Args = args
			if runF != nil {
				return runF(opts)
			}
			return deploymentsRun(cmd.Context(), opts)
		},
	}
	opts.Server.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&opts.AppID, "app-id", "", "Only this app `id`")
	fl.StringVar(&opts.Platform, "platform", "", "Only this `platform`, such as android or ios")
	fl.StringVar(&opts.AppVersion, "app-version", "", "Only this app `version`, with its earlier deployments")
	fl.BoolVar(&opts.JSON, "json", false, "Print the deployments as one JSON document on stdout")
	return cmd
}

// versionDeployments is one app version on a server. Its JSON form is the
// contract of "mfpdev app deployments --json".
type versionDeployments struct {
	AppID      string `json:"appId"`
	Platform   string `json:"platform"`
	AppVersion string `json:"appVersion"`
	// Active is the deployment devices get, or null after an undeploy. Its
	// JSON name is that of the admin API.
	Active *protocol.Deployment `json:"deployment"`
	// History lists the earlier deployments, newest first, when
	// --app-version is given.
	History []protocol.Deployment `json:"history,omitempty"`
}

// deploymentsOutput is the JSON document --json prints.
type deploymentsOutput struct {
	Server      string               `json:"server"`
	Runtime     string               `json:"runtime"`
	Deployments []versionDeployments `json:"deployments"`
}

func deploymentsRun(ctx context.Context, opts *DeploymentsOptions) error {
	target, err := opts.Server.target(opts.Factory, opts.IO, opts.Prompter, opts.Args)
	if err != nil {
		return err
	}

	// The server lists only versions with an active deployment, so a
	// version named in full is asked for directly: an undeployed one still
	// has its history.
	var apps []protocol.Application
	if opts.AppID != "" && opts.Platform != "" && opts.AppVersion != "" {
		apps = []protocol.Application{{AppID: opts.AppID, Platform: opts.Platform, Versions: []string{opts.AppVersion}}}
	} else {
		apps, err = target.client.Applications(ctx, target.runtime)
		if err != nil {
			return explainServerError(ctx, err, target, "list deployments")
		}
	}

	out := deploymentsOutput{Server: target.profile.URL, Runtime: target.runtime, Deployments: []versionDeployments{}}
	for _, app := range apps {
		if !matches(opts.AppID, app.AppID) || !matches(opts.Platform, app.Platform) {
			continue
		}
		for _, version := range app.Versions {
			if !matches(opts.AppVersion, version) {
				continue
			}
			id := adminclient.App{ID: app.AppID, Platform: app.Platform, Version: version}
			active, history, err := target.client.GetDeployment(ctx, target.runtime, id)
			if err != nil && !errors.Is(err, adminclient.ErrNotFound) {
				return explainServerError(ctx, err, target, "list deployments")
			}
			if active == nil && len(history) == 0 {
				continue
			}
			entry := versionDeployments{AppID: app.AppID, Platform: app.Platform, AppVersion: version, Active: active}
			if opts.AppVersion != "" {
				entry.History = history
			}
			out.Deployments = append(out.Deployments, entry)
		}
	}
	slices.SortFunc(out.Deployments, func(a, b versionDeployments) int {
		return cmp.Or(cmp.Compare(a.AppID, b.AppID), cmp.Compare(a.Platform, b.Platform), cmp.Compare(a.AppVersion, b.AppVersion))
	})

	if opts.JSON {
		return cmdutil.WriteJSON(opts.IO.Out, out)
	}
	if len(out.Deployments) == 0 {
		fmt.Fprintf(opts.IO.ErrOut, "no web resources deployed in runtime %s at %s%s\n", target.runtime, target.profile.URL, filterNote(opts))
		return nil
	}
	printDeployments(opts.IO.Out, out.Deployments)
	return nil
}

// matches reports whether value passes a filter flag; an empty filter
// passes everything.
func matches(filter, value string) bool {
	return filter == "" || filter == value
}

// filterNote describes the filter flags for the message shown when
// nothing matched.
func filterNote(opts *DeploymentsOptions) string {
	note := ""
	for _, filter := range []struct{ flag, value string }{
		{"--app-id", opts.AppID}, {"--platform", opts.Platform}, {"--app-version", opts.AppVersion},
	} {
		if filter.value != "" {
			note += fmt.Sprintf(" %s %s", filter.flag, filter.value)
		}
	}
	if note == "" {
		return ""
	}
	return " matching" + note
}

// printDeployments writes one line per app version, followed by its
// earlier deployments when they were requested.
func printDeployments(w io.Writer, versions []versionDeployments) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "APP ID\tPLATFORM\tVERSION\tCHECKSUM\tPLUGIN\tSIGNED\tDEPLOYED\tBY")
	for _, v := range versions {
		if v.Active == nil {
			fmt.Fprintf(tw, "%s\t%s\t%s\t-\t-\t-\tundeployed\t-\n", v.AppID, v.Platform, v.AppVersion)
		} else {
			printDeploymentRow(tw, v.AppID, v.Platform, v.AppVersion, *v.Active)
		}
		for _, d := range v.History {
			printDeploymentRow(tw, "", "", "  earlier", d)
		}
	}
	tw.Flush()
}

func printDeploymentRow(w io.Writer, appID, platform, version string, d protocol.Deployment) {
	signed := "no"
	if d.Signed {
		signed = "yes"
	}
	by := d.DeployedBy
	if by == "" {
		by = "-"
	}
	fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n",
		appID, platform, version, d.Checksum, d.PluginVersion, signed, d.DeployedAt.UTC().Format(time.DateTime), by)
}

// explainServerError returns an error of the admin API as the command
// reports it: an interruption, a rejected login with its fix, or err.
func explainServerError(ctx context.Context, err error, target *pushTarget, action string) error {
	if ctx.Err() != nil {
		return cmdutil.ErrCancelled
	}
	return explainRejectedLogin(err, target, action)
}

// UndeployOptions are the inputs of "mfpdev app undeploy".
type UndeployOptions struct {
	IO       *iostreams.IOStreams
	Prompter prompt.Prompter
	Factory  *cmdutil.Factory

	Server     serverFlags
	Args       []string
	ProjectDir string
	AppID      string
	Platform   string
	AppVersion string
	Yes        bool
}

// NewCmdUndeploy returns the "app undeploy" command. runF replaces the
// command's work in tests of flag parsing.
func NewCmdUndeploy(f *cmdutil.Factory, runF func(*UndeployOptions) error) *cobra.Command {
	opts := &UndeployOptions{IO: f.IOStreams, Prompter: f.Prompter, Factory: f}
	cmd := &cobra.Command{
		Use:   "undeploy [server-profile] [runtime] --platform PLATFORM",
		Short: "Stop offering web updates to one app version",
		Long: `Deactivate the deployed web resources of one app version on one platform:
from then on devices on that version get no update (reason
no-web-resources). The server keeps the deployment in the version's history,
and the next upload makes the version active again.

The app id and version default to those of the Cordova project at or above
the current folder (or --project). On a terminal the command asks before it
changes anything; elsewhere it needs --yes.
` + cmdutil.ExitStatusHelp,
		Example: `  # Stop updates of the project's iOS app version on the server of profile "prod"
  mfpdev app undeploy prod --platform ios

  # The same from a CI job, without a project
  mfpdev app undeploy prod --app-id com.example.app --platform ios --app-version 1.0.0 --yes`,
		Args: cobra.MaximumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.Server.check(args); err != nil {
				return err
			}
			if opts.Platform == "" {
				return cmdutil.Usagef("--platform is required: name the platform to undeploy, such as --platform ios")
			}
			if !opts.Yes && !opts.IO.CanPrompt() {
				return cmdutil.Usagef("undeploy changes what devices get, so it needs --yes when it cannot ask on a terminal")
			}
			opts.Args = args
			if runF != nil {
				return runF(opts)
			}
			return undeployRun(cmd.Context(), opts)
		},
	}
	opts.Server.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&opts.ProjectDir, "project", "", "Cordova project `folder` that gives the app id and version (default: the nearest folder with a config.xml at or above the current one)")
	fl.StringVar(&opts.AppID, "app-id", "", "App `id` (default: the project's id for the platform)")
	fl.StringVar(&opts.Platform, "platform", "", "The `platform` to undeploy, such as android or ios")
	fl.StringVar(&opts.AppVersion, "app-version", "", "App `version` (default: the project's version)")
	fl.BoolVarP(&opts.Yes, "yes", "y", false, "Undeploy without asking for confirmation")
	return cmd
}

func undeployRun(ctx context.Context, opts *UndeployOptions) error {
	if opts.AppID == "" || opts.AppVersion == "" {
		project, err := loadProject(ctx, opts.Factory, opts.ProjectDir)
		if err != nil {
			return fmt.Errorf("%w (or pass --app-id and --app-version)", err)
		}
		if opts.AppID == "" {
			opts.AppID = project.AppID(opts.Platform)
		}
		if opts.AppVersion == "" {
			opts.AppVersion = project.Config.Version
		}
	}
	app := adminclient.App{ID: opts.AppID, Platform: opts.Platform, Version: opts.AppVersion}

	target, err := opts.Server.target(opts.Factory, opts.IO, opts.Prompter, opts.Args)
	if err != nil {
		return err
	}
	where := fmt.Sprintf("runtime %s at %s", target.runtime, target.profile.URL)

	if !opts.Yes {
		question := fmt.Sprintf("Stop offering web updates to %s in %s?", app, where)
		ok, err := opts.Prompter.Confirm(question, false)
		if err != nil {
			return err
		}
		if !ok {
			return errors.New("undeploy not confirmed: nothing was changed")
		}
	}

	if err := target.client.Delete(ctx, target.runtime, app); err != nil {
		return explainServerError(ctx, err, target, "undeploy "+app.String())
	}
	fmt.Fprintf(opts.IO.ErrOut, "Undeployed %s from %s: devices on it get no update until the next upload\n", app, where)
	return nil
}

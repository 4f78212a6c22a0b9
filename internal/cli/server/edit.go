package server

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mfpdev/mfpdev/internal/cli/cmdutil"
	"github.com/mfpdev/mfpdev/internal/config"
)

// EditOptions are the inputs of "server edit".
type EditOptions struct {
	profileDeps

	Name           string
	URL            string
	Login          string
	Password       string
	ForgetPassword bool
	ContextRoot    string
	Runtime        string
	Timeout        int
	SetDefault     bool
	NoVerify       bool

	// Changed holds the names of the flags given, without dashes.
	Changed map[string]bool
}

// editFields are the flags that change a profile.
var editFields = []string{"url", "login", "password", "forget-password", "context-root", "runtime", "timeout", "setdefault"}

// NewCmdEdit returns "server edit". runF replaces editRun in tests.
func NewCmdEdit(f *cmdutil.Factory, runF func(*EditOptions) error) *cobra.Command {
	opts := &EditOptions{profileDeps: newProfileDeps(f)}

	cmd := &cobra.Command{
		Use:   "edit NAME",
		Short: "Change a server profile",
		Long: `Change the fields of a server profile named by flags; the others
keep their values. On a terminal without such flags, mfpdev asks for the URL,
login and password.

When the URL, login, password or admin context root changes, mfpdev checks
that the server accepts the login before saving; --no-verify skips that
check.` + "\n" + cmdutil.ExitStatusHelp,
		Example: `  mfpdev server edit prod --password NEWPASSWORD
  mfpdev server edit prod --forget-password
  mfpdev server edit local --setdefault`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			opts.Changed = map[string]bool{}
			for _, name := range editFields {
				opts.Changed[name] = cmd.Flags().Changed(name)
			}
			if opts.Changed["password"] && opts.ForgetPassword {
				return cmdutil.Usagef("--password and --forget-password cannot be used together")
			}
			opts.Context = cmd.Context()

			if runF != nil {
				return runF(opts)
			}
			return editRun(opts)
		},
	}

	cmd.Flags().StringVar(&opts.URL, "url", "", "New server base URL")
	cmd.Flags().StringVar(&opts.Login, "login", "", "New user name for the admin API")
	cmd.Flags().StringVar(&opts.Password, "password", "", "New password to save in the profile")
	cmd.Flags().BoolVar(&opts.ForgetPassword, "forget-password", false, "Remove the saved password")
	cmd.Flags().StringVar(&opts.ContextRoot, "context-root", "", "New context root of the admin API")
	cmd.Flags().StringVar(&opts.Runtime, "runtime", "", "New runtime pushed to when the command names none")
	cmd.Flags().IntVar(&opts.Timeout, "timeout", 0, "New number of seconds to wait for the server's response to each request")
	cmd.Flags().BoolVar(&opts.SetDefault, "setdefault", false, "Make this profile the default (--setdefault=false clears it)")
	cmd.Flags().BoolVar(&opts.NoVerify, "no-verify", false, "Save the changes without checking that the server accepts the login")
	return cmd
}

func editRun(opts *EditOptions) error {
	cfg, path, err := opts.loadConfig()
	if err != nil {
		return err
	}
	old, ok := cfg.Get(opts.Name)
	if !ok {
		return config.NotFoundError(opts.Name)
	}
	canPrompt := opts.IO.CanPrompt()

	if !opts.anyChange() {
		if !canPrompt {
			return cmdutil.Usagef("nothing to change in server profile %q: pass at least one of --url, --login, "+
				"--password, --forget-password, --context-root, --runtime, --timeout or --setdefault", opts.Name)
		}
		if err := opts.askChanges(old, path); err != nil {
			return err
		}
	}

	profile := opts.apply(old)
	if err := validateFields(&profile); err != nil {
		return err
	}

	if !opts.NoVerify && connectionChanged(old, profile) {
		if err := opts.verify(profile, canPrompt); err != nil {
			return err
		}
	}

	if err := cfg.Update(profile); err != nil {
		return err
	}
	if opts.Changed["setdefault"] {
		switch {
		case opts.SetDefault:
			cfg.Default = profile.Name
		case cfg.Default == profile.Name:
			cfg.Default = ""
		}
	}
	if err := cfg.Save(path); err != nil {
		return err
	}

	if opts.IO.IsStderrTTY() {
		fmt.Fprintf(opts.IO.ErrOut, "Updated server profile %s\n", profile.Name)
	}
	return nil
}

func (opts *EditOptions) anyChange() bool {
	for _, name := range editFields {
		if opts.Changed[name] {
			return true
		}
	}
	return false
}

// askChanges prompts for the URL, login and password, keeping the current
// value on an empty input.
func (opts *EditOptions) askChanges(old config.Profile, path string) error {
	url, err := opts.Prompter.Input("Server URL:", old.URL)
	if err != nil {
		return err
	}
	if url != old.URL {
		opts.URL, opts.Changed["url"] = url, true
	}

	login, err := opts.Prompter.Input("Login:", old.Login)
	if err != nil {
		return err
	}
	if login != old.Login {
		opts.Login, opts.Changed["login"] = login, true
	}

	password, err := opts.Prompter.Password("New password (empty keeps the current one):")
	if err != nil {
		return err
	}
	if password == "" {
		return nil
	}
	save, err := opts.Prompter.Confirm(fmt.Sprintf("Save the password in %s?", path), true)
	if err != nil {
		return err
	}
	if save {
		opts.Password, opts.Changed["password"] = password, true
	} else {
		// Used for the check only.
		opts.Changed["forget-password"] = true
		opts.Password = password
	}
	return nil
}

// apply returns old with the changed fields replaced.
func (opts *EditOptions) apply(old config.Profile) config.Profile {
	p := old
	if opts.Changed["url"] {
		p.URL = opts.URL
	}
	if opts.Changed["login"] {
		p.Login = opts.Login
	}
	if opts.Changed["password"] {
		p.Password = opts.Password
	}
	if opts.Changed["forget-password"] {
		p.Password = ""
	}
	if opts.Changed["context-root"] {
		p.AdminContext = opts.ContextRoot
	}
	if opts.Changed["runtime"] {
		p.Runtime = opts.Runtime
	}
	if opts.Changed["timeout"] {
		p.Timeout = opts.Timeout
	}
	return p
}

// connectionChanged reports whether the edit changes how mfpdev logs in to
// the server. Forgetting the saved password does not: there is nothing new
// to check.
func connectionChanged(old, p config.Profile) bool {
	passwordChanged := old.Password != p.Password && p.Password != ""
	return old.URL != p.URL || old.Login != p.Login || passwordChanged ||
		old.AdminContextRoot() != p.AdminContextRoot()
}

// verify checks the server with the new password, or the saved one, or
// MFPDEV_PASSWORD, or one typed at a prompt.
func (opts *EditOptions) verify(p config.Profile, canPrompt bool) error {
	withPassword := p
	if opts.Password != "" {
		withPassword.Password = opts.Password
	}

	var ask func(string) (string, error)
	if canPrompt {
		ask = opts.Prompter.Password
	}
	password, err := config.ResolvePassword(withPassword, opts.Getenv, ask)
	if err != nil {
		return cmdutil.Usagef("check server profile %q: %v, or pass --no-verify to save without checking", p.Name, err)
	}
	return verifyServer(opts.context(), opts.HTTPClient(), p, password)
}

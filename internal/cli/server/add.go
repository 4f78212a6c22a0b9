package server

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mfpdev/mfpdev/internal/cli/cmdutil"
	"github.com/mfpdev/mfpdev/internal/config"
	"github.com/mfpdev/mfpdev/pkg/protocol"
)

// AddOptions are the inputs of "server add".
type AddOptions struct {
	profileDeps

	Name        string
	URL         string
	Login       string
	Password    string
	ContextRoot string
	Runtime     string
	Timeout     int
	SetDefault  bool
	NoVerify    bool

	// SetDefaultGiven and PasswordGiven record whether the flags were
	// given, because their zero values are valid values.
	SetDefaultGiven bool
	PasswordGiven   bool
}

// NewCmdAdd returns "server add". runF replaces addRun in tests.
func NewCmdAdd(f *cmdutil.Factory, runF func(*AddOptions) error) *cobra.Command {
	opts := &AddOptions{profileDeps: newProfileDeps(f)}

	cmd := &cobra.Command{
		Use:   "add [NAME]",
		Short: "Add a server profile",
		Long: `Add a server profile that "mfpdev app webupdate" can push to.

Before saving, mfpdev checks that the server's admin API accepts the login
by listing its runtimes; --no-verify skips that check. On a terminal, mfpdev
asks for each missing value. Otherwise --url and --login are required, and
the password comes from --password or the MFPDEV_PASSWORD environment
variable (which is used for the check but not saved).

The first profile added becomes the default.` + "\n" + cmdutil.ExitStatusHelp,
		Example: `  mfpdev server add local --url http://localhost:9080 --login admin --password admin --setdefault
  mfpdev server add prod --url https://mfp.example.com --login deployer --context-root mfpadmin --timeout 60`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Name = args[0]
			}
			opts.SetDefaultGiven = cmd.Flags().Changed("setdefault")
			opts.PasswordGiven = cmd.Flags().Changed("password")
			opts.Context = cmd.Context()

			if runF != nil {
				return runF(opts)
			}
			return addRun(opts)
		},
	}

	cmd.Flags().StringVar(&opts.URL, "url", "", "Server base URL, for example http://localhost:9080")
	cmd.Flags().StringVar(&opts.Login, "login", "", "User name for the admin API")
	cmd.Flags().StringVar(&opts.Password, "password", "", "Password to save in the profile (readable by you only)")
	cmd.Flags().StringVar(&opts.ContextRoot, "context-root", protocol.DefaultAdminContext, "Context root of the admin API")
	cmd.Flags().StringVar(&opts.Runtime, "runtime", "", `Runtime pushed to when the command names none (default "mfp")`)
	cmd.Flags().IntVar(&opts.Timeout, "timeout", config.DefaultTimeout, "Seconds to wait for the server's response to each request")
	cmd.Flags().BoolVar(&opts.SetDefault, "setdefault", false, "Make this profile the default")
	cmd.Flags().BoolVar(&opts.NoVerify, "no-verify", false, "Save the profile without checking that the server accepts the login")
	return cmd
}

func addRun(opts *AddOptions) error {
	cfg, path, err := opts.loadConfig()
	if err != nil {
		return err
	}
	canPrompt := opts.IO.CanPrompt()

	if err := opts.askMissing(canPrompt); err != nil {
		return err
	}
	if err := config.ValidateName(opts.Name); err != nil {
		return cmdutil.Usagef("%v", err)
	}
	if _, exists := cfg.Get(opts.Name); exists {
		return cmdutil.Usagef("server profile %q already exists: change it with \"mfpdev server edit %s\"", opts.Name, opts.Name)
	}

	profile := config.Profile{
		Name:         opts.Name,
		URL:          opts.URL,
		Login:        opts.Login,
		AdminContext: opts.ContextRoot,
		Runtime:      opts.Runtime,
		Timeout:      opts.Timeout,
	}
	if err := validateFields(&profile); err != nil {
		return err
	}

	savePassword, err := opts.decidePasswordSaving(canPrompt, path)
	if err != nil {
		return err
	}
	if savePassword {
		profile.Password = opts.Password
	}

	if !opts.NoVerify {
		if err := opts.verify(profile, canPrompt); err != nil {
			return err
		}
	}

	if err := opts.decideDefault(cfg, canPrompt); err != nil {
		return err
	}
	if err := cfg.Add(profile); err != nil {
		return err
	}
	if opts.SetDefault {
		cfg.Default = profile.Name
	}
	if err := cfg.Save(path); err != nil {
		return err
	}

	if opts.IO.IsStderrTTY() {
		suffix := ""
		if cfg.Default == profile.Name {
			suffix = " as the default"
		}
		fmt.Fprintf(opts.IO.ErrOut, "Added server profile %s (%s)%s\n", profile.Name, profile.URL, suffix)
	}
	return nil
}

// askMissing prompts on a terminal for the name, URL, login and password not
// given, and without a terminal names the missing flag.
func (opts *AddOptions) askMissing(canPrompt bool) error {
	var err error
	if opts.Name == "" {
		if !canPrompt {
			return cmdutil.Usagef("profile name required when not running interactively: mfpdev server add NAME --url URL --login LOGIN")
		}
		if opts.Name, err = opts.Prompter.Input("Profile name:", ""); err != nil {
			return err
		}
	}

	if opts.URL == "" {
		if !canPrompt {
			return cmdutil.FlagRequiredError("--url")
		}
		if opts.URL, err = opts.Prompter.Input("Server URL:", protocol.DefaultServerURL); err != nil {
			return err
		}
	}

	if opts.Login == "" {
		if !canPrompt {
			return cmdutil.FlagRequiredError("--login")
		}
		if opts.Login, err = opts.Prompter.Input("Login:", config.LocalLogin); err != nil {
			return err
		}
	}

	if !opts.PasswordGiven && canPrompt {
		if opts.Password, err = opts.Prompter.Password("Password (empty to give it at each push):"); err != nil {
			return err
		}
	}
	return nil
}

// decidePasswordSaving reports whether the profile keeps the password: one
// given with --password is saved, one typed at the prompt after the user
// confirms.
func (opts *AddOptions) decidePasswordSaving(canPrompt bool, path string) (bool, error) {
	if opts.Password == "" {
		return false, nil
	}
	if opts.PasswordGiven || !canPrompt {
		return true, nil
	}
	return opts.Prompter.Confirm(fmt.Sprintf("Save the password in %s?", path), true)
}

// verify checks the server with the password given, or MFPDEV_PASSWORD.
func (opts *AddOptions) verify(p config.Profile, canPrompt bool) error {
	password := opts.Password
	if password == "" {
		password = config.EnvPasswordValue(opts.Getenv)
	}
	if password == "" {
		if !canPrompt {
			return cmdutil.Usagef("--password required when not running interactively " +
				"(or set MFPDEV_PASSWORD, or pass --no-verify to save the profile without a password and without checking)")
		}
		var err error
		if password, err = opts.Prompter.Password("Password to check the server with (not saved):"); err != nil {
			return err
		}
	}
	return verifyServer(opts.context(), opts.HTTPClient(), p, password)
}

// decideDefault prompts on a terminal for whether the new profile becomes the
// default when other profiles exist and --setdefault was not given.
func (opts *AddOptions) decideDefault(cfg *config.Config, canPrompt bool) error {
	if opts.SetDefaultGiven || !canPrompt || len(cfg.Profiles) == 0 {
		return nil
	}
	answer, err := opts.Prompter.Confirm(fmt.Sprintf("Make %q the default server profile?", opts.Name), false)
	if err != nil {
		return err
	}
	opts.SetDefault = answer
	return nil
}

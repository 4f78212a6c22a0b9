package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/mfpdev/mfpdev/internal/cli/cmdutil"
	"github.com/mfpdev/mfpdev/internal/cli/iostreams"
	"github.com/mfpdev/mfpdev/internal/cli/prompt"
	"github.com/mfpdev/mfpdev/internal/config"
	"github.com/mfpdev/mfpdev/pkg/adminclient"
)

// profileDeps are the dependencies the profile commands share.
type profileDeps struct {
	IO         *iostreams.IOStreams
	Prompter   prompt.Prompter
	HTTPClient func() *http.Client
	Getenv     func(string) string
	// Context bounds the verification request; nil means Background.
	Context context.Context
}

func newProfileDeps(f *cmdutil.Factory) profileDeps {
	return profileDeps{IO: f.IOStreams, Prompter: f.Prompter, HTTPClient: f.HTTPClient, Getenv: f.Getenv}
}

func (d profileDeps) configPath() string {
	return config.Path(d.Getenv)
}

func (d profileDeps) loadConfig() (*config.Config, string, error) {
	path := d.configPath()
	c, err := config.Load(path)
	return c, path, err
}

func (d profileDeps) context() context.Context {
	if d.Context == nil {
		return context.Background()
	}
	return d.Context
}

// validateFields checks the values a profile is saved with.
func validateFields(p *config.Profile) error {
	url, err := config.NormalizeURL(p.URL)
	if err != nil {
		return cmdutil.Usagef("--url: %v", err)
	}
	p.URL = url

	if p.Login == "" {
		return cmdutil.Usagef("--login: the login is empty: give the admin API user name, for example %q", config.LocalLogin)
	}
	if err := config.ValidateContextRoot(p.AdminContextRoot()); err != nil {
		return cmdutil.Usagef("--context-root: %v", err)
	}
	if p.Runtime != "" {
		if err := config.ValidateContextRoot(p.Runtime); err != nil {
			return cmdutil.Usagef("--runtime: invalid runtime name %q: give one path segment such as \"mfp\"", p.Runtime)
		}
	}
	if p.Timeout < 0 || p.Timeout > 3600 {
		return cmdutil.Usagef("--timeout: %d seconds is out of range: give 1 to 3600", p.Timeout)
	}
	return nil
}

// verifyServer checks that the server accepts on the admin API the
// profile's login and password by listing its runtimes, without retries.
func verifyServer(ctx context.Context, httpClient *http.Client, p config.Profile, password string) error {
	client := &adminclient.Client{
		BaseURL:      p.URL,
		AdminContext: p.AdminContextRoot(),
		Login:        p.Login,
		Password:     password,
		HTTPClient:   httpClient,
		Timeout:      p.TimeoutDuration(),
		Retries:      -1,
	}
	ctx, cancel := context.WithTimeout(ctx, p.TimeoutDuration()+5*time.Second)
	defer cancel()

	_, err := client.Runtimes(ctx)
	if err == nil {
		return nil
	}

	const skip = `(or pass --no-verify to save the profile without checking)`
	var httpErr *adminclient.HTTPError
	if errors.As(err, &httpErr) && httpErr.StatusCode == http.StatusUnauthorized {
		// The wrapped message is fixed when wrapping, so rewrap a copy.
		rejected := *httpErr
		rejected.Hint = fmt.Sprintf("the server rejected login %q: check --login and --password %s", p.Login, skip)
		return &cmdutil.AuthError{Err: fmt.Errorf("verify server profile %q: list runtimes: %w", p.Name, &rejected)}
	}
	return fmt.Errorf("verify server profile %q: %w %s", p.Name, err, skip)
}

// profileView is the JSON form of a profile in "server list --json" and
// "server info --json". The field names are a contract.
type profileView struct {
	Name          string `json:"name"`
	URL           string `json:"url"`
	Login         string `json:"login"`
	PasswordSaved bool   `json:"passwordSaved"`
	AdminContext  string `json:"adminContext"`
	Runtime       string `json:"runtime"`
	// Timeout is in seconds.
	Timeout int  `json:"timeout"`
	Default bool `json:"default"`
	// Configured is false for the built-in local server used when no
	// profile exists.
	Configured bool `json:"configured"`
}

func viewOf(p config.Profile, isDefault, configured bool) profileView {
	return profileView{
		Name:          p.Name,
		URL:           p.URL,
		Login:         p.Login,
		PasswordSaved: p.Password != "",
		AdminContext:  p.AdminContextRoot(),
		Runtime:       p.RuntimeName(),
		Timeout:       int(p.TimeoutDuration() / time.Second),
		Default:       isDefault,
		Configured:    configured,
	}
}

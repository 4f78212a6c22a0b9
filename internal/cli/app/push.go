package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/mfpdev/mfpdev/internal/cli/cmdutil"
	"github.com/mfpdev/mfpdev/internal/cli/iostreams"
	"github.com/mfpdev/mfpdev/internal/cli/prompt"
	"github.com/mfpdev/mfpdev/internal/config"
	"github.com/mfpdev/mfpdev/pkg/adminclient"
	"github.com/mfpdev/mfpdev/pkg/bundle"
	"github.com/mfpdev/mfpdev/pkg/protocol"
)

// PushOptions are the inputs of the push step of "app webupdate".
type PushOptions struct {
	IO         *iostreams.IOStreams
	Prompter   prompt.Prompter
	HTTPClient func() *http.Client
	Getenv     func(string) string

	// Profile names the server profile. Empty means the default profile,
	// or the local server http://localhost:9080 when no profile exists.
	Profile string
	// Runtime overrides the profile's runtime, which defaults to "mfp".
	Runtime string
	// Password overrides the profile's saved password and MFPDEV_PASSWORD.
	Password string
	// URL, when set, names the server directly instead of a profile, with
	// Login (default "admin") as the user.
	URL   string
	Login string
}

// PushArchive is one archive to upload and what it is known to contain.
type PushArchive struct {
	Path       string `json:"path"`
	AppID      string `json:"appId"`
	Platform   string `json:"platform"`
	AppVersion string `json:"appVersion"`
	// Checksum is the web-resources checksum the archive carries.
	Checksum uint32 `json:"checksum"`
	// SHA256 is the hex SHA-256 of the archive file, or empty when unknown.
	SHA256 string `json:"sha256,omitempty"`
}

// PushResult is one archive the server confirmed storing.
type PushResult struct {
	Archive    PushArchive         `json:"archive"`
	Profile    string              `json:"profile"`
	ServerURL  string              `json:"server"`
	Runtime    string              `json:"runtime"`
	Deployment protocol.Deployment `json:"deployment"`
	// Unchanged is true when the archive already was the active
	// deployment, so the server kept it as it was.
	Unchanged bool `json:"unchanged"`
}

// pushTarget is the server, login and runtime a push goes to.
type pushTarget struct {
	profile    config.Profile
	configured bool
	// passwordFrom names where the password came from: "--password",
	// config.EnvPassword, "profile" or "prompt".
	passwordFrom string
	runtime      string
	client       *adminclient.Client
}

// pushArchives uploads archives one after the other to the server of
// opts.Profile and stops at the first failure. It returns the results of
// the uploads that succeeded, also with an error. A progress bar shows
// each upload when stderr is a terminal, and a line per archive on stderr
// reports each upload that succeeded.
func pushArchives(ctx context.Context, opts PushOptions, archives []PushArchive) ([]PushResult, error) {
	if len(archives) == 0 {
		return nil, nil
	}
	target, err := resolvePushTarget(opts)
	if err != nil {
		return nil, err
	}

	results := make([]PushResult, 0, len(archives))
	for _, a := range archives {
		d, err := uploadOne(ctx, opts.IO, target, a)
		if err != nil {
			if ctx.Err() != nil {
				return results, cmdutil.ErrCancelled
			}
			return results, explainPushError(err, target, a)
		}

		// The result goes to stdout when every upload is done; on a terminal
		// each upload is also confirmed as it finishes.
		if opts.IO.IsStderrTTY() && !d.Unchanged {
			fmt.Fprintf(opts.IO.ErrOut, "✓ uploaded %s %s checksum %d to %s runtime %s\n",
				a.Platform, a.AppVersion, d.Checksum, target.profile.URL, target.runtime)
		}
		results = append(results, PushResult{
			Archive:    a,
			Profile:    target.profile.Name,
			ServerURL:  target.profile.URL,
			Runtime:    target.runtime,
			Deployment: d.Deployment,
			Unchanged:  d.Unchanged,
		})
	}
	return results, nil
}

// resolvePushTarget loads the profile and finds its password: --password,
// then the saved one, then MFPDEV_PASSWORD, then a prompt on a terminal.
func resolvePushTarget(opts PushOptions) (*pushTarget, error) {
	cfg, err := config.Load(config.Path(opts.Getenv))
	if err != nil {
		return nil, err
	}
	profile, err := cfg.Resolve(opts.Profile)
	if err != nil {
		return nil, err
	}
	_, configured := cfg.Get(profile.Name)
	if opts.URL != "" {
		url, err := config.NormalizeURL(opts.URL)
		if err != nil {
			return nil, cmdutil.Usagef("--url: %v", err)
		}
		login := opts.Login
		if login == "" {
			login = config.LocalLogin
		}
		profile, configured = config.Profile{Name: url, URL: url, Login: login}, false
	}

	password, passwordFrom := opts.Password, "--password"
	if password == "" {
		passwordFrom = passwordSource(profile, opts.Getenv)
		var ask func(string) (string, error)
		if opts.IO.CanPrompt() {
			ask = opts.Prompter.Password
		}
		password, err = config.ResolvePassword(profile, opts.Getenv, ask)
		if errors.Is(err, config.ErrNoPassword) && opts.URL != "" {
			hint := ""
			if parsed, err := url.Parse(profile.URL); err == nil && isLoopbackHost(parsed.Hostname()) {
				hint = fmt.Sprintf(" (a local server started without users has %s/%s)", config.LocalLogin, config.LocalPassword)
			}
			return nil, cmdutil.Usagef("no password for login %q at %s: pass --password or set %s%s", profile.Login, profile.URL, config.EnvPassword, hint)
		}
		if errors.Is(err, config.ErrNoPassword) {
			return nil, &cmdutil.UsageError{Err: err}
		}
		if err != nil {
			return nil, err
		}
	}

	runtime := opts.Runtime
	if runtime == "" {
		runtime = profile.RuntimeName()
	}

	errOut := opts.IO.ErrOut
	client := &adminclient.Client{
		BaseURL:      profile.URL,
		AdminContext: profile.AdminContextRoot(),
		Login:        profile.Login,
		Password:     password,
		HTTPClient:   opts.HTTPClient(),
		Timeout:      profile.TimeoutDuration(),
		OnRetry: func(attempt int, err error, delay time.Duration) {
			fmt.Fprintf(errOut, "attempt %d failed, retrying in %s: %v\n", attempt, delay.Round(time.Millisecond), err)
		},
	}
	return &pushTarget{profile: profile, configured: configured, passwordFrom: passwordFrom, runtime: runtime, client: client}, nil
}

// isLoopbackHost reports whether host names this machine.
func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.IsLoopback()
}

// passwordSource returns where config.ResolvePassword takes the password
// of profile from.
func passwordSource(profile config.Profile, getenv func(string) string) string {
	switch {
	case profile.Password != "":
		return "profile"
	case config.EnvPasswordValue(getenv) != "":
		return config.EnvPassword
	}
	return "prompt"
}

// uploadOne uploads one archive, with a progress bar when stderr is a
// terminal.
func uploadOne(ctx context.Context, streams *iostreams.IOStreams, target *pushTarget, a PushArchive) (*adminclient.Uploaded, error) {
	app := adminclient.App{ID: a.AppID, Platform: a.Platform, Version: a.AppVersion}
	archive := adminclient.Archive{Path: a.Path, Checksum: a.Checksum, SHA256: a.SHA256}
	if !streams.IsStderrTTY() {
		return target.client.Upload(ctx, target.runtime, app, archive, nil)
	}

	var size int64 = -1 // an unknown size makes a spinner
	if fi, err := os.Stat(a.Path); err == nil {
		size = fi.Size()
	}
	bar := progressbar.NewOptions64(size,
		progressbar.OptionSetWriter(streams.ErrOut),
		progressbar.OptionSetDescription(fmt.Sprintf("uploading %s %s", a.Platform, a.AppVersion)),
		progressbar.OptionShowBytes(true),
		progressbar.OptionSetRenderBlankState(true),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionThrottle(100*time.Millisecond),
	)
	d, err := target.client.Upload(ctx, target.runtime, app, archive, func(n int64) { _ = bar.Set64(n) })
	_ = bar.Finish()
	return d, err
}

// explainPushError names what fixes a rejected login: the source of the
// password, or the profile command. It turns the error into an AuthError,
// which exits with status 4.
func explainPushError(err error, target *pushTarget, a PushArchive) error {
	server := "server profile " + target.profile.Name
	if !target.configured {
		server = "server " + target.profile.URL
	}
	action := fmt.Sprintf("push to %s: upload %s %s %s", server, a.AppID, a.Platform, a.AppVersion)
	return explainRejectedLogin(err, target, action)
}

// explainRejectedLogin returns a 401 from the server of target as an
// AuthError prefixed with action, with a hint naming the login to fix.
// Other errors are returned as they are.
func explainRejectedLogin(err error, target *pushTarget, action string) error {
	var httpErr *adminclient.HTTPError
	if !errors.As(err, &httpErr) || httpErr.StatusCode != http.StatusUnauthorized {
		return err
	}

	rejected := *httpErr
	name, login := target.profile.Name, target.profile.Login
	switch {
	case target.passwordFrom == "prompt" && !target.configured:
		rejected.Hint = fmt.Sprintf("the server rejected login %q with the password typed: check that password, "+
			"or pass the right user with --login", login)
	case (target.passwordFrom == "--password" || target.passwordFrom == config.EnvPassword) && !target.configured:
		rejected.Hint = fmt.Sprintf("the server rejected login %q with the password from %s: check that password, "+
			"or pass the right user with --login", login, target.passwordFrom)
	case target.passwordFrom == "--password" || target.passwordFrom == config.EnvPassword:
		rejected.Hint = fmt.Sprintf("the server rejected login %q with the password from %s: check that password, "+
			"or the login with: mfpdev server edit %s", login, target.passwordFrom, name)
	case !target.configured:
		rejected.Hint = fmt.Sprintf("the server rejected the built-in login %s/%s of the local server: "+
			"add a profile with the server's login: mfpdev server add NAME --url %s --login LOGIN",
			config.LocalLogin, config.LocalPassword, target.profile.URL)
	default:
		rejected.Hint = fmt.Sprintf("the server rejected login %q: check the login and password of server profile %s: "+
			"mfpdev server edit %s", login, name, name)
	}
	return &cmdutil.AuthError{Err: fmt.Errorf("%s: %w", action, &rejected)}
}

// archiveFromFile reads the identity and checksum of the archive at path
// (for --file), checking every rule of the archive format first.
func archiveFromFile(ctx context.Context, path string) (PushArchive, error) {
	f, err := os.Open(path)
	if err != nil {
		return PushArchive{}, fmt.Errorf("--file: %w", err)
	}
	defer f.Close()

	fi, err := f.Stat()
	if err != nil {
		return PushArchive{}, fmt.Errorf("--file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return PushArchive{}, fmt.Errorf("--file: %s is not a regular file: give the path of a .zip archive", path)
	}

	archive, err := bundle.Read(ctx, f, fi.Size(), bundle.ReadOptions{})
	if err != nil {
		return PushArchive{}, fmt.Errorf("--file %s: %w", path, err)
	}

	sum, err := sha256OfArchiveFile(ctx, f, fi.Size())
	if err != nil {
		return PushArchive{}, fmt.Errorf("--file %s: %w", path, err)
	}
	meta := archive.Meta
	return PushArchive{
		Path:       path,
		AppID:      meta.AppID,
		Platform:   meta.Platform,
		AppVersion: meta.AppVersion,
		Checksum:   meta.Checksum,
		SHA256:     sum,
	}, nil
}

// sha256OfArchiveFile returns the hex SHA-256 of the first size bytes of r.
func sha256OfArchiveFile(ctx context.Context, r io.ReaderAt, size int64) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, &ctxReader{ctx: ctx, r: io.NewSectionReader(r, 0, size)}); err != nil {
		return "", fmt.Errorf("hash archive: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// ctxReader stops reading once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

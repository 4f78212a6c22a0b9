package device

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mfpdev/mfpdev/internal/cli/cmdutil"
	"github.com/mfpdev/mfpdev/internal/cli/iostreams"
	"github.com/mfpdev/mfpdev/internal/config"
	"github.com/mfpdev/mfpdev/pkg/client"
	"github.com/mfpdev/mfpdev/pkg/cordova"
	"github.com/mfpdev/mfpdev/pkg/protocol"
	"github.com/mfpdev/mfpdev/pkg/signing"
)

// deviceOptions are the flags check and update share.
type deviceOptions struct {
	// projectServerURL and projectRuntime come from the <mfp:server>
	// element of the Cordova project, when there is one.
	projectServerURL string
	projectRuntime   string
	// projectConfigPath is the config.xml the defaults were read from, or
	// "" when no project was read.
	projectConfigPath string

	IO         *iostreams.IOStreams
	HTTPClient func() *http.Client
	Getenv     func(string) string

	WWW           string
	ProjectDir    string
	AppID         string
	Platform      string
	AppVersion    string
	PluginVersion string
	Profile       string
	URL           string
	Runtime       string
	Checksum      string
	PublicKey     string
	JSON          bool
}

// addFlags registers the shared flags on cmd.
func (o *deviceOptions) addFlags(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&o.WWW, "www", "", "Folder of the device's current web resources (required)")
	fl.StringVar(&o.ProjectDir, "project", "", "Cordova project folder that gives the default app id, versions and public key (default: the nearest folder with a config.xml at or above --www)")
	fl.StringVar(&o.AppID, "app-id", "", "App id the device reports (default: the Cordova project's id for the platform)")
	fl.StringVar(&o.Platform, "platform", "", "Platform the device reports, such as android or ios (default: the platforms/<name> folder --www is in)")
	fl.StringVar(&o.AppVersion, "app-version", "", "App version the device reports (default: the Cordova project's version)")
	fl.StringVar(&o.PluginVersion, "plugin-version", "", "cordova-plugin-mfp version the device reports (default: the Cordova project's plugin version)")
	fl.StringVar(&o.URL, "url", "", `Base URL of the update server, used instead of any server profile or config.xml (for the default, see "mfpdev device check --help")`)
	fl.StringVar(&o.Runtime, "runtime", "", "Runtime context root on the server (default: the runtime of the server profile or <mfp:server> element in use, else "+protocol.DefaultRuntime+")")
	fl.StringVar(&o.Checksum, "checksum", "", "Checksum the device reports, overriding the one in the folder's checksum.js")
	fl.StringVar(&o.PublicKey, "public-key", "", "Base64 SubjectPublicKeyInfo of the RSA key archives must be signed with (default: the Cordova project's directUpdateAuthenticityPublicKey)")
	fl.BoolVar(&o.JSON, "json", false, "Print the result as JSON on standard output")
}

// validateArgs checks the flags that need no file system access.
func (o *deviceOptions) validateArgs(flags *pflag.FlagSet, args []string) error {
	if len(args) == 1 {
		o.Profile = args[0]
	}
	if o.WWW == "" {
		return cmdutil.Usagef("--www is required: name the folder of the device's web resources")
	}
	if o.Profile != "" && o.URL != "" {
		return cmdutil.Usagef("name either a server profile or --url, not both")
	}
	if flags.Changed("project") && o.ProjectDir == "" {
		return cmdutil.Usagef("--project is empty: name the folder of a Cordova project, or leave the flag out to search from --www")
	}
	if o.Checksum != "" {
		if _, err := strconv.ParseUint(o.Checksum, 10, 32); err != nil {
			return cmdutil.Usagef("invalid --checksum %q: want an unsigned 32-bit decimal number", o.Checksum)
		}
	}
	return o.validateDeviceFlags(flags)
}

// device builds the client.Device from the flags, the Cordova project
// (--project, else the one around --www) and the server profile.
func (o *deviceOptions) device(ctx context.Context) (*client.Device, error) {
	// A missing folder is left to the client, which restores it when an
	// update was killed half-way.
	if info, err := os.Stat(o.WWW); err == nil && !info.IsDir() {
		return nil, cmdutil.Usagef("--www %s is not a folder: name the www folder of the web resources", o.WWW)
	}

	d := &client.Device{
		WWW:           o.WWW,
		AppID:         o.AppID,
		Platform:      o.Platform,
		AppVersion:    o.AppVersion,
		PluginVersion: o.PluginVersion,
		HTTPClient:    o.HTTPClient(),
	}
	if err := o.fillFromProject(ctx, d); err != nil {
		return nil, err
	}
	if err := o.fillServer(d); err != nil {
		return nil, err
	}

	if o.Checksum != "" {
		n, _ := strconv.ParseUint(o.Checksum, 10, 32)
		sum := uint32(n)
		d.Checksum = &sum
	}
	if o.PublicKey != "" {
		pub, err := signing.ParsePublicKeyBase64(o.PublicKey)
		if err != nil {
			return nil, cmdutil.Usagef("invalid --public-key: %v", err)
		}
		d.PublicKey = pub
	}
	return d, nil
}

// fillServer sets the server URL and runtime: --url, else the named
// profile, else the default server profile (the server "app webupdate"
// pushes to), else the <mfp:server> of the project's config.xml (the
// server the installed app talks to), else the local server.
func (o *deviceOptions) fillServer(d *client.Device) error {
	d.ServerURL = protocol.DefaultServerURL
	d.Runtime = protocol.DefaultRuntime
	switch {
	case o.URL != "":
		if !strings.HasPrefix(o.URL, "http://") && !strings.HasPrefix(o.URL, "https://") {
			return cmdutil.Usagef("invalid --url %q: want an http:// or https:// URL", o.URL)
		}
		d.ServerURL = o.URL
	case o.Profile != "":
		cfg, err := config.Load(config.Path(o.Getenv))
		if err != nil {
			return err
		}
		p, ok := cfg.Get(o.Profile)
		if !ok {
			return config.NotFoundError(o.Profile)
		}
		d.ServerURL, d.Runtime = p.URL, p.RuntimeName()
	default:
		cfg, err := config.Load(config.Path(o.Getenv))
		if err != nil {
			return err
		}
		if len(cfg.Profiles) > 0 {
			p, err := cfg.Resolve("")
			if err != nil {
				return err
			}
			d.ServerURL, d.Runtime = p.URL, p.RuntimeName()
		} else if o.projectServerURL != "" {
			d.ServerURL = o.projectServerURL
			if o.projectRuntime != "" {
				d.Runtime = o.projectRuntime
			}
		}
	}
	if o.Runtime != "" {
		d.Runtime = o.Runtime
	}
	return nil
}

// missingFlag returns the error for a value neither a flag nor the
// Cordova project around --www provided. projectErr is the reason no
// project was read. It never comes from --project, because a project that
// --project names either loads or fails the command.
func missingFlag(flag, hint string, projectErr error) error {
	if errors.Is(projectErr, cordova.ErrNoConfig) {
		return cmdutil.Usagef("%s required: %s (no config.xml of a Cordova project in the web resources folder or its parents)", flag, hint)
	}
	if projectErr != nil {
		return cmdutil.Usagef("%s required: %s (the Cordova project around the web resources folder could not be read: %v)", flag, hint, projectErr)
	}
	return cmdutil.Usagef("%s required: %s", flag, hint)
}

// platformFromPath returns the name of the platforms/<name>/ folder that
// www is in, relative to the project root, or "".
func platformFromPath(root, www string) string {
	rel, err := filepath.Rel(root, www)
	if err != nil {
		return ""
	}
	parts := strings.Split(filepath.ToSlash(rel), "/")
	if len(parts) >= 3 && parts[0] == "platforms" {
		return parts[1]
	}
	return ""
}

package device

import (
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/mfpdev/mfpdev/internal/cli/cmdutil"
	"github.com/mfpdev/mfpdev/pkg/cordova"
	"github.com/mfpdev/mfpdev/pkg/version"
)

// validateDeviceFlags checks the app id, platform, app version and plugin
// version given as flags, before any request, so that a typo is a usage
// error and not a server error or a misleading "no web resources". A flag
// given with an empty value is rejected too, because it would otherwise
// fall back to the project's value without a word.
//
// The server rejects a check request whose plugin version fails
// version.ParsePlugin, and an upload whose app version fails
// version.ValidateApp, so it never holds a deployment for such a version.
// NOTE: the server accepts any app id and platform. The app id and
// platform checks are the rules "app webupdate" builds archives under
// (cordova.ValidateAppID, cordova.KnownPlatforms), so they also reject the
// values of an archive pushed with --file whose metadata breaks them.
func (o *deviceOptions) validateDeviceFlags(flags *pflag.FlagSet) error {
	if flags.Changed("app-id") {
		if err := cordova.ValidateAppID(o.AppID); err != nil {
			return cmdutil.Usagef("invalid --app-id: %v (want an id such as com.example.app)", err)
		}
	}
	if flags.Changed("platform") && !slices.Contains(cordova.KnownPlatforms, o.Platform) {
		return cmdutil.Usagef("invalid --platform %q: want one of %s", o.Platform, strings.Join(cordova.KnownPlatforms, ", "))
	}
	if flags.Changed("app-version") {
		if err := version.ValidateApp(o.AppVersion); err != nil {
			return cmdutil.Usagef("invalid --app-version: %v (want a version such as 1.0.0 or 2.1.0-beta.1)", err)
		}
	}
	if flags.Changed("plugin-version") {
		if _, err := version.ParsePlugin(o.PluginVersion); err != nil {
			return cmdutil.Usagef("invalid --plugin-version %q: want at least three dot-separated numbers, such as 8.0.2024082705", o.PluginVersion)
		}
	}
	return nil
}

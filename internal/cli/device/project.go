package device

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/mfpdev/mfpdev/internal/cli/cmdutil"
	"github.com/mfpdev/mfpdev/pkg/client"
	"github.com/mfpdev/mfpdev/pkg/cordova"
	"github.com/mfpdev/mfpdev/pkg/signing"
)

// fillFromProject fills the values the flags left empty from the Cordova
// project named by --project, else the one around --www. A value that
// neither gives is a usage error naming the flag, with the reason no
// project could supply it. A project that --project names must load, even
// when the flags give every value.
func (o *deviceOptions) fillFromProject(ctx context.Context, d *client.Device) error {
	needProject := o.ProjectDir != "" || d.AppID == "" || d.Platform == "" || d.AppVersion == "" || d.PluginVersion == "" ||
		o.PublicKey == "" || (o.URL == "" && o.Profile == "")
	if !needProject {
		return nil
	}
	project, projectErr := o.loadProject(ctx)
	if projectErr != nil && o.ProjectDir != "" {
		return projectErr
	}

	if d.Platform == "" && project != nil {
		d.Platform = projectPlatform(project, o.WWW)
		if d.Platform == "" {
			return cmdutil.Usagef("--platform required: name the device's platform, such as android or ios (--www %s is not in the platforms folder of the Cordova project %s)",
				o.WWW, project.Root)
		}
	}
	if d.Platform == "" {
		return missingFlag("--platform", "name the device's platform, such as android or ios", projectErr)
	}
	if project == nil {
		switch {
		case d.AppID == "":
			return missingFlag("--app-id", "name the app id the device reports, or the Cordova project with --project DIR", projectErr)
		case d.AppVersion == "":
			return missingFlag("--app-version", "name the app version the device reports, or the Cordova project with --project DIR", projectErr)
		case d.PluginVersion == "":
			return missingFlag("--plugin-version", "name the cordova-plugin-mfp version the device reports, or the Cordova project with --project DIR", projectErr)
		}
		return nil
	}

	o.projectServerURL = project.Config.MFP.ServerURL
	o.projectRuntime = project.Config.MFP.Runtime
	o.projectConfigPath = project.ConfigPath
	if d.AppID == "" {
		d.AppID = project.AppID(d.Platform)
	}
	if d.AppVersion == "" {
		d.AppVersion = project.Config.Version
	}
	if d.PluginVersion == "" {
		d.PluginVersion = project.PluginVersion.String()
	}
	if o.PublicKey == "" && project.Config.MFP.PublicKey != "" {
		pub, err := signing.ParsePublicKeyBase64(project.Config.MFP.PublicKey)
		if err != nil {
			return fmt.Errorf("%s: directUpdateAuthenticityPublicKey: %w: fix config.xml or pass --public-key", project.ConfigPath, err)
		}
		d.PublicKey = pub
	}
	return nil
}

// loadProject finds and loads the Cordova project at or above --project,
// else the one --www belongs to. The errors for --project are its own,
// because those of cordova.Find tell the user to pass --project.
func (o *deviceOptions) loadProject(ctx context.Context) (*cordova.Project, error) {
	if o.ProjectDir == "" {
		// --www may be missing after an update was killed half-way (the
		// client restores it), so the search starts at its nearest folder.
		root, err := cordova.Find(nearestFolder(o.WWW))
		if err != nil {
			return nil, err
		}
		return cordova.Load(ctx, root)
	}

	root, err := cmdutil.FindProject(o.ProjectDir)
	if err != nil {
		return nil, err
	}
	return cordova.Load(ctx, root)
}

// nearestFolder returns path when it is an existing folder, else its
// nearest parent that is.
func nearestFolder(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return path
	}
	for {
		if info, err := os.Stat(abs); err == nil && info.IsDir() {
			return abs
		}
		parent := filepath.Dir(abs)
		if parent == abs {
			return abs
		}
		abs = parent
	}
}

// projectPlatform returns the platform whose web resources folder is www:
// a prepared platform's folder, or any folder under platforms/<name>/ when
// name is one of cordova.KnownPlatforms. It returns "" for any other www.
func projectPlatform(project *cordova.Project, www string) string {
	abs, err := filepath.Abs(www)
	if err != nil {
		return ""
	}
	for _, p := range project.Platforms {
		if p.WWW != "" && filepath.Clean(p.WWW) == filepath.Clean(abs) {
			return p.Name
		}
	}
	if name := platformFromPath(project.Root, abs); slices.Contains(cordova.KnownPlatforms, name) {
		return name
	}
	return ""
}

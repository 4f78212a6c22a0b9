package device

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/mfpdev/mfpdev/pkg/client"
	"github.com/mfpdev/mfpdev/pkg/cordova"
	"github.com/mfpdev/mfpdev/pkg/signing"
)

// fillFromProject fills the values the flags left empty from the Cordova
// project around --www. A value that neither gives is a usage error
// naming the flag, with the reason no project could supply it.
func (o *deviceOptions) fillFromProject(ctx context.Context, d *client.Device) error {
	needProject := d.AppID == "" || d.Platform == "" || d.AppVersion == "" || d.PluginVersion == "" || o.PublicKey == "" ||
		(o.URL == "" && o.Profile == "")
	if !needProject {
		return nil
	}
	project, projectErr := loadProject(ctx, o.WWW)

	if d.Platform == "" && project != nil {
		d.Platform = projectPlatform(project, o.WWW)
	}
	if d.Platform == "" {
		return missingFlag("--platform", "name the device's platform, such as android or ios", projectErr)
	}
	if project == nil {
		switch {
		case d.AppID == "":
			return missingFlag("--app-id", "name the app id the device reports", projectErr)
		case d.AppVersion == "":
			return missingFlag("--app-version", "name the app version the device reports", projectErr)
		case d.PluginVersion == "":
			return missingFlag("--plugin-version", "name the cordova-plugin-mfp version the device reports", projectErr)
		}
		return nil
	}

	o.projectServerURL = project.Config.MFP.ServerURL
	o.projectRuntime = project.Config.MFP.Runtime
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

// loadProject finds and loads the Cordova project www belongs to.
func loadProject(ctx context.Context, www string) (*cordova.Project, error) {
	root, err := cordova.Find(www)
	if err != nil {
		return nil, err
	}
	return cordova.Load(ctx, root)
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

// Package cordova finds and reads the Cordova project a direct update is
// built from, and edits its config.xml.
//
// Load reads config.xml (the widget id and version and the elements of
// cordova-plugin-mfp), the installed plugin version and the platforms
// under platforms/, with the folder each one ships its web resources from.
// Problems in the project come back as errors that match one of the Err
// values with errors.Is and name the file and the fix.
//
// SetAppChecksum and SetPublicKey change one value in config.xml and keep
// every other byte of the file as it was, so that comments, attribute
// order, indentation and line endings survive.
package cordova

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/mfpdev/mfpdev/pkg/version"
)

// ConfigName is the file that marks the root of a Cordova project.
const ConfigName = "config.xml"

// PluginID is the npm and Cordova name of the MobileFirst plugin.
const PluginID = "cordova-plugin-mfp"

// Project is a Cordova project as Load read it.
type Project struct {
	Root       string // absolute project folder
	ConfigPath string // absolute path of config.xml
	Config     Config
	// PluginVersion is the installed cordova-plugin-mfp version.
	PluginVersion version.Plugin
	// Platforms are the known platforms under platforms/, sorted by name.
	Platforms []Platform
}

// AppID returns the application id a device of platform reports: the
// widget id unless config.xml overrides it with android-packageName or
// ios-CFBundleIdentifier.
func (p *Project) AppID(platform string) string {
	switch {
	case platform == "android" && p.Config.AndroidPackageName != "":
		return p.Config.AndroidPackageName
	case platform == "ios" && p.Config.IOSBundleID != "":
		return p.Config.IOSBundleID
	}
	return p.Config.ID
}

// Find returns the project root for dir: the nearest folder at or above dir
// that contains config.xml, the way git finds a repository.
func Find(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("find Cordova project from %s: %w", dir, err)
	}
	if info, err := os.Stat(abs); err != nil || !info.IsDir() {
		return "", fmt.Errorf("find Cordova project from %s: not an existing folder: pass the project folder with --project DIR", abs)
	}
	for d := abs; ; {
		info, err := os.Stat(filepath.Join(d, ConfigName))
		if err == nil && info.Mode().IsRegular() {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			break
		}
		d = parent
	}
	return "", &projectError{
		kind: ErrNoConfig,
		msg:  fmt.Sprintf("no config.xml found in %s or any parent folder: run mfpdev from a Cordova project or pass --project DIR", abs),
	}
}

// Load reads the project whose root folder is root: config.xml, the
// cordova-plugin-mfp version and the platforms. A platform that is not
// prepared, or none at all, is not an error here but in SelectPlatforms.
func Load(ctx context.Context, root string) (*Project, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("load Cordova project %s: %w", root, err)
	}
	p := &Project{Root: abs, ConfigPath: filepath.Join(abs, ConfigName)}

	cfg, err := readConfig(p.ConfigPath)
	if err != nil {
		return nil, err
	}
	p.Config = *cfg

	if p.PluginVersion, err = readPluginVersion(abs); err != nil {
		return nil, err
	}
	if p.Platforms, err = readPlatforms(ctx, abs); err != nil {
		return nil, err
	}
	return p, nil
}

// readConfig reads and checks config.xml.
func readConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &projectError{
			kind: ErrNoConfig,
			msg:  fmt.Sprintf("no config.xml found in %s: run mfpdev from a Cordova project or pass --project DIR", filepath.Dir(path)),
		}
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}

	cfg, err := ParseConfig(data)
	if err != nil {
		where := path
		if line := syntaxLine(err); line > 0 {
			where = fmt.Sprintf("%s:%d", path, line)
		}
		return nil, &projectError{
			kind:  ErrInvalidConfig,
			msg:   fmt.Sprintf("read %s: not well-formed XML: %s: fix the file so that it parses", where, strings.TrimPrefix(syntaxMessage(err), "xml: ")),
			cause: err,
		}
	}

	at := fmt.Sprintf("%s:%d", path, cfg.widgetLine)
	if !cfg.hasID || cfg.ID == "" {
		return nil, &projectError{
			kind: ErrMissingID,
			msg:  fmt.Sprintf("read %s: <widget> has no id: add an application id such as id=\"com.example.app\"", at),
		}
	}
	for _, id := range []struct{ attribute, value string }{
		{"id", cfg.ID},
		{"android-packageName", cfg.AndroidPackageName},
		{"ios-CFBundleIdentifier", cfg.IOSBundleID},
	} {
		if id.value == "" && id.attribute != "id" {
			continue
		}
		if err := ValidateAppID(id.value); err != nil {
			return nil, &projectError{
				kind:  ErrInvalidID,
				msg:   fmt.Sprintf("read %s: <widget %s>: %v: use a reverse-domain id such as com.example.app", at, id.attribute, err),
				cause: err,
			}
		}
	}
	if !cfg.hasVersion {
		return nil, &projectError{
			kind: ErrInvalidVersion,
			msg:  fmt.Sprintf("read %s: <widget> has no version attribute: add the app version such as version=\"1.0.0\"", at),
		}
	}
	if err := version.ValidateApp(cfg.Version); err != nil {
		return nil, &projectError{
			kind:  ErrInvalidVersion,
			msg:   fmt.Sprintf("read %s: <widget version>: %v: set it to the version of the app in the store, such as version=\"1.0.0\"", at, err),
			cause: err,
		}
	}
	return cfg, nil
}

func syntaxMessage(err error) string {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return se.Msg
	}
	return err.Error()
}

// readPluginVersion returns the version of the installed cordova-plugin-mfp
// from its package.json, or from the version attribute of its plugin.xml.
func readPluginVersion(root string) (version.Plugin, error) {
	dir := filepath.Join(root, "plugins", PluginID)
	if info, err := os.Stat(dir); err != nil || !info.IsDir() {
		return version.Plugin{}, &projectError{
			kind: ErrPluginMissing,
			msg:  fmt.Sprintf("%s is not installed in %s: run \"cordova plugin add %s\"", PluginID, filepath.Join(root, "plugins"), PluginID),
		}
	}

	raw, source, err := pluginVersionString(dir)
	if err != nil {
		return version.Plugin{}, err
	}
	v, err := version.ParsePlugin(raw)
	if err != nil {
		return version.Plugin{}, fmt.Errorf("read %s: %w: reinstall the plugin with \"cordova plugin rm %s\" and \"cordova plugin add %s\"", source, err, PluginID, PluginID)
	}
	return v, nil
}

func pluginVersionString(dir string) (value, source string, err error) {
	pkgPath := filepath.Join(dir, "package.json")
	data, err := os.ReadFile(pkgPath)
	if err == nil {
		var pkg struct {
			Version string `json:"version"`
		}
		if err := json.Unmarshal(data, &pkg); err != nil {
			return "", "", fmt.Errorf("read %s: %w: reinstall the plugin with \"cordova plugin add %s\"", pkgPath, err, PluginID)
		}
		if pkg.Version != "" {
			return pkg.Version, pkgPath, nil
		}
	}

	xmlPath := filepath.Join(dir, "plugin.xml")
	data, err = os.ReadFile(xmlPath)
	if err == nil {
		var plugin struct {
			Version string `xml:"version,attr"`
		}
		if err := xml.Unmarshal(data, &plugin); err == nil && plugin.Version != "" {
			return plugin.Version, xmlPath, nil
		}
	}
	return "", "", fmt.Errorf("read %s version: neither %s nor %s gives a version: reinstall the plugin with \"cordova plugin add %s\"", PluginID, pkgPath, xmlPath, PluginID)
}

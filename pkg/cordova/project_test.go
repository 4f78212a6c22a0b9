package cordova

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

const testConfig = `<?xml version='1.0' encoding='utf-8'?>
<widget id="com.example.app" version="2.1.0" android-packageName="com.example.android"
        ios-CFBundleIdentifier="com.example.ios" android-versionCode="210" ios-CFBundleVersion="2.1.0.7"
        xmlns="http://www.w3.org/ns/widgets" xmlns:mfp="http://www.ibm.com/mobilefirst/cordova-plugin-mfp">
    <name>App</name>
    <mfp:android>
        <mfp:sdkChecksum>2324313685</mfp:sdkChecksum>
        <mfp:appChecksum>17</mfp:appChecksum>
        <mfp:security>
            <mfp:testWebResourcesChecksum enabled="true" ignoreFileExtensions="png, jpg,,gif " />
        </mfp:security>
    </mfp:android>
    <mfp:platformVersion> 8.0.0.00-20230609-123807 </mfp:platformVersion>
    <mfp:server runtime="mfp" url="http://localhost:9080" />
    <mfp:directUpdateAuthenticityPublicKey>QUJD</mfp:directUpdateAuthenticityPublicKey>
</widget>
`

// project describes a Cordova project folder for a test to build.
type project struct {
	config        string            // config.xml content; "" writes none
	pluginJSON    string            // plugins/cordova-plugin-mfp/package.json; "" writes none
	pluginXML     string            // plugins/cordova-plugin-mfp/plugin.xml; "" writes none
	noPlugin      bool              // leave out plugins/cordova-plugin-mfp entirely
	platforms     map[string]string // platform -> www folder relative to the root; "" adds the platform unprepared
	sourceWWWFile bool              // write www/index.html at the project root
}

func (p project) build(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	write := func(rel, content string) {
		t.Helper()
		path := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if p.config != "" {
		write("config.xml", p.config)
	}
	if !p.noPlugin {
		if err := os.MkdirAll(filepath.Join(root, "plugins", PluginID), 0o755); err != nil {
			t.Fatal(err)
		}
		if p.pluginJSON != "" {
			write("plugins/cordova-plugin-mfp/package.json", p.pluginJSON)
		}
		if p.pluginXML != "" {
			write("plugins/cordova-plugin-mfp/plugin.xml", p.pluginXML)
		}
	}
	for name, www := range p.platforms {
		if err := os.MkdirAll(filepath.Join(root, "platforms", name), 0o755); err != nil {
			t.Fatal(err)
		}
		if www != "" {
			write(www+"/cordova.js", "// cordova")
			write(www+"/index.html", "<html/>")
		}
	}
	if p.sourceWWWFile {
		write("www/index.html", "<html/>")
	}
	return root
}

func validProject() project {
	return project{
		config:     testConfig,
		pluginJSON: `{"name": "cordova-plugin-mfp", "version": "8.0.2024082705"}`,
		platforms: map[string]string{
			"android": "platforms/android/app/src/main/assets/www",
			"ios":     "platforms/ios/www",
		},
	}
}

func TestLoadProject(t *testing.T) {
	root := validProject().build(t)
	p, err := Load(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}

	if p.Root != root || p.ConfigPath != filepath.Join(root, "config.xml") {
		t.Errorf("root %s, config %s", p.Root, p.ConfigPath)
	}
	want := Config{
		ID: "com.example.app", Version: "2.1.0",
		AndroidPackageName: "com.example.android", IOSBundleID: "com.example.ios",
		AndroidVersionCode: "210", IOSBundleVersion: "2.1.0.7",
		MFP: MFPConfig{
			ServerURL: "http://localhost:9080", Runtime: "mfp",
			PlatformVersion: "8.0.0.00-20230609-123807", PublicKey: "QUJD",
			Platforms: map[string]MFPPlatform{"android": {
				SDKChecksum: "2324313685", AppChecksum: "17",
				TestWebResourcesChecksum: true, IgnoreFileExtensions: []string{"png", "jpg", "gif"},
			}},
		},
		hasID: true, hasVersion: true, widgetLine: 2,
	}
	if !reflect.DeepEqual(p.Config, want) {
		t.Errorf("config = %+v\nwant     %+v", p.Config, want)
	}
	if p.PluginVersion.String() != "8.0.2024082705" {
		t.Errorf("plugin version = %q", p.PluginVersion)
	}

	ids := map[string]string{"android": "com.example.android", "ios": "com.example.ios", "windows": "com.example.app"}
	for platform, id := range ids {
		if got := p.AppID(platform); got != id {
			t.Errorf("AppID(%s) = %q, want %q", platform, got, id)
		}
	}

	if len(p.Platforms) != 2 {
		t.Fatalf("platforms = %+v, want android and ios", p.Platforms)
	}
	wantWWW := map[string]string{
		"android": filepath.Join(root, "platforms/android/app/src/main/assets/www"),
		"ios":     filepath.Join(root, "platforms/ios/www"),
	}
	for i, name := range []string{"android", "ios"} {
		pl := p.Platforms[i]
		if pl.Name != name || pl.WWW != wantWWW[name] || !pl.Prepared || pl.Warning != "" {
			t.Errorf("platform %d = %+v, want %s prepared in %s", i, pl, name, wantWWW[name])
		}
	}
}

func TestLoadSampleProject(t *testing.T) {
	p, err := Load(context.Background(), "../../testdata/sample")
	if err != nil {
		t.Fatal(err)
	}
	if p.Config.ID != "com.example.sample" || p.Config.Version != "1.0.0" {
		t.Errorf("widget = %s@%s", p.Config.ID, p.Config.Version)
	}
	if p.Config.MFP.PublicKey != "" || p.Config.MFP.Platforms["ios"].SDKChecksum != "4209591306" {
		t.Errorf("mfp = %+v", p.Config.MFP)
	}
	selected, err := p.SelectPlatforms(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(selected) != 2 || selected[0].Name != "android" || selected[1].Name != "ios" {
		t.Errorf("selected = %+v", selected)
	}
}

func TestLoadAndroidOldLayout(t *testing.T) {
	pr := validProject()
	pr.platforms = map[string]string{"android": "platforms/android/assets/www"}
	root := pr.build(t)
	p, err := Load(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.Platforms[0].WWW, filepath.Join(root, "platforms/android/assets/www"); got != want || !p.Platforms[0].Prepared {
		t.Errorf("android www = %s prepared %v, want %s prepared", got, p.Platforms[0].Prepared, want)
	}
}

func TestLoadPluginVersionFromPluginXML(t *testing.T) {
	pr := validProject()
	pr.pluginJSON = ""
	pr.pluginXML = `<?xml version="1.0"?><plugin id="cordova-plugin-mfp" version="8.0.2023010101" xmlns="http://apache.org/cordova/ns/plugins/1.0"/>`
	p, err := Load(context.Background(), pr.build(t))
	if err != nil {
		t.Fatal(err)
	}
	if p.PluginVersion.String() != "8.0.2023010101" {
		t.Errorf("plugin version = %q, want 8.0.2023010101", p.PluginVersion)
	}
}

func TestLoadStaleWarning(t *testing.T) {
	pr := validProject()
	pr.sourceWWWFile = true
	root := pr.build(t)
	old := time.Now().Add(-time.Hour)
	for _, www := range []string{"platforms/ios/www", "platforms/android/app/src/main/assets/www"} {
		for _, name := range []string{"", "cordova.js", "index.html"} {
			if err := os.Chtimes(filepath.Join(root, www, name), old, old); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Android was prepared after the last source change, iOS before it.
	newer := time.Now().Add(time.Minute)
	if err := os.Chtimes(filepath.Join(root, "platforms/android/app/src/main/assets/www/index.html"), newer, newer); err != nil {
		t.Fatal(err)
	}

	p, err := Load(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	if w := p.Platforms[0].Warning; w != "" {
		t.Errorf("android warning = %q, want none", w)
	}
	w := p.Platforms[1].Warning
	for _, want := range []string{"platforms/ios/www is older than www/", "www/index.html", `run "cordova prepare ios"`} {
		if !strings.Contains(w, want) {
			t.Errorf("ios warning = %q, want it to contain %q", w, want)
		}
	}
}

func TestFind(t *testing.T) {
	root := validProject().build(t)
	deep := filepath.Join(root, "www", "js", "lib")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{root, deep} {
		got, err := Find(dir)
		if err != nil || got != root {
			t.Errorf("Find(%s) = %s, %v, want %s", dir, got, err, root)
		}
	}

	if _, err := Find(filepath.Join(root, "missing")); err == nil || !strings.Contains(err.Error(), "not an existing folder") {
		t.Errorf("Find(missing) error = %v, want one saying the folder does not exist", err)
	}

	empty := t.TempDir()
	_, err := Find(empty)
	if !errors.Is(err, ErrNoConfig) {
		t.Fatalf("Find(empty) error = %v, want ErrNoConfig", err)
	}
	want := "no config.xml found in " + empty + " or any parent folder: run mfpdev from a Cordova project or pass --project DIR"
	if err.Error() != want {
		t.Errorf("error = %q\nwant    %q", err, want)
	}
}

func TestLoadErrors(t *testing.T) {
	withConfig := func(config string) project {
		p := validProject()
		p.config = config
		return p
	}
	widget := func(attrs string) string {
		return `<?xml version="1.0"?>` + "\n<widget " + attrs + ` xmlns="http://www.w3.org/ns/widgets"><name>x</name></widget>`
	}
	noPlugin := validProject()
	noPlugin.noPlugin = true
	badPluginVersion := validProject()
	badPluginVersion.pluginJSON = `{"version": "latest"}`

	cases := []struct {
		name    string
		project project
		kind    error
		want    []string
	}{
		{"no config", withConfig(""), ErrNoConfig, []string{"no config.xml found in", "--project DIR"}},
		{"malformed", withConfig("<widget id=\"a\" version=\"1.0\">\n<name>\n</widget>"), ErrInvalidConfig, []string{"config.xml:3:", "not well-formed", "fix the file"}},
		{"not a widget", withConfig(`<plugin id="a" version="1"/>`), ErrInvalidConfig, []string{"root element is <plugin>"}},
		{"empty file", withConfig(" "), ErrInvalidConfig, []string{"no <widget> root element"}},
		{"missing version", withConfig(widget(`id="a.b"`)), ErrInvalidVersion, []string{"config.xml:2:", "no version attribute", `version="1.0.0"`}},
		{"empty version", withConfig(widget(`id="a.b" version=""`)), ErrInvalidVersion, []string{"app version is empty"}},
		{"placeholder version", withConfig(widget(`id="a.b" version="${APP_VERSION}"`)), ErrInvalidVersion, []string{"template placeholder"}},
		{"not a version", withConfig(widget(`id="a.b" version="latest"`)), ErrInvalidVersion, []string{`"latest"`, "set it to"}},
		{"missing id", withConfig(widget(`version="1.0.0"`)), ErrMissingID, []string{"<widget> has no id", `id="com.example.app"`}},
		{"empty id", withConfig(widget(`id=" " version="1.0.0"`)), ErrMissingID, []string{"<widget> has no id"}},
		{"plugin missing", noPlugin, ErrPluginMissing, []string{"cordova-plugin-mfp is not installed", `run "cordova plugin add cordova-plugin-mfp"`}},
		{"plugin version invalid", badPluginVersion, nil, []string{"package.json", `"latest"`, "reinstall"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load(context.Background(), c.project.build(t))
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			if c.kind != nil && !errors.Is(err, c.kind) {
				t.Errorf("error %q does not match %v", err, c.kind)
			}
			for _, want := range c.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}

func TestSelectPlatforms(t *testing.T) {
	pr := validProject()
	pr.platforms = map[string]string{"android": "platforms/android/app/src/main/assets/www", "ios": "", "notaplatform": ""}
	p, err := Load(context.Background(), pr.build(t))
	if err != nil {
		t.Fatal(err)
	}

	all, err := p.SelectPlatforms(nil)
	if err != nil || len(all) != 1 || all[0].Name != "android" {
		t.Errorf("SelectPlatforms(nil) = %+v, %v, want android only", all, err)
	}
	named, err := p.SelectPlatforms([]string{"android", "Android"})
	if err != nil || len(named) != 1 {
		t.Errorf("SelectPlatforms(android, Android) = %+v, %v, want android once", named, err)
	}

	_, err = p.SelectPlatforms([]string{"ios"})
	if !errors.Is(err, ErrPlatformNotPrepared) {
		t.Errorf("ios error = %v, want ErrPlatformNotPrepared", err)
	} else if want := "no cordova.js in " + filepath.Join(p.Root, "platforms/ios/www") + `: run "cordova prepare ios"`; err.Error() != want {
		t.Errorf("ios error = %q\nwant        %q", err, want)
	}

	_, err = p.SelectPlatforms([]string{"windows"})
	if !errors.Is(err, ErrPlatformNotAdded) || !strings.Contains(err.Error(), `run "cordova platform add windows"`) || !strings.Contains(err.Error(), "added: android, ios") {
		t.Errorf("windows error = %v, want ErrPlatformNotAdded naming the fix", err)
	}

	_, err = p.SelectPlatforms([]string{"symbian"})
	if err == nil || !strings.Contains(err.Error(), `unknown platform "symbian"`) {
		t.Errorf("symbian error = %v", err)
	}
}

func TestSelectPlatformsNonePrepared(t *testing.T) {
	pr := validProject()
	pr.platforms = map[string]string{"android": "", "ios": ""}
	p, err := Load(context.Background(), pr.build(t))
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.SelectPlatforms(nil)
	if !errors.Is(err, ErrPlatformNotPrepared) {
		t.Fatalf("error = %v, want ErrPlatformNotPrepared", err)
	}
	for _, want := range []string{"no cordova.js in " + filepath.Join(p.Root, "platforms/android/app/src/main/assets/www"), `run "cordova prepare android ios"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

func TestSelectPlatformsNoneAdded(t *testing.T) {
	pr := validProject()
	pr.platforms = nil
	p, err := Load(context.Background(), pr.build(t))
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.SelectPlatforms(nil)
	if !errors.Is(err, ErrNoPlatform) || !strings.Contains(err.Error(), `run "cordova platform add android"`) {
		t.Errorf("error = %v, want ErrNoPlatform naming the fix", err)
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(testConfig))
	f.Add([]byte(`<widget id="a" version="1"><mfp:android xmlns:mfp="http://www.ibm.com/mobilefirst/cordova-plugin-mfp"><mfp:appChecksum/></mfp:android></widget>`))
	f.Add([]byte("<widget>\r\n<!-- c --><![CDATA[x]]></widget>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := ParseConfig(data)
		if err != nil {
			return
		}
		if cfg.MFP.Platforms == nil {
			t.Fatal("Platforms map is nil")
		}
		for name := range cfg.MFP.Platforms {
			if !mfpPlatforms[name] {
				t.Fatalf("unexpected platform %q", name)
			}
		}
	})
}

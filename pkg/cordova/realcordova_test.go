package cordova

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/mfpdev/mfpdev/internal/realcordova"
)

// TestLoadRealProject reads a project made by the real Cordova CLI with
// cordova-plugin-mfp from npm.
func TestLoadRealProject(t *testing.T) {
	root := realcordova.Project(t)
	p, err := Load(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}

	if p.Config.ID != realcordova.AppID || p.Config.Version != realcordova.AppVersion {
		t.Errorf("widget = %s@%s, want %s@%s", p.Config.ID, p.Config.Version, realcordova.AppID, realcordova.AppVersion)
	}
	if p.PluginVersion.String() != realcordova.PluginVersion {
		t.Errorf("plugin version = %s, want %s", p.PluginVersion, realcordova.PluginVersion)
	}
	for _, name := range realcordova.Platforms() {
		if _, ok := p.Config.MFP.Platforms[name]; !ok {
			t.Errorf("config.xml has no <mfp:%s> block", name)
		}
	}

	selected, err := p.SelectPlatforms(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(selected) != len(realcordova.Platforms()) {
		t.Fatalf("prepared platforms = %+v, want %v", selected, realcordova.Platforms())
	}
	for _, pl := range selected {
		if want := filepath.Join(root, filepath.FromSlash(realcordova.WWWDir[pl.Name])); pl.WWW != want {
			t.Errorf("%s www = %s, want %s", pl.Name, pl.WWW, want)
		}
	}
}

// TestSetAppChecksumRealConfig edits the config.xml the plugin wrote and
// checks that only the value of <mfp:appChecksum> changed.
func TestSetAppChecksumRealConfig(t *testing.T) {
	root := realcordova.CopyProject(t)
	path := filepath.Join(root, ConfigName)
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := SetAppChecksum(context.Background(), path, "ios", 4106755918); err != nil {
		t.Fatal(err)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	block := regexp.MustCompile(`(?s)<mfp:ios>.*?</mfp:ios>`).FindIndex(before)
	if block == nil {
		t.Fatalf("config.xml from the plugin has no <mfp:ios> block:\n%s", before)
	}
	value := regexp.MustCompile(`<mfp:appChecksum>[^<]*</mfp:appChecksum>|<mfp:appChecksum\s*/>`)
	inside := before[block[0]:block[1]]
	if !value.Match(inside) {
		t.Fatalf("<mfp:ios> of the plugin's config.xml has no <mfp:appChecksum>:\n%s", inside)
	}
	want := slices.Concat(before[:block[0]],
		value.ReplaceAll(inside, []byte("<mfp:appChecksum>4106755918</mfp:appChecksum>")),
		before[block[1]:])
	if !bytes.Equal(after, want) {
		t.Errorf("config.xml after the edit:\n%s\nwant:\n%s", after, want)
	}
}

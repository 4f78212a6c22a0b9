package webupdate

import (
	"context"
	"os"
	"testing"

	"github.com/mfpdev/mfpdev/internal/realcordova"
	"github.com/mfpdev/mfpdev/pkg/bundle"
	"github.com/mfpdev/mfpdev/pkg/cordova"
	"github.com/mfpdev/mfpdev/pkg/webres"
)

// TestRealProjectMatchesPlugin builds a project made by the real cordova
// CLI with cordova-plugin-mfp from npm, and checks that each platform's
// checksum, size and filelist equal what the plugin's own
// lib/mfp-checksum.js computes on the same folder.
func TestRealProjectMatchesPlugin(t *testing.T) {
	root := realcordova.CopyProject(t)
	ctx := context.Background()

	project, err := cordova.Load(ctx, root)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	plan, err := Prepare(ctx, project, Options{})
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	if len(plan.Platforms) != len(realcordova.Platforms()) {
		t.Fatalf("Prepare found %d platforms, want %d (%v)", len(plan.Platforms), len(realcordova.Platforms()), realcordova.Platforms())
	}

	for _, pp := range plan.Platforms {
		want := realcordova.PluginSum(t, pp.Platform.WWW)
		if pp.Sum.Checksum != want.Checksum {
			t.Errorf("%s: checksum = %d, plugin computes %d", pp.Platform.Name, pp.Sum.Checksum, want.Checksum)
		}
		if pp.Sum.Size != want.Size {
			t.Errorf("%s: size = %d, plugin computes %d", pp.Platform.Name, pp.Sum.Size, want.Size)
		}
		if string(pp.Sum.FileList) != want.FileList {
			t.Errorf("%s: filelist differs from the plugin's:\n got: %q\nwant: %q", pp.Platform.Name, pp.Sum.FileList, want.FileList)
		}
	}

	archives, err := plan.Write(ctx, nil)
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	for _, a := range archives {
		checkArchive(t, a)
	}

	// After the write, the plugin's checksum of the refreshed folder still
	// equals the archive's: checksum.js is excluded, filelist is the same.
	for i, pp := range plan.Platforms {
		got := realcordova.PluginSum(t, pp.Platform.WWW)
		if got.Checksum != archives[i].Checksum {
			t.Errorf("%s: plugin checksum after the build = %d, archive carries %d", pp.Platform.Name, got.Checksum, archives[i].Checksum)
		}
	}
}

func checkArchive(t *testing.T, a Archive) {
	t.Helper()
	f, err := os.Open(a.AbsPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	read, err := bundle.Read(context.Background(), f, info.Size(), bundle.ReadOptions{})
	if err != nil {
		t.Fatalf("%s: archive does not read back: %v", a.Platform, err)
	}
	if read.Meta.Checksum != a.Checksum {
		t.Errorf("%s: metadata checksum = %d, want %d", a.Platform, read.Meta.Checksum, a.Checksum)
	}
	if read.ChecksumJS != a.Checksum {
		t.Errorf("%s: checksum.js carries %d, want %d", a.Platform, read.ChecksumJS, a.Checksum)
	}
	if read.Meta.PluginVersion != realcordova.PluginVersion {
		t.Errorf("%s: plugin version = %q, want %q", a.Platform, read.Meta.PluginVersion, realcordova.PluginVersion)
	}
	if !hasEntry(read, "www/"+webres.ChecksumJSPath) || !hasEntry(read, "www/cordova.js") {
		t.Errorf("%s: archive lacks checksum.js or cordova.js", a.Platform)
	}
}

func hasEntry(a *bundle.Archive, name string) bool {
	for _, e := range a.Entries {
		if e.Name == name {
			return true
		}
	}
	return false
}

package realcordova

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestPluginChecksumRealProject(t *testing.T) {
	project := Project(t)

	for _, platform := range Platforms() {
		t.Run(platform, func(t *testing.T) {
			www := filepath.Join(project, filepath.FromSlash(WWWDir[platform]))

			first := PluginSum(t, www)
			second := PluginSum(t, www)
			t.Logf("%s: checksum %d, size %d, %d paths in filelist", platform, first.Checksum, first.Size, strings.Count(first.FileList, "\n")+1)

			if first.Checksum == 0 {
				t.Errorf("checksum = 0, want non-zero")
			}
			if first.Size == 0 {
				t.Errorf("size = 0, want non-zero")
			}
			if second.Checksum != first.Checksum {
				t.Errorf("second run checksum = %d, want %d", second.Checksum, first.Checksum)
			}
			if second.Size != first.Size {
				t.Errorf("second run size = %d, want %d", second.Size, first.Size)
			}

			lines := strings.Split(first.FileList, "\n")
			for _, want := range []string{"/cordova.js", "/cordova_plugins.js", "/filelist", "/index.html", "/plugins/cordova-plugin-mfp/worklight/worklight.js"} {
				if !slices.Contains(lines, want) {
					t.Errorf("filelist lacks %s", want)
				}
			}
			if slices.Contains(lines, "/plugins/cordova-plugin-mfp/worklight/checksum.js") {
				t.Errorf("filelist contains checksum.js, which the plugin excludes by name")
			}

			if _, err := os.Stat(filepath.Join(www, "filelist")); err == nil {
				t.Errorf("%s/filelist exists: the plugin ran on the shared project instead of a copy", www)
			}
		})
	}
}

func TestPluginChecksumSampleProject(t *testing.T) {
	raw, err := os.ReadFile("../../testdata/sample-checksums.json")
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]struct {
		Checksum uint32 `json:"checksum"`
		Size     int64  `json:"size"`
	}
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}

	for _, platform := range Platforms() {
		t.Run(platform, func(t *testing.T) {
			www := filepath.Join("..", "..", "testdata", "sample", filepath.FromSlash(WWWDir[platform]))

			checksum, size := PluginChecksum(t, www)

			if checksum != want[platform].Checksum {
				t.Errorf("checksum = %d, want %d (testdata/sample-checksums.json)", checksum, want[platform].Checksum)
			}
			if size != want[platform].Size {
				t.Errorf("size = %d, want %d (testdata/sample-checksums.json)", size, want[platform].Size)
			}
		})
	}
}

func TestCopyProjectKeepsTimes(t *testing.T) {
	src := Project(t)
	dst := CopyProject(t)

	for _, p := range []string{"config.xml", "plugins/cordova-plugin-mfp/package.json", "www/index.html", WWWDir["android"] + "/cordova.js", WWWDir["ios"] + "/cordova.js"} {
		from, err := os.Stat(filepath.Join(src, filepath.FromSlash(p)))
		if err != nil {
			t.Fatal(err)
		}
		to, err := os.Stat(filepath.Join(dst, filepath.FromSlash(p)))
		if err != nil {
			t.Errorf("copy lacks %s: %v", p, err)
			continue
		}
		if !to.ModTime().Equal(from.ModTime()) {
			t.Errorf("%s time = %v, want %v", p, to.ModTime(), from.ModTime())
		}
		if to.Size() != from.Size() {
			t.Errorf("%s size = %d, want %d", p, to.Size(), from.Size())
		}
	}

	if _, err := os.Stat(filepath.Join(dst, "node_modules")); err == nil {
		t.Errorf("copy contains node_modules, want only the files mfpdev reads")
	}
}

func TestCopyTreeFollowsSymlinks(t *testing.T) {
	src := t.TempDir()
	if err := os.MkdirAll(filepath.Join(src, "real"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "real", "a.js"), []byte("a"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real", filepath.Join(src, "linked")); err != nil {
		t.Skipf("symbolic links not supported here: %v", err)
	}

	dst := filepath.Join(t.TempDir(), "copy")
	if err := copyTree(src, dst, 0); err != nil {
		t.Fatal(err)
	}

	got, err := os.ReadFile(filepath.Join(dst, "linked", "a.js"))
	if err != nil {
		t.Fatalf("linked folder not copied: %v", err)
	}
	if string(got) != "a" {
		t.Errorf("linked/a.js = %q, want %q", got, "a")
	}
	info, err := os.Lstat(filepath.Join(dst, "linked"))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode()&os.ModeSymlink != 0 {
		t.Errorf("copy of linked is a symbolic link, want a folder")
	}
}

func TestCopyTreeStopsOnCycle(t *testing.T) {
	src := t.TempDir()
	if err := os.Symlink(".", filepath.Join(src, "self")); err != nil {
		t.Skipf("symbolic links not supported here: %v", err)
	}

	err := copyTree(src, filepath.Join(t.TempDir(), "copy"), 0)

	// Linux stops the lookup itself after 40 links (ELOOP), before
	// maxCopyDepth is reached. Either way the copy must end with an error.
	if err == nil {
		t.Fatal("copyTree returned no error for a symbolic-link cycle")
	}
}

func TestFindProjectInvalidEnv(t *testing.T) {
	t.Setenv(ProjectEnv, t.TempDir())

	_, err := findProject()

	if err == nil {
		t.Fatal("findProject accepted an empty folder")
	}
	if errors.Is(err, errUnavailable) {
		t.Errorf("error %q would skip the test, want a failure", err)
	}
	if !strings.Contains(err.Error(), "config.xml missing") {
		t.Errorf("error = %q, want it to name config.xml", err)
	}
}

func TestFindProjectNoCordova(t *testing.T) {
	t.Setenv(ProjectEnv, "")
	t.Setenv(CacheEnv, t.TempDir())

	_, err := findProject()

	if !errors.Is(err, errUnavailable) {
		t.Errorf("error = %v, want errUnavailable", err)
	}
}

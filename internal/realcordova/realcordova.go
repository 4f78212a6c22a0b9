// Package realcordova gives tests a Cordova project made by the real Cordova
// CLI with the published cordova-plugin-mfp, and runs the plugin's own
// checksum code, so mfpdev's results can be checked against the plugin's.
//
// The project is built by scripts/make-real-cordova-project.sh (cordova 12,
// cordova-android 13, cordova-ios 7, cordova-plugin-mfp 8.0.2024082705,
// prepared for android and ios). Tests find it in this order:
//
//  1. MFPDEV_REAL_CORDOVA names the project folder (set by .ci/run);
//  2. the Cordova CLI is already installed in the cache folder
//     (MFPDEV_CACHE, default os.UserCacheDir()/mfpdev), so the script can
//     build or reuse <cache>/real-cordova-project without asking npm for
//     the CLI;
//  3. otherwise the test is skipped with the command that enables it, or
//     fails when CI=true, so CI never passes without the cross-check.
package realcordova

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// Environment variables and layout shared with scripts/make-real-cordova-project.sh.
const (
	// ProjectEnv names the folder of a prepared real project.
	ProjectEnv = "MFPDEV_REAL_CORDOVA"
	// CacheEnv overrides the cache folder containing the Cordova CLI and the
	// project built from it.
	CacheEnv = "MFPDEV_CACHE"

	// CordovaVersion is the Cordova CLI version the script installs.
	CordovaVersion = "12.0.0"
	// PluginVersion is the cordova-plugin-mfp version the project uses.
	PluginVersion = "8.0.2024082705"
	// AppID and AppVersion are the widget id and version in its config.xml.
	AppID      = "com.example.realapp"
	AppVersion = "1.0.0"

	projectFolderName = "real-cordova-project"
	stampName         = ".mfpdev-real-cordova"
	buildTimeout      = 10 * time.Minute
)

// WWWDir maps a platform name to its prepared web-resources folder,
// relative to the project root.
var WWWDir = map[string]string{
	"android": "platforms/android/app/src/main/assets/www",
	"ios":     "platforms/ios/www",
}

// Project returns the root of the shared prepared real project. The folder
// is shared by every test and every package: do not modify it. Use
// CopyProject for a project a test may change.
func Project(t testing.TB) string {
	t.Helper()

	dir, err := findProject()
	if errors.Is(err, errUnavailable) {
		unavailable(t, err)
	}
	if err != nil {
		t.Fatalf("real Cordova project: %v", err)
	}
	return dir
}

// CopyProject copies the files of the real project that mfpdev reads into a
// new temporary folder and returns its root: config.xml, package.json,
// plugins/fetch.json, the plugin's package.json and plugin.xml, the root
// www/ and each prepared www folder. Modification times are kept, so the
// platform folders stay newer than the root www/.
func CopyProject(t testing.TB) string {
	t.Helper()

	src := Project(t)
	dst := t.TempDir()
	paths := []string{
		"config.xml",
		"package.json",
		"plugins/fetch.json",
		"plugins/cordova-plugin-mfp/package.json",
		"plugins/cordova-plugin-mfp/plugin.xml",
		"www",
	}
	for _, platform := range Platforms() {
		paths = append(paths, WWWDir[platform])
	}

	for _, p := range paths {
		from := filepath.Join(src, filepath.FromSlash(p))
		to := filepath.Join(dst, filepath.FromSlash(p))
		if err := copyTree(from, to, 0); err != nil {
			t.Fatalf("copy real Cordova project: %v", err)
		}
	}
	return dst
}

// Platforms returns the platforms the real project is prepared for.
func Platforms() []string {
	return []string{"android", "ios"}
}

var errUnavailable = errors.New("real Cordova project not available")

// buildOnce makes tests of one package share a single run of the script;
// the script's own lock serializes runs from parallel test binaries.
var buildOnce = sync.OnceValues(buildProject)

func findProject() (string, error) {
	if dir := os.Getenv(ProjectEnv); dir != "" {
		if err := checkProject(dir); err != nil {
			return "", fmt.Errorf("%s=%s: %w: run scripts/make-real-cordova-project.sh %s or unset %s", ProjectEnv, dir, err, dir, ProjectEnv)
		}
		return dir, nil
	}

	cache, err := cacheDir()
	if err != nil {
		return "", err
	}
	cordova := filepath.Join(cache, "cordova-"+CordovaVersion, "node_modules", ".bin", "cordova")
	if _, err := os.Stat(cordova); err != nil {
		return "", fmt.Errorf("%w: %s not set and no Cordova CLI at %s", errUnavailable, ProjectEnv, cordova)
	}
	return buildOnce()
}

// buildProject runs the script that builds or reuses <cache>/real-cordova-project.
func buildProject() (string, error) {
	cache, err := cacheDir()
	if err != nil {
		return "", err
	}
	root, err := repoRoot()
	if err != nil {
		return "", err
	}

	dir := filepath.Join(cache, projectFolderName)
	script := filepath.Join(root, "scripts", "make-real-cordova-project.sh")

	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", script, dir)
	cmd.Env = append(os.Environ(), CacheEnv+"="+cache)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build real Cordova project: %s %s: %w\n%s", script, dir, err, tail(stderr.String(), 40))
	}

	if err := checkProject(dir); err != nil {
		return "", fmt.Errorf("build real Cordova project: %s: %w", dir, err)
	}
	return dir, nil
}

// checkProject reports a folder that is not a project prepared for every
// platform in Platforms.
func checkProject(dir string) error {
	required := []string{"config.xml", "plugins/cordova-plugin-mfp/lib/mfp-checksum.js"}
	for _, platform := range Platforms() {
		required = append(required, WWWDir[platform]+"/cordova.js")
	}

	for _, p := range required {
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(p))); err != nil {
			return fmt.Errorf("not a prepared real Cordova project: %s missing", p)
		}
	}
	return nil
}

func cacheDir() (string, error) {
	if dir := os.Getenv(CacheEnv); dir != "" {
		return filepath.Abs(dir)
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("find cache folder: %w: set %s", err, CacheEnv)
	}
	return filepath.Join(base, "mfpdev"), nil
}

// repoRoot returns the module root, found from this source file's path
// because tests of other packages run in their own folders.
func repoRoot() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("find repository root: no caller information")
	}
	root := filepath.Join(filepath.Dir(file), "..", "..")
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		return "", fmt.Errorf("find repository root: %w", err)
	}
	return root, nil
}

// unavailable skips the test, or fails it when CI=true.
func unavailable(t testing.TB, err error) {
	t.Helper()

	msg := fmt.Sprintf("%v: run scripts/make-real-cordova-project.sh DIR and set %s=DIR (needs node, npm and the npm registry)", err, ProjectEnv)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

func tail(s string, lines int) string {
	parts := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(parts) > lines {
		parts = parts[len(parts)-lines:]
	}
	return strings.Join(parts, "\n")
}

// PluginResult is the result of the plugin's checksumDir function for a
// folder, plus the filelist file it writes into it.
type PluginResult struct {
	Checksum uint32 `json:"checksum"`
	Size     int64  `json:"size"`
	FileList string `json:"filelist"`
}

// PluginChecksum returns the web-resources checksum and size of wwwDir as
// computed by the plugin's own lib/mfp-checksum.js.
func PluginChecksum(t testing.TB, wwwDir string) (checksum uint32, size int64) {
	t.Helper()

	r := PluginSum(t, wwwDir)
	return r.Checksum, r.Size
}

// pluginScript loads lib/mfp-checksum.js (argv[1]), runs it on a folder
// (argv[2]) and prints its result with the filelist it wrote. The plugin
// logs through npmlog to stderr.
const pluginScript = `
const fs = require('fs');
const path = require('path');
const checksumDir = require(process.argv[1]);
const result = checksumDir(process.argv[2]);
if (result === null) {
	console.error('checksumDir returned null for ' + process.argv[2]);
	process.exit(1);
}
result.filelist = fs.readFileSync(path.join(process.argv[2], 'filelist'), 'utf8');
process.stdout.write(JSON.stringify(result));
`

// PluginSum runs the plugin's checksum code on a copy of wwwDir, because
// the plugin writes a filelist file into the folder it checks. Symbolic
// links are followed, as the plugin's fs.statSync does. The plugin comes
// from the nearest plugins/cordova-plugin-mfp/lib above wwwDir, or else
// from the shared real project.
func PluginSum(t testing.TB, wwwDir string) PluginResult {
	t.Helper()

	node, err := exec.LookPath("node")
	if err != nil {
		unavailable(t, fmt.Errorf("%w: node not found", errUnavailable))
	}

	plugin := findPluginChecksumJS(wwwDir)
	if plugin == "" {
		plugin = filepath.Join(Project(t), "plugins", "cordova-plugin-mfp", "lib", "mfp-checksum.js")
	}

	// The plugin needs an absolute, clean path without a trailing separator.
	copyDir := filepath.Join(t.TempDir(), "www")
	if err := copyTree(wwwDir, copyDir, 0); err != nil {
		t.Fatalf("plugin checksum: copy %s: %v", wwwDir, err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--no-deprecation", "-e", pluginScript, plugin, copyDir)
	var stdout, stderr strings.Builder
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("plugin checksum: node %s %s: %v\n%s", plugin, copyDir, err, tail(stderr.String(), 20))
	}

	var r PluginResult
	if err := json.Unmarshal([]byte(stdout.String()), &r); err != nil {
		t.Fatalf("plugin checksum: invalid output %q: %v", stdout.String(), err)
	}
	return r
}

// findPluginChecksumJS returns lib/mfp-checksum.js of the nearest
// plugins/cordova-plugin-mfp above dir, or "" when there is none.
func findPluginChecksumJS(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	for d := abs; ; d = filepath.Dir(d) {
		candidate := filepath.Join(d, "plugins", "cordova-plugin-mfp", "lib", "mfp-checksum.js")
		if _, err := os.Stat(candidate); err == nil {
			return candidate
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

// maxCopyDepth stops copyTree on a symbolic-link cycle.
const maxCopyDepth = 64

// copyTree copies src to dst, following symbolic links and keeping
// modification times. Only regular files and folders are copied.
func copyTree(src, dst string, depth int) error {
	if depth > maxCopyDepth {
		return fmt.Errorf("%s: more than %d nested folders (symbolic-link cycle?)", src, maxCopyDepth)
	}

	info, err := os.Stat(src)
	if err != nil {
		return err
	}

	switch {
	case info.Mode().IsRegular():
		if err := copyFile(src, dst, info.Mode().Perm()); err != nil {
			return err
		}
	case info.IsDir():
		if err := os.MkdirAll(dst, 0o755); err != nil {
			return err
		}
		entries, err := os.ReadDir(src)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if err := copyTree(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name()), depth+1); err != nil {
				return err
			}
		}
	default:
		return nil
	}

	return os.Chtimes(dst, info.ModTime(), info.ModTime())
}

func copyFile(src, dst string, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}

	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()

	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm|0o200)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

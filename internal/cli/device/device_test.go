package device

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/mfpdev/mfpdev/internal/cli/cmdutil"
	"github.com/mfpdev/mfpdev/internal/cli/iostreams"
	"github.com/mfpdev/mfpdev/internal/config"
	"github.com/mfpdev/mfpdev/internal/server"
	"github.com/mfpdev/mfpdev/pkg/bundle"
	"github.com/mfpdev/mfpdev/pkg/protocol"
	"github.com/mfpdev/mfpdev/pkg/signing"
	"github.com/mfpdev/mfpdev/pkg/webres"
)

const (
	sampleAppID   = "com.example.sample"
	sampleVersion = "1.0.0"
	samplePlugin  = "8.0.2024082705"
	androidWWW    = "platforms/android/app/src/main/assets/www"
)

// copySample copies the sample Cordova project into a temporary folder,
// so that updates do not touch the repository.
func copySample(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "sample")
	if err := os.CopyFS(dst, os.DirFS(filepath.Join("..", "..", "..", "testdata", "sample"))); err != nil {
		t.Fatal(err)
	}
	return dst
}

// buildAndroidArchive writes the archive of the sample's Android web
// resources with index.html replaced by index, and returns its bytes and
// checksum.
func buildAndroidArchive(t *testing.T, project, index, pluginVersion string) ([]byte, uint32) {
	t.Helper()
	src := filepath.Join(t.TempDir(), "www")
	if err := os.CopyFS(src, os.DirFS(filepath.Join(project, androidWWW))); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "index.html"), []byte(index), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(src, filepath.FromSlash(webres.ChecksumJSPath))); err != nil {
		t.Fatal(err)
	}

	ctx := context.Background()
	tree, err := webres.Scan(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := tree.Sum(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var files []bundle.SourceFile
	for _, f := range tree.Files {
		if f.Path != webres.FileListName {
			files = append(files, bundle.SourceFile{Path: f.Path, DiskPath: f.DiskPath})
		}
	}
	files = append(files,
		bundle.SourceFile{Path: webres.FileListName, Content: sum.FileList},
		bundle.SourceFile{Path: webres.ChecksumJSPath, Content: webres.ChecksumJS(sum.Checksum, time.Unix(0, 0))})

	dest := filepath.Join(t.TempDir(), "archive.zip")
	job := bundle.Job{Dest: dest, Files: files, Meta: bundle.Metadata{
		FormatVersion: bundle.FormatVersion, AppID: sampleAppID, Platform: "android", AppVersion: sampleVersion,
		PluginVersion: pluginVersion, PlatformVersion: "8.0.0.00-20230609-123807", Checksum: sum.Checksum, Size: sum.Size,
	}}
	if _, err := bundle.WriteArchives(ctx, []bundle.Job{job}, bundle.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(dest)
	if err != nil {
		t.Fatal(err)
	}
	return b, sum.Checksum
}

// startServer starts an update server on 127.0.0.1 holding archive, and
// returns its URL.
func startServer(t *testing.T, archive []byte) string {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte("secret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{
		DataDir: t.TempDir(),
		Users:   []server.User{{Name: "admin", Role: server.RoleAdmin, PasswordHash: hash}},
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		<-done
		srv.Close()
	})
	url := "http://" + ln.Addr().String()

	push := url + protocol.AdminWebPath(protocol.DefaultAdminContext, protocol.DefaultRuntime, sampleAppID, "android", sampleVersion)
	req, err := http.NewRequest(http.MethodPost, push, bytes.NewReader(archive))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", protocol.ZipContentType)
	req.SetBasicAuth("admin", "secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if body, _ := io.ReadAll(resp.Body); resp.StatusCode/100 != 2 {
		t.Fatalf("push: HTTP %d: %s", resp.StatusCode, body)
	}
	return url
}

// run executes "mfpdev device args…" and returns stdout, stderr and the error.
func run(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	ios, _, stdout, stderr := iostreams.Test()
	f := &cmdutil.Factory{
		IOStreams:  ios,
		HTTPClient: func() *http.Client { return &http.Client{Timeout: time.Minute} },
		Getenv:     func(string) string { return "" },
		Now:        time.Now,
	}
	cmd := NewCmdDevice(f)
	cmd.SetArgs(args)
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	cmd.SilenceUsage = true
	cmd.SilenceErrors = true
	err := cmd.ExecuteContext(context.Background())
	return stdout.String(), stderr.String(), err
}

func exitCode(err error) cmdutil.ExitCode {
	var silent *cmdutil.SilentError
	var usage *cmdutil.UsageError
	switch {
	case err == nil:
		return cmdutil.ExitOK
	case errors.As(err, &silent):
		return silent.Code
	case errors.As(err, &usage):
		return cmdutil.ExitUsage
	}
	return cmdutil.ExitError
}

func TestUpdateSampleProject(t *testing.T) {
	project := copySample(t)
	archive, checksum := buildAndroidArchive(t, project, "<h1>new</h1>\n", samplePlugin)
	url := startServer(t, archive)
	www := filepath.Join(project, androidWWW)

	stdout, stderr, err := run(t, "check", "--www", www, "--url", url, "--json")
	if err != nil {
		t.Fatalf("check: %v\n%s", err, stderr)
	}
	var resp protocol.CheckResponse
	if err := json.Unmarshal([]byte(stdout), &resp); err != nil {
		t.Fatalf("check --json output %q: %v", stdout, err)
	}
	if !resp.UpdateAvailable || resp.Checksum != checksum {
		t.Fatalf("check = %+v, want an update to %d", resp, checksum)
	}

	stdout, stderr, err = run(t, "update", "--www", www, "--url", url, "--json")
	if err != nil {
		t.Fatalf("update: %v\n%s", err, stderr)
	}
	var result map[string]any
	if err := json.Unmarshal([]byte(stdout), &result); err != nil {
		t.Fatalf("update --json output %q: %v", stdout, err)
	}
	if result["status"] != "SUCCESS" || result["checksum"] != float64(checksum) || result["previousChecksum"] != float64(0) {
		t.Errorf("update --json = %v, want SUCCESS from 0 to %d", result, checksum)
	}
	if result["bytesDownloaded"] != float64(len(archive)) || result["type"] != protocol.TypeFull {
		t.Errorf("update --json = %v, want %d bytes of a full archive", result, len(archive))
	}
	// The archive is unsigned, so there is no signature to note.
	if stderr != "" {
		t.Errorf("stderr = %q, want nothing without a terminal", stderr)
	}
	index, err := os.ReadFile(filepath.Join(www, "index.html"))
	if err != nil || string(index) != "<h1>new</h1>\n" {
		t.Errorf("index.html = %q (%v), want the new one", index, err)
	}

	stdout, _, err = run(t, "check", "--www", www, "--url", url)
	if err != nil {
		t.Fatal(err)
	}
	want := "device checksum: " + itoa(checksum) + "\nup to date\n"
	if stdout != want {
		t.Errorf("check output = %q, want %q", stdout, want)
	}
}

func TestUpdatePluginMismatchExitsZero(t *testing.T) {
	project := copySample(t)
	archive, _ := buildAndroidArchive(t, project, "<h1>new</h1>\n", "8.1.0")
	url := startServer(t, archive)
	www := filepath.Join(project, androidWWW)

	stdout, stderr, err := run(t, "update", "--www", www, "--url", url)
	if err != nil {
		t.Fatalf("update: %v\n%s", err, stderr)
	}
	if !strings.Contains(stdout, "UP_TO_DATE") || !strings.Contains(stdout, protocol.ReasonPluginVersionMismatch) ||
		!strings.Contains(stdout, "8.1.0") || !strings.Contains(stdout, samplePlugin) {
		t.Errorf("output = %q, want UP_TO_DATE with the mismatch and both versions", stdout)
	}

	stdout, _, err = run(t, "update", "--www", www, "--url", url, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var result map[string]any
	if err := json.Unmarshal([]byte(stdout), &result); err != nil {
		t.Fatal(err)
	}
	if result["reason"] != protocol.ReasonPluginVersionMismatch || result["bytesDownloaded"] != float64(0) {
		t.Errorf("update --json = %v, want reason %s and nothing downloaded", result, protocol.ReasonPluginVersionMismatch)
	}
}

func TestUpdateFailureExitsOne(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close()
	www := filepath.Join(copySample(t), androidWWW)

	stdout, stderr, err := run(t, "update", "--www", www, "--url", url)
	if code := exitCode(err); code != cmdutil.ExitError {
		t.Errorf("exit status = %d (%v), want %d", code, err, cmdutil.ExitError)
	}
	if !strings.HasPrefix(stderr, "FAILURE_NETWORK_PROBLEM: ") {
		t.Errorf("stderr = %q, want the status and the reason", stderr)
	}
	if stdout != "" {
		t.Errorf("stdout = %q, want nothing for a failure", stdout)
	}
}

func TestCheckWithoutProjectNamesFlag(t *testing.T) {
	www := t.TempDir()
	tests := []struct {
		args []string
		flag string
	}{
		{[]string{"--platform", "android", "--app-version", "1", "--plugin-version", "8.0.1"}, "--app-id"},
		{[]string{"--app-id", "a", "--app-version", "1", "--plugin-version", "8.0.1"}, "--platform"},
		{[]string{"--app-id", "a", "--platform", "android", "--plugin-version", "8.0.1"}, "--app-version"},
		{[]string{"--app-id", "a", "--platform", "android", "--app-version", "1"}, "--plugin-version"},
	}
	for _, tt := range tests {
		t.Run(tt.flag, func(t *testing.T) {
			_, _, err := run(t, append([]string{"check", "--www", www}, tt.args...)...)
			if code := exitCode(err); code != cmdutil.ExitUsage {
				t.Fatalf("exit status = %d (%v), want %d", code, err, cmdutil.ExitUsage)
			}
			if !strings.Contains(err.Error(), tt.flag) {
				t.Errorf("error %q does not name %s", err, tt.flag)
			}
		})
	}
}

func TestCheckFlagValidation(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no www", []string{"check"}, "--www"},
		{"profile and url", []string{"check", "prod", "--www", ".", "--url", "http://127.0.0.1:1"}, "not both"},
		{"checksum not a number", []string{"check", "--www", ".", "--checksum", "-1"}, "--checksum"},
		{"checksum too large", []string{"update", "--www", ".", "--checksum", "4294967296"}, "--checksum"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := run(t, tt.args...)
			if code := exitCode(err); code != cmdutil.ExitUsage {
				t.Fatalf("exit status = %d (%v), want %d", code, err, cmdutil.ExitUsage)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %s", err, tt.want)
			}
		})
	}
}

func TestDeviceProjectDefaults(t *testing.T) {
	project := copySample(t)
	for _, platform := range []string{"android", "ios"} {
		t.Run(platform, func(t *testing.T) {
			www := filepath.Join(project, androidWWW)
			if platform == "ios" {
				www = filepath.Join(project, "platforms", "ios", "www")
			}
			opts := &deviceOptions{WWW: www, HTTPClient: func() *http.Client { return http.DefaultClient }, Getenv: func(string) string { return "" }}

			d, err := opts.device(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if d.Platform != platform {
				t.Errorf("Platform = %q, want %q", d.Platform, platform)
			}
			if d.AppID != sampleAppID || d.AppVersion != sampleVersion || d.PluginVersion != samplePlugin {
				t.Errorf("device = %s %s plugin %s, want %s %s plugin %s", d.AppID, d.AppVersion, d.PluginVersion, sampleAppID, sampleVersion, samplePlugin)
			}
			if d.PublicKey != nil {
				t.Error("PublicKey is set, but the sample's config.xml has no key")
			}
			if d.ServerURL != protocol.DefaultServerURL || d.Runtime != protocol.DefaultRuntime {
				t.Errorf("server = %s runtime %s, want the defaults", d.ServerURL, d.Runtime)
			}
		})
	}
}

func itoa(n uint32) string { return strconv.FormatUint(uint64(n), 10) }

func TestCheckServerProfile(t *testing.T) {
	project := copySample(t)
	archive, checksum := buildAndroidArchive(t, project, "<h1>new</h1>\n", samplePlugin)
	url := startServer(t, archive)
	configPath := filepath.Join(t.TempDir(), "config.json")
	cfg := &config.Config{}
	if err := cfg.Add(config.Profile{Name: "staging", URL: url, Login: "admin"}); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Save(configPath); err != nil {
		t.Fatal(err)
	}
	www := filepath.Join(project, androidWWW)

	ios, _, stdout, stderr := iostreams.Test()
	f := &cmdutil.Factory{
		IOStreams:  ios,
		HTTPClient: func() *http.Client { return &http.Client{Timeout: time.Minute} },
		Getenv: func(name string) string {
			if name == config.EnvConfig {
				return configPath
			}
			return ""
		},
	}
	cmd := NewCmdDevice(f)
	cmd.SetArgs([]string{"check", "staging", "--www", www, "--json"})
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		t.Fatalf("check staging: %v\n%s", err, stderr)
	}
	var resp protocol.CheckResponse
	if err := json.Unmarshal(stdout.Bytes(), &resp); err != nil {
		t.Fatal(err)
	}
	if !resp.UpdateAvailable || resp.Checksum != checksum {
		t.Errorf("check = %+v, want an update to %d from the profile's server", resp, checksum)
	}

	cmd = NewCmdDevice(f)
	cmd.SetArgs([]string{"check", "missing", "--www", www})
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	err := cmd.ExecuteContext(context.Background())
	if err == nil || !strings.Contains(err.Error(), `"missing"`) {
		t.Errorf("check with an unknown profile: error %v, want one naming the profile", err)
	}
}

func TestUpdateFailureJSON(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close()
	www := filepath.Join(copySample(t), androidWWW)

	stdout, _, err := run(t, "update", "--www", www, "--url", url, "--json")
	if code := exitCode(err); code != cmdutil.ExitError {
		t.Errorf("exit status = %d (%v), want %d", code, err, cmdutil.ExitError)
	}
	var result map[string]any
	if err := json.Unmarshal([]byte(stdout), &result); err != nil {
		t.Fatalf("update --json output %q: %v", stdout, err)
	}
	if result["status"] != "FAILURE_NETWORK_PROBLEM" {
		t.Errorf("status = %v, want FAILURE_NETWORK_PROBLEM", result["status"])
	}
	if msg, _ := result["error"].(string); !strings.Contains(msg, url[len("http://"):]) {
		t.Errorf("error = %q, want the reason naming the server", msg)
	}
}

// countingServer returns the URL of a server that counts the requests it
// receives and fails each one.
func countingServer(t *testing.T) (string, *atomic.Int64) {
	t.Helper()
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.Error(w, "unexpected request", http.StatusTeapot)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &requests
}

func TestDeviceFlagValuesRejected(t *testing.T) {
	url, requests := countingServer(t)
	www := t.TempDir()
	good := map[string]string{
		"--app-id":         sampleAppID,
		"--platform":       "android",
		"--app-version":    sampleVersion,
		"--plugin-version": samplePlugin,
	}
	tests := []struct {
		flag, value string
		want        []string
	}{
		{"--plugin-version", "8.0", []string{`"8.0"`, "three dot-separated numbers", "8.0.2024082705"}},
		{"--plugin-version", "8.x.1", []string{`"8.x.1"`, "three dot-separated numbers"}},
		{"--plugin-version", "", []string{`""`, "three dot-separated numbers"}},
		{"--platform", "foo", []string{`"foo"`, "android, browser, electron, ios, windows"}},
		{"--platform", "Android", []string{`"Android"`, "android, browser, electron, ios, windows"}},
		{"--platform", "", []string{`""`, "android, browser, electron, ios, windows"}},
		{"--app-version", "v1.0", []string{`"v1.0"`, "does not start with a digit", "1.0.0"}},
		{"--app-version", "${VERSION}", []string{`"${VERSION}"`, "placeholder"}},
		{"--app-version", "1.0/../x", []string{`"1.0/../x"`, "'/'"}},
		{"--app-version", "", []string{"empty"}},
		{"--app-id", "com example", []string{`"com example"`, "' '", "com.example.app"}},
		{"--app-id", "com..example", []string{`"com..example"`, "empty part"}},
		{"--app-id", "", []string{"empty"}},
	}
	for _, command := range []string{"check", "update"} {
		for _, tt := range tests {
			t.Run(command+" "+tt.flag+"="+tt.value, func(t *testing.T) {
				args := []string{command, "--www", www, "--url", url, "--json", tt.flag, tt.value}
				for flag, value := range good {
					if flag != tt.flag {
						args = append(args, flag, value)
					}
				}

				stdout, _, err := run(t, args...)
				if code := exitCode(err); code != cmdutil.ExitUsage {
					t.Fatalf("exit status = %d (%v), want %d", code, err, cmdutil.ExitUsage)
				}
				if !strings.Contains(err.Error(), tt.flag) {
					t.Errorf("error %q does not name %s", err, tt.flag)
				}
				for _, want := range tt.want {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not contain %s", err, want)
					}
				}
				if stdout != "" {
					t.Errorf("stdout = %q, want nothing for a usage error", stdout)
				}
			})
		}
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("server received %d requests, want none", n)
	}
}

func TestDeviceFlagValuesAccepted(t *testing.T) {
	project := copySample(t)
	archive, _ := buildAndroidArchive(t, project, "<h1>new</h1>\n", samplePlugin)
	url := startServer(t, archive)
	www := t.TempDir()

	tests := []struct {
		name       string
		args       []string
		wantReason string
	}{
		{"plugin version with suffix", []string{"--platform", "android", "--plugin-version", samplePlugin + "-rc.1"}, protocol.ReasonAvailable},
		{"plugin version with fourth number", []string{"--platform", "android", "--plugin-version", samplePlugin + ".4"}, protocol.ReasonAvailable},
		{"other known platform", []string{"--platform", "windows", "--plugin-version", samplePlugin}, protocol.ReasonNoWebResources},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"check", "--www", www, "--url", url, "--json", "--checksum", "1",
				"--app-id", sampleAppID, "--app-version", sampleVersion}, tt.args...)
			stdout, stderr, err := run(t, args...)
			if err != nil {
				t.Fatalf("check: %v\n%s", err, stderr)
			}
			var resp protocol.CheckResponse
			if err := json.Unmarshal([]byte(stdout), &resp); err != nil {
				t.Fatalf("check --json output %q: %v", stdout, err)
			}
			if resp.Reason != tt.wantReason {
				t.Errorf("reason = %q, want %q", resp.Reason, tt.wantReason)
			}
		})
	}
}

func TestProjectFlagOutsideProject(t *testing.T) {
	project := copySample(t)
	archive, checksum := buildAndroidArchive(t, project, "<h1>new</h1>\n", samplePlugin)
	url := startServer(t, archive)
	www := filepath.Join(t.TempDir(), "www")
	if err := os.CopyFS(www, os.DirFS(filepath.Join(project, androidWWW))); err != nil {
		t.Fatal(err)
	}

	_, _, err := run(t, "update", "--www", www, "--url", url, "--platform", "android")
	if code := exitCode(err); code != cmdutil.ExitUsage {
		t.Fatalf("without --project: exit status = %d (%v), want %d", code, err, cmdutil.ExitUsage)
	}
	if !strings.Contains(err.Error(), "--app-id required") {
		t.Errorf("without --project: error %q does not name --app-id", err)
	}
	if !strings.Contains(err.Error(), "--project DIR") {
		t.Errorf("without --project: error %q does not suggest --project DIR", err)
	}

	_, _, err = run(t, "update", "--www", www, "--url", url, "--project", project)
	if code := exitCode(err); code != cmdutil.ExitUsage {
		t.Fatalf("without --platform: exit status = %d (%v), want %d", code, err, cmdutil.ExitUsage)
	}
	if !strings.Contains(err.Error(), "--platform required") {
		t.Errorf("without --platform: error %q does not name --platform", err)
	}
	if !strings.Contains(err.Error(), "not in the platforms folder") {
		t.Errorf("without --platform: error %q does not give the reason", err)
	}

	stdout, stderr, err := run(t, "update", "--www", www, "--url", url, "--project", project, "--platform", "android")
	if err != nil {
		t.Fatalf("update --project: %v\n%s", err, stderr)
	}
	if want := "SUCCESS: web resources updated from checksum "; !strings.HasPrefix(stdout, want) {
		t.Errorf("stdout = %q, want it to start with %q", stdout, want)
	}
	if !strings.Contains(stdout, " to "+itoa(checksum)+" ") {
		t.Errorf("stdout = %q, want the new checksum %d", stdout, checksum)
	}
	if stderr != "" {
		t.Errorf("stderr = %q, want nothing for an unsigned archive", stderr)
	}
}

func TestProjectFlagInvalid(t *testing.T) {
	noProject := t.TempDir()
	if err := os.WriteFile(filepath.Join(noProject, "file.txt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		project string
		want    string
	}{
		{"no config.xml", noProject, "no config.xml found in that folder or any parent folder"},
		{"missing folder", filepath.Join(noProject, "missing"), "folder not found"},
		{"file", filepath.Join(noProject, "file.txt"), "not a folder"},
		{"empty", "", "--project is empty"},
	}
	for _, command := range []string{"check", "update"} {
		for _, tt := range tests {
			t.Run(command+" "+tt.name, func(t *testing.T) {
				// Every value is given, so only --project can fail.
				_, _, err := run(t, command, "--www", t.TempDir(), "--url", "http://127.0.0.1:1", "--project", tt.project,
					"--app-id", sampleAppID, "--platform", "android", "--app-version", sampleVersion, "--plugin-version", samplePlugin)
				if code := exitCode(err); code != cmdutil.ExitUsage {
					t.Fatalf("exit status = %d (%v), want %d", code, err, cmdutil.ExitUsage)
				}
				if !strings.Contains(err.Error(), tt.want) {
					t.Errorf("error %q does not contain %q", err, tt.want)
				}
				if !strings.Contains(err.Error(), "--project") {
					t.Errorf("error %q does not name --project", err)
				}
				if strings.Contains(err.Error(), "pass --project") {
					t.Errorf("error %q tells the user to pass --project, which was passed", err)
				}
			})
		}
	}
}

func TestUpdateSignatureNote(t *testing.T) {
	key, err := signing.Generate(2048)
	if err != nil {
		t.Fatal(err)
	}
	publicKey, err := signing.PublicKeyBase64(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	project := copySample(t)
	archive, checksum := buildAndroidArchive(t, project, "<h1>signed</h1>\n", samplePlugin)
	archivePath := filepath.Join(t.TempDir(), "signed.zip")
	if err := os.WriteFile(archivePath, archive, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := signing.SignFile(context.Background(), archivePath, key); err != nil {
		t.Fatal(err)
	}
	signed, err := os.ReadFile(archivePath)
	if err != nil {
		t.Fatal(err)
	}
	url := startServer(t, signed)
	flags := []string{"--url", url, "--app-id", sampleAppID, "--platform", "android",
		"--app-version", sampleVersion, "--plugin-version", samplePlugin}

	tests := []struct {
		name     string
		args     []string
		wantNote string
	}{
		{"no key", nil, "note: signature not checked: pass --public-key or --project\n"},
		{"public key", []string{"--public-key", publicKey}, ""},
		{"json without key", []string{"--json"}, "note: signature not checked: pass --public-key or --project\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			www := filepath.Join(t.TempDir(), "www")
			if err := os.CopyFS(www, os.DirFS(filepath.Join(project, androidWWW))); err != nil {
				t.Fatal(err)
			}

			args := append(append([]string{"update", "--www", www}, flags...), tt.args...)
			stdout, stderr, err := run(t, args...)
			if err != nil {
				t.Fatalf("update: %v\n%s", err, stderr)
			}
			if stderr != tt.wantNote {
				t.Errorf("stderr = %q, want %q", stderr, tt.wantNote)
			}
			if !strings.Contains(stdout, itoa(checksum)) {
				t.Errorf("stdout = %q, want the new checksum %d", stdout, checksum)
			}
			if slices.Contains(tt.args, "--json") {
				var result map[string]any
				if err := json.Unmarshal([]byte(stdout), &result); err != nil {
					t.Errorf("update --json output %q is not one JSON document: %v", stdout, err)
				}
			}

			// Up to date now: nothing was applied, so there is no note.
			_, stderr, err = run(t, args...)
			if err != nil {
				t.Fatalf("second update: %v\n%s", err, stderr)
			}
			if stderr != "" {
				t.Errorf("second update: stderr = %q, want nothing when no archive was applied", stderr)
			}
		})
	}
}

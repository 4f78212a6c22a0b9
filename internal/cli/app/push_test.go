package app

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mfpdev/mfpdev/internal/cli/cmdutil"
	"github.com/mfpdev/mfpdev/internal/cli/iostreams"
	"github.com/mfpdev/mfpdev/internal/config"
	"github.com/mfpdev/mfpdev/internal/server"
	"github.com/mfpdev/mfpdev/pkg/adminclient"
	"github.com/mfpdev/mfpdev/pkg/bundle"
	"github.com/mfpdev/mfpdev/pkg/webres"
)

// startUpdateServer runs the real update server on 127.0.0.1 with one
// deployer login.
func startUpdateServer(t *testing.T, login, password string) *httptest.Server {
	t.Helper()
	user, err := server.NewUser(login, server.RoleDeployer, password)
	if err != nil {
		t.Fatal(err)
	}
	s, err := server.New(server.Config{DataDir: t.TempDir(), Users: []server.User{user}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })

	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return srv
}

// writeTestArchive builds a valid unsigned archive of a small www folder
// for platform and returns it as a PushArchive.
func writeTestArchive(t *testing.T, platform, content string) PushArchive {
	t.Helper()
	dir := t.TempDir()
	www := filepath.Join(dir, "www")
	files := map[string]string{
		"index.html": "<html><body>" + content + "</body></html>",
		"cordova.js": "var cordova = {};\n",
		"js/app.js":  "console.log(\"" + platform + "\");\n",
	}
	for name, text := range files {
		full := filepath.Join(www, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	ctx := context.Background()
	tree, err := webres.Scan(ctx, www)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := tree.Sum(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var sources []bundle.SourceFile
	for _, f := range tree.Files {
		sources = append(sources, bundle.SourceFile{Path: f.Path, DiskPath: f.DiskPath})
	}
	sources = append(sources,
		bundle.SourceFile{Path: webres.FileListName, Content: sum.FileList},
		bundle.SourceFile{Path: webres.ChecksumJSPath, Content: webres.ChecksumJS(sum.Checksum, time.Unix(0, 0))},
	)

	dest := filepath.Join(dir, "com.example.app-"+platform+"-1.0.0.zip")
	meta := bundle.Metadata{
		AppID: "com.example.app", Platform: platform, AppVersion: "1.0.0",
		PluginVersion: "8.0.2024082705", PlatformVersion: "8.0.0.00-20230609-123807",
		Checksum: sum.Checksum, Size: sum.Size,
	}
	results, err := bundle.WriteArchives(ctx, []bundle.Job{{Dest: dest, Files: sources, Meta: meta}}, bundle.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return PushArchive{Path: dest, AppID: "com.example.app", Platform: platform, AppVersion: "1.0.0",
		Checksum: sum.Checksum, SHA256: results[0].SHA256}
}

// passwordPrompter answers every password prompt with one value and
// counts the prompts. Input and Confirm fail the test.
type passwordPrompter struct {
	t        *testing.T
	answer   string
	prompted int
}

func (p *passwordPrompter) Input(message, defaultValue string) (string, error) {
	p.t.Fatalf("unexpected input prompt %q", message)
	return "", nil
}

func (p *passwordPrompter) Password(message string) (string, error) {
	p.prompted++
	return p.answer, nil
}

func (p *passwordPrompter) Confirm(message string, defaultValue bool) (bool, error) {
	p.t.Fatalf("unexpected confirm prompt %q", message)
	return false, nil
}

type pushEnv struct {
	opts     PushOptions
	errOut   *bytes.Buffer
	env      map[string]string
	prompter *passwordPrompter
}

// newPushEnv returns push options whose profiles file holds profiles.
func newPushEnv(t *testing.T, tty bool, profiles ...config.Profile) *pushEnv {
	t.Helper()
	streams, _, _, errOut := iostreams.Test()
	streams.SetTTY(tty)

	path := filepath.Join(t.TempDir(), "config.json")
	cfg := &config.Config{}
	for _, p := range profiles {
		if err := cfg.Add(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := cfg.Save(path); err != nil {
		t.Fatal(err)
	}

	e := &pushEnv{env: map[string]string{config.EnvConfig: path}, prompter: &passwordPrompter{t: t}}
	e.opts = PushOptions{
		IO:         streams,
		Prompter:   e.prompter,
		HTTPClient: func() *http.Client { return &http.Client{} },
		Getenv:     func(key string) string { return e.env[key] },
	}
	e.errOut = errOut
	return e
}

func TestPushToRealServer(t *testing.T) {
	srv := startUpdateServer(t, "deployer", "pw")
	e := newPushEnv(t, false, config.Profile{Name: "test", URL: srv.URL, Login: "deployer", Password: "pw"})
	archives := []PushArchive{writeTestArchive(t, "android", "a"), writeTestArchive(t, "ios", "i")}

	results, err := pushArchives(context.Background(), e.opts, archives)
	if err != nil {
		t.Fatal(err)
	}

	if len(results) != 2 {
		t.Fatalf("got %d results, want 2", len(results))
	}
	for i, r := range results {
		a := archives[i]
		if r.Deployment.SHA256 != a.SHA256 || r.Deployment.Checksum != a.Checksum {
			t.Errorf("%s deployment = %+v, want sha256 %s checksum %d", a.Platform, r.Deployment, a.SHA256, a.Checksum)
		}
		if r.Profile != "test" || r.ServerURL != srv.URL || r.Runtime != "mfp" {
			t.Errorf("%s result target = %s %s %s", a.Platform, r.Profile, r.ServerURL, r.Runtime)
		}
		// Without a terminal the result is left to stdout, so stderr stays quiet.
		if strings.Contains(e.errOut.String(), "uploaded "+a.Platform) {
			t.Errorf("stderr %q repeats the upload of %s without a terminal", e.errOut, a.Platform)
		}
	}

	client := &adminclient.Client{BaseURL: srv.URL, Login: "deployer", Password: "pw"}
	d, _, err := client.GetDeployment(context.Background(), "mfp",
		adminclient.App{ID: "com.example.app", Platform: "android", Version: "1.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	if d.SHA256 != archives[0].SHA256 {
		t.Errorf("server's deployment sha256 = %s, want %s", d.SHA256, archives[0].SHA256)
	}
}

func TestPushProgressOnTerminal(t *testing.T) {
	srv := startUpdateServer(t, "deployer", "pw")
	e := newPushEnv(t, true, config.Profile{Name: "test", URL: srv.URL, Login: "deployer", Password: "pw"})

	if _, err := pushArchives(context.Background(), e.opts, []PushArchive{writeTestArchive(t, "android", "a")}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(e.errOut.String(), "uploading android 1.0.0") {
		t.Errorf("stderr %q lacks the progress bar", e.errOut)
	}
}

func TestPushPasswordSources(t *testing.T) {
	srv := startUpdateServer(t, "deployer", "pw")
	profile := config.Profile{Name: "test", URL: srv.URL, Login: "deployer"}
	archive := writeTestArchive(t, "android", "a")

	t.Run("flag", func(t *testing.T) {
		e := newPushEnv(t, false, profile)
		e.opts.Password = "pw"
		if _, err := pushArchives(context.Background(), e.opts, []PushArchive{archive}); err != nil {
			t.Error(err)
		}
	})
	t.Run("environment", func(t *testing.T) {
		e := newPushEnv(t, false, profile)
		e.env[config.EnvPassword] = "pw"
		if _, err := pushArchives(context.Background(), e.opts, []PushArchive{archive}); err != nil {
			t.Error(err)
		}
	})
	t.Run("prompt", func(t *testing.T) {
		e := newPushEnv(t, true, profile)
		e.prompter.answer = "pw"
		if _, err := pushArchives(context.Background(), e.opts, []PushArchive{archive}); err != nil {
			t.Error(err)
		}
		if e.prompter.prompted != 1 {
			t.Errorf("prompted %d times, want 1", e.prompter.prompted)
		}
	})
	t.Run("none without terminal", func(t *testing.T) {
		e := newPushEnv(t, false, profile)
		_, err := pushArchives(context.Background(), e.opts, []PushArchive{archive})
		var usage *cmdutil.UsageError
		if !errors.As(err, &usage) {
			t.Fatalf("err = %v, want a usage error", err)
		}
		for _, want := range []string{"--password", "MFPDEV_PASSWORD", "mfpdev server edit test"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("err %q lacks %q", err, want)
			}
		}
	})
}

func TestPushRejectedLogin(t *testing.T) {
	srv := startUpdateServer(t, "deployer", "pw")
	e := newPushEnv(t, false, config.Profile{Name: "prod", URL: srv.URL, Login: "deployer", Password: "wrong"})

	results, err := pushArchives(context.Background(), e.opts, []PushArchive{writeTestArchive(t, "android", "a")})
	var auth *cmdutil.AuthError
	if !errors.As(err, &auth) {
		t.Fatalf("err = %v, want an AuthError", err)
	}
	if !strings.Contains(err.Error(), "mfpdev server edit prod") {
		t.Errorf("err %q does not name the command that fixes the login", err)
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Errorf("err %q shows the password", err)
	}
	if len(results) != 0 {
		t.Errorf("got %d results, want none", len(results))
	}
}

func TestPushRejectedEnvironmentPassword(t *testing.T) {
	srv := startUpdateServer(t, "deployer", "pw")
	e := newPushEnv(t, false, config.Profile{Name: "prod", URL: srv.URL, Login: "deployer"})
	e.env[config.EnvPassword] = "wrong"

	_, err := pushArchives(context.Background(), e.opts, []PushArchive{writeTestArchive(t, "android", "a")})
	var auth *cmdutil.AuthError
	if !errors.As(err, &auth) {
		t.Fatalf("err = %v, want an AuthError", err)
	}
	for _, want := range []string{"upload com.example.app android 1.0.0", "password from MFPDEV_PASSWORD"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("err %q lacks %q", err, want)
		}
	}
}

func TestPushUnknownRuntime(t *testing.T) {
	srv := startUpdateServer(t, "deployer", "pw")
	e := newPushEnv(t, false, config.Profile{Name: "test", URL: srv.URL, Login: "deployer", Password: "pw"})
	e.opts.Runtime = "nope"

	_, err := pushArchives(context.Background(), e.opts, []PushArchive{writeTestArchive(t, "android", "a")})
	if !errors.Is(err, adminclient.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
	if !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("err %q does not name the runtime", err)
	}
}

func TestPushStopsAtFirstFailure(t *testing.T) {
	srv := startUpdateServer(t, "deployer", "pw")
	e := newPushEnv(t, false, config.Profile{Name: "test", URL: srv.URL, Login: "deployer", Password: "pw"})
	good := writeTestArchive(t, "android", "a")
	changed := writeTestArchive(t, "ios", "i")
	changed.SHA256 = strings.Repeat("0", 64)
	never := writeTestArchive(t, "browser", "b")

	results, err := pushArchives(context.Background(), e.opts, []PushArchive{good, changed, never})
	if err == nil {
		t.Fatal("push succeeded with an archive whose SHA-256 does not match")
	}
	if len(results) != 1 || results[0].Archive.Platform != "android" {
		t.Errorf("results = %+v, want only android", results)
	}
	if strings.Contains(e.errOut.String(), "uploaded browser") {
		t.Error("push went on after a failure")
	}
}

func TestPushUnknownProfile(t *testing.T) {
	e := newPushEnv(t, false)
	e.opts.Profile = "missing"
	_, err := pushArchives(context.Background(), e.opts, []PushArchive{{Path: "unused.zip"}})
	if err == nil || !strings.Contains(err.Error(), "mfpdev server list") {
		t.Errorf("err = %v, want a profile not found error", err)
	}
}

func TestArchiveFromFile(t *testing.T) {
	want := writeTestArchive(t, "android", "a")

	got, err := archiveFromFile(context.Background(), want.Path)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("archiveFromFile = %+v, want %+v", got, want)
	}
}

func TestArchiveFromFileInvalid(t *testing.T) {
	path := filepath.Join(t.TempDir(), "broken.zip")
	if err := os.WriteFile(path, []byte("not a zip"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := archiveFromFile(context.Background(), path)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("err = %v, want an error naming %s", err, path)
	}

	_, err = archiveFromFile(context.Background(), filepath.Join(t.TempDir(), "none.zip"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: err = %v, want a not-exist error", err)
	}
}

func TestPushURLWithoutPassword(t *testing.T) {
	srv := startUpdateServer(t, "deployer", "pw")
	e := newPushEnv(t, false)
	e.opts.URL = srv.URL

	_, err := pushArchives(context.Background(), e.opts, []PushArchive{writeTestArchive(t, "android", "a")})
	var usage *cmdutil.UsageError
	if !errors.As(err, &usage) {
		t.Fatalf("err = %v, want a usage error", err)
	}
	for _, want := range []string{"pass --password or set MFPDEV_PASSWORD", "a local server started without users has admin/admin"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("err %q lacks %q", err, want)
		}
	}
}

func TestPushURLRejectedPassword(t *testing.T) {
	srv := startUpdateServer(t, "deployer", "pw")
	e := newPushEnv(t, false)
	e.opts.URL, e.opts.Login, e.opts.Password = srv.URL, "deployer", "wrong"

	_, err := pushArchives(context.Background(), e.opts, []PushArchive{writeTestArchive(t, "android", "a")})
	var auth *cmdutil.AuthError
	if !errors.As(err, &auth) {
		t.Fatalf("err = %v, want an AuthError", err)
	}
	for _, want := range []string{"push to server " + srv.URL, `rejected login "deployer" with the password from --password`, "--login"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("err %q lacks %q", err, want)
		}
	}
	for _, unwanted := range []string{"built-in login", "server profile"} {
		if strings.Contains(err.Error(), unwanted) {
			t.Errorf("err %q contains %q", err, unwanted)
		}
	}
}

func TestPushURLRejectedPromptPassword(t *testing.T) {
	srv := startUpdateServer(t, "deployer", "pw")
	e := newPushEnv(t, true)
	e.opts.URL, e.opts.Login = srv.URL, "deployer"
	e.prompter.answer = "typo"

	_, err := pushArchives(context.Background(), e.opts, []PushArchive{writeTestArchive(t, "android", "a")})
	var auth *cmdutil.AuthError
	if !errors.As(err, &auth) {
		t.Fatalf("err = %v, want an AuthError", err)
	}
	if want := `rejected login "deployer" with the password typed`; !strings.Contains(err.Error(), want) {
		t.Errorf("err %q lacks %q", err, want)
	}
	if strings.Contains(err.Error(), "built-in login") {
		t.Errorf("err %q blames the built-in login", err)
	}
}

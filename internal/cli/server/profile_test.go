package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mfpdev/mfpdev/internal/cli/cmdutil"
	"github.com/mfpdev/mfpdev/internal/cli/iostreams"
	"github.com/mfpdev/mfpdev/internal/config"
	updateserver "github.com/mfpdev/mfpdev/internal/server"
)

// scriptedPrompter answers prompts from a script, in order, and fails the
// test on a prompt the script does not expect.
type scriptedPrompter struct {
	t     *testing.T
	steps []promptStep
}

type promptStep struct {
	kind    string // "input", "password" or "confirm"
	message string // a substring of the expected message
	answer  string // "y"/"n" for confirm
}

func (p *scriptedPrompter) next(kind, message string) string {
	p.t.Helper()
	if len(p.steps) == 0 {
		p.t.Fatalf("unexpected %s prompt %q", kind, message)
	}
	step := p.steps[0]
	p.steps = p.steps[1:]
	if step.kind != kind || !strings.Contains(message, step.message) {
		p.t.Fatalf("prompt = %s %q, want %s containing %q", kind, message, step.kind, step.message)
	}
	return step.answer
}

func (p *scriptedPrompter) Input(message, defaultValue string) (string, error) {
	answer := p.next("input", message)
	if answer == "" {
		return defaultValue, nil
	}
	return answer, nil
}

func (p *scriptedPrompter) Password(message string) (string, error) {
	return p.next("password", message), nil
}

func (p *scriptedPrompter) Confirm(message string, defaultValue bool) (bool, error) {
	return p.next("confirm", message) == "y", nil
}

func (p *scriptedPrompter) assertDone() {
	p.t.Helper()
	if len(p.steps) > 0 {
		p.t.Errorf("prompts not asked: %+v", p.steps)
	}
}

// testEnv is a Factory with buffers, a profiles file in a temporary
// folder and a scripted prompter.
type testEnv struct {
	f          *cmdutil.Factory
	out        *bytes.Buffer
	errOut     *bytes.Buffer
	prompter   *scriptedPrompter
	configPath string
	env        map[string]string
}

func newTestEnv(t *testing.T, tty bool, steps ...promptStep) *testEnv {
	t.Helper()
	streams, _, out, errOut := iostreams.Test()
	streams.SetTTY(tty)
	e := &testEnv{
		out:        out,
		errOut:     errOut,
		prompter:   &scriptedPrompter{t: t, steps: steps},
		configPath: filepath.Join(t.TempDir(), "mfpdev", "config.json"),
	}
	e.env = map[string]string{config.EnvConfig: e.configPath}
	e.f = &cmdutil.Factory{
		IOStreams:  streams,
		Prompter:   e.prompter,
		HTTPClient: func() *http.Client { return &http.Client{} },
		Getenv:     func(key string) string { return e.env[key] },
	}
	t.Cleanup(e.prompter.assertDone)
	return e
}

func (e *testEnv) run(args ...string) error {
	cmd := NewCmdServer(e.f)
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	cmd.SilenceUsage = true
	cmd.SilenceErrors = true
	return cmd.ExecuteContext(context.Background())
}

func (e *testEnv) load(t *testing.T) *config.Config {
	t.Helper()
	c, err := config.Load(e.configPath)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// adminServer serves the admin runtimes list to one login and counts
// the requests.
type adminServer struct {
	*httptest.Server
	requests int
}

func newAdminServer(t *testing.T, login, password string) *adminServer {
	s := &adminServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests++
		user, pw, _ := r.BasicAuth()
		if user != login || pw != password {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"ok":false,"productVersion":"test"}`)
			return
		}
		if r.URL.Path != "/mfpadmin/management-apis/2.0/runtimes" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		io.WriteString(w, `{"ok":true,"productVersion":"test","runtimes":[{"name":"mfp"}]}`)
	}))
	t.Cleanup(s.Close)
	return s
}

func closedPortURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close()
	return url
}

func TestAddWithFlags(t *testing.T) {
	srv := newAdminServer(t, "deployer", "pw")
	e := newTestEnv(t, false)

	err := e.run("add", "prod", "--url", srv.URL+"/", "--login", "deployer", "--password", "pw",
		"--context-root", "mfpadmin", "--runtime", "rt", "--timeout", "12")
	if err != nil {
		t.Fatal(err)
	}

	c := e.load(t)
	p, ok := c.Get("prod")
	if !ok {
		t.Fatal("profile prod was not saved")
	}
	want := config.Profile{Name: "prod", URL: srv.URL, Login: "deployer", Password: "pw",
		AdminContext: "mfpadmin", Runtime: "rt", Timeout: 12}
	if p != want {
		t.Errorf("saved profile = %+v, want %+v", p, want)
	}
	if c.Default != "prod" {
		t.Errorf("default = %q, want the first profile", c.Default)
	}
	if srv.requests != 1 {
		t.Errorf("server got %d requests, want 1 verification", srv.requests)
	}
	if e.errOut.Len() != 0 || e.out.Len() != 0 {
		t.Errorf("non-TTY add printed %q %q, want nothing", e.out, e.errOut)
	}
}

func TestAddFileMode(t *testing.T) {
	e := newTestEnv(t, false)
	if err := e.run("add", "p", "--url", "http://localhost:9080", "--login", "admin", "--password", "x", "--no-verify"); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(e.configPath)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("profiles file mode = %o, want 600", fi.Mode().Perm())
	}
}

func TestAddNonTTYMissingFlags(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"add"}, "profile name required"},
		{[]string{"add", "p"}, "--url required"},
		{[]string{"add", "p", "--url", "http://localhost:9080"}, "--login required"},
		{[]string{"add", "p", "--url", "http://localhost:9080", "--login", "a"}, "--password required"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			e := newTestEnv(t, false)
			err := e.run(tc.args...)
			var usage *cmdutil.UsageError
			if !errors.As(err, &usage) {
				t.Fatalf("err = %v, want a usage error", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %q, want it to contain %q", err, tc.want)
			}
			if _, statErr := os.Stat(e.configPath); statErr == nil {
				t.Error("the profiles file was written despite the error")
			}
		})
	}
}

func TestAddPasswordFromEnvironment(t *testing.T) {
	srv := newAdminServer(t, "admin", "env-pw")
	e := newTestEnv(t, false)
	e.env[config.EnvPassword] = "env-pw"

	if err := e.run("add", "p", "--url", srv.URL, "--login", "admin"); err != nil {
		t.Fatal(err)
	}
	p, _ := e.load(t).Get("p")
	if p.Password != "" {
		t.Errorf("saved password = %q, want none: MFPDEV_PASSWORD is only used for the check", p.Password)
	}
}

func TestAddInvalidValues(t *testing.T) {
	cases := map[string][]string{
		"ftp URL":       {"--url", "ftp://host", "--login", "a"},
		"URL no host":   {"--url", "http://", "--login", "a"},
		"bad timeout":   {"--url", "http://localhost:9080", "--login", "a", "--timeout", "-1"},
		"context slash": {"--url", "http://localhost:9080", "--login", "a", "--context-root", "a/b"},
	}
	for name, flags := range cases {
		t.Run(name, func(t *testing.T) {
			e := newTestEnv(t, false)
			err := e.run(append([]string{"add", "p", "--no-verify"}, flags...)...)
			var usage *cmdutil.UsageError
			if !errors.As(err, &usage) {
				t.Errorf("err = %v, want a usage error", err)
			}
		})
	}

	e := newTestEnv(t, false)
	err := e.run("add", "bad name", "--url", "http://localhost:9080", "--login", "a", "--no-verify")
	if err == nil || !strings.Contains(err.Error(), "invalid server profile name") {
		t.Errorf("err = %v, want an invalid name error", err)
	}
}

func TestAddDuplicate(t *testing.T) {
	e := newTestEnv(t, false)
	args := []string{"add", "p", "--url", "http://localhost:9080", "--login", "a", "--no-verify"}
	if err := e.run(args...); err != nil {
		t.Fatal(err)
	}
	err := e.run(args...)
	if err == nil || !strings.Contains(err.Error(), "mfpdev server edit p") {
		t.Errorf("err = %v, want a duplicate error pointing at edit", err)
	}
}

func TestAddVerifyRejectedLogin(t *testing.T) {
	srv := newAdminServer(t, "admin", "right")
	e := newTestEnv(t, false)

	err := e.run("add", "p", "--url", srv.URL, "--login", "admin", "--password", "wrong")
	var auth *cmdutil.AuthError
	if !errors.As(err, &auth) {
		t.Fatalf("err = %v, want an AuthError", err)
	}
	for _, want := range []string{"401", "--password", "--no-verify"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("err = %q, want it to contain %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Errorf("err = %q shows the password", err)
	}
	if _, statErr := os.Stat(e.configPath); statErr == nil {
		t.Error("the profile was saved although the server rejected the login")
	}
}

func TestAddVerifyUnreachable(t *testing.T) {
	e := newTestEnv(t, false)
	url := closedPortURL(t)

	err := e.run("add", "p", "--url", url, "--login", "admin", "--password", "pw")
	if err == nil {
		t.Fatal("add succeeded against a closed port")
	}
	for _, want := range []string{"cannot reach " + url, "mfpdev server start", "--no-verify"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("err = %q, want it to contain %q", err, want)
		}
	}

	if err := e.run("add", "p", "--url", url, "--login", "admin", "--password", "pw", "--no-verify"); err != nil {
		t.Errorf("add --no-verify: %v", err)
	}
}

func TestAddTTYPrompts(t *testing.T) {
	srv := newAdminServer(t, "deployer", "typed")
	e := newTestEnv(t, true,
		promptStep{"input", "Profile name", "dev"},
		promptStep{"input", "Server URL", srv.URL},
		promptStep{"input", "Login", "deployer"},
		promptStep{"password", "Password", "typed"},
		promptStep{"confirm", "Save the password", "y"},
	)

	if err := e.run("add"); err != nil {
		t.Fatal(err)
	}
	p, ok := e.load(t).Get("dev")
	if !ok {
		t.Fatal("profile dev was not saved")
	}
	if p.URL != srv.URL || p.Login != "deployer" || p.Password != "typed" {
		t.Errorf("saved profile = %+v", p)
	}
	if !strings.Contains(e.errOut.String(), "Added server profile dev") {
		t.Errorf("stderr = %q, want a confirmation on a terminal", e.errOut)
	}
}

func TestAddTTYPasswordNotSaved(t *testing.T) {
	srv := newAdminServer(t, "admin", "typed")
	e := newTestEnv(t, true,
		promptStep{"password", "Password", "typed"},
		promptStep{"confirm", "Save the password", "n"},
	)

	if err := e.run("add", "p", "--url", srv.URL, "--login", "admin"); err != nil {
		t.Fatal(err)
	}
	p, _ := e.load(t).Get("p")
	if p.Password != "" {
		t.Errorf("saved password = %q, want none", p.Password)
	}
	if srv.requests != 1 {
		t.Errorf("server got %d requests, want the check with the typed password", srv.requests)
	}
}

func TestAddTTYAsksDefault(t *testing.T) {
	e := newTestEnv(t, true,
		promptStep{"confirm", `Make "second" the default`, "y"},
	)
	base := []string{"--url", "http://localhost:9080", "--login", "a", "--password", "x", "--no-verify"}
	if err := e.run(append([]string{"add", "first"}, base...)...); err != nil {
		t.Fatal(err)
	}
	if err := e.run(append([]string{"add", "second"}, base...)...); err != nil {
		t.Fatal(err)
	}
	if d := e.load(t).Default; d != "second" {
		t.Errorf("default = %q, want second", d)
	}
}

func TestEditChangesNamedFields(t *testing.T) {
	srv := newAdminServer(t, "admin", "new")
	e := newTestEnv(t, false)
	if err := e.run("add", "p", "--url", srv.URL, "--login", "admin", "--password", "old", "--runtime", "rt", "--no-verify"); err != nil {
		t.Fatal(err)
	}

	if err := e.run("edit", "p", "--password", "new", "--timeout", "45"); err != nil {
		t.Fatal(err)
	}
	p, _ := e.load(t).Get("p")
	want := config.Profile{Name: "p", URL: srv.URL, Login: "admin", Password: "new", AdminContext: "mfpadmin", Runtime: "rt", Timeout: 45}
	if p != want {
		t.Errorf("profile = %+v, want %+v", p, want)
	}
	if srv.requests != 1 {
		t.Errorf("server got %d requests, want 1 check of the new password", srv.requests)
	}
}

func TestEditNoVerifyWithoutConnectionChange(t *testing.T) {
	e := newTestEnv(t, false)
	url := closedPortURL(t)
	if err := e.run("add", "p", "--url", url, "--login", "a", "--no-verify"); err != nil {
		t.Fatal(err)
	}
	if err := e.run("edit", "p", "--runtime", "other"); err != nil {
		t.Errorf("edit of the runtime contacted the server: %v", err)
	}
}

func TestEditForgetPasswordAndDefault(t *testing.T) {
	e := newTestEnv(t, false)
	base := []string{"--url", "http://localhost:9080", "--login", "a", "--password", "x", "--no-verify"}
	e.run(append([]string{"add", "a"}, base...)...)
	e.run(append([]string{"add", "b"}, base...)...)

	if err := e.run("edit", "b", "--forget-password", "--setdefault", "--no-verify"); err != nil {
		t.Fatal(err)
	}
	c := e.load(t)
	b, _ := c.Get("b")
	if b.Password != "" {
		t.Errorf("password = %q after --forget-password", b.Password)
	}
	if c.Default != "b" {
		t.Errorf("default = %q, want b", c.Default)
	}

	if err := e.run("edit", "b", "--setdefault=false"); err != nil {
		t.Fatal(err)
	}
	if d := e.load(t).Default; d != "" {
		t.Errorf("default = %q after --setdefault=false, want none", d)
	}
}

func TestEditErrors(t *testing.T) {
	e := newTestEnv(t, false)
	if err := e.run("edit", "missing", "--login", "x"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("edit of a missing profile: err = %v", err)
	}

	e.run("add", "p", "--url", "http://localhost:9080", "--login", "a", "--no-verify")
	err := e.run("edit", "p")
	var usage *cmdutil.UsageError
	if !errors.As(err, &usage) || !strings.Contains(err.Error(), "--url") {
		t.Errorf("edit without flags and terminal: err = %v, want a usage error naming the flags", err)
	}

	err = e.run("edit", "p", "--password", "x", "--forget-password")
	if !errors.As(err, &usage) {
		t.Errorf("--password with --forget-password: err = %v, want a usage error", err)
	}

	err = e.run("edit", "p", "--login", "b")
	if err == nil || !strings.Contains(err.Error(), "MFPDEV_PASSWORD") {
		t.Errorf("edit needing a password without a terminal: err = %v, want one naming MFPDEV_PASSWORD", err)
	}
}

func TestEditTTYPrompts(t *testing.T) {
	srv := newAdminServer(t, "newlogin", "pw")
	e := newTestEnv(t, true,
		promptStep{"input", "Server URL", ""},
		promptStep{"input", "Login", "newlogin"},
		promptStep{"password", "New password", ""},
	)
	e.env[config.EnvPassword] = ""
	if err := e.run("add", "p", "--url", srv.URL, "--login", "old", "--password", "pw", "--no-verify"); err != nil {
		t.Fatal(err)
	}

	if err := e.run("edit", "p"); err != nil {
		t.Fatal(err)
	}
	p, _ := e.load(t).Get("p")
	if p.Login != "newlogin" || p.URL != srv.URL || p.Password != "pw" {
		t.Errorf("profile = %+v, want the login changed and the rest kept", p)
	}
}

func TestRemove(t *testing.T) {
	e := newTestEnv(t, true)
	e.run("add", "p", "--url", "http://localhost:9080", "--login", "a", "--password", "x", "--no-verify")

	if err := e.run("remove", "p"); err != nil {
		t.Fatal(err)
	}
	c := e.load(t)
	if len(c.Profiles) != 0 || c.Default != "" {
		t.Errorf("config after remove = %+v, want empty", c)
	}
	if !strings.Contains(e.errOut.String(), "Removed server profile p") {
		t.Errorf("stderr = %q", e.errOut)
	}
	if err := e.run("remove", "p"); err == nil {
		t.Error("removing a missing profile succeeded")
	}
}

func TestListJSON(t *testing.T) {
	e := newTestEnv(t, false)
	e.run("add", "a", "--url", "http://localhost:9080", "--login", "admin", "--password", "s3cret", "--no-verify")
	e.run("add", "b", "--url", "https://mfp.example.com", "--login", "deployer", "--no-verify", "--timeout", "60")

	if err := e.run("list", "--json"); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(e.out.String(), "s3cret") {
		t.Fatalf("list --json shows the password: %s", e.out)
	}
	var views []map[string]any
	if err := json.Unmarshal(e.out.Bytes(), &views); err != nil {
		t.Fatalf("list --json output is not JSON: %v\n%s", err, e.out)
	}
	if len(views) != 2 {
		t.Fatalf("list --json has %d entries, want 2", len(views))
	}
	want := map[string]any{"name": "b", "url": "https://mfp.example.com", "login": "deployer", "passwordSaved": false,
		"adminContext": "mfpadmin", "runtime": "mfp", "timeout": float64(60), "default": false, "configured": true}
	for key, value := range want {
		if views[1][key] != value {
			t.Errorf("entry b field %s = %v, want %v", key, views[1][key], value)
		}
	}
	if views[0]["passwordSaved"] != true || views[0]["default"] != true {
		t.Errorf("entry a = %v, want passwordSaved and default true", views[0])
	}
}

func TestListTable(t *testing.T) {
	e := newTestEnv(t, true)
	e.run("add", "a", "--url", "http://localhost:9080", "--login", "admin", "--password", "s3cret", "--no-verify")

	if err := e.run("list"); err != nil {
		t.Fatal(err)
	}
	out := e.out.String()
	for _, want := range []string{"NAME", "URL", "a", "http://localhost:9080", "saved", "*"} {
		if !strings.Contains(out, want) {
			t.Errorf("table %q lacks %q", out, want)
		}
	}
	if strings.Contains(out, "s3cret") {
		t.Errorf("table shows the password: %q", out)
	}
}

func TestListPlain(t *testing.T) {
	e := newTestEnv(t, false)
	e.run("add", "a", "--url", "http://localhost:9080", "--login", "admin", "--no-verify")

	if err := e.run("list"); err != nil {
		t.Fatal(err)
	}
	if got, want := e.out.String(), "a\thttp://localhost:9080\tadmin\tmfp\tdefault\n"; got != want {
		t.Errorf("plain list = %q, want %q", got, want)
	}
}

func TestListEmpty(t *testing.T) {
	e := newTestEnv(t, false)
	if err := e.run("list"); err != nil {
		t.Fatal(err)
	}
	if e.out.Len() != 0 {
		t.Errorf("stdout = %q, want nothing", e.out)
	}
	if !strings.Contains(e.errOut.String(), "http://localhost:9080") {
		t.Errorf("stderr = %q, want the local server named", e.errOut)
	}

	if err := e.run("list", "--json"); err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(e.out.String()) != "[]" {
		t.Errorf("list --json with no profiles = %q, want []", e.out)
	}
}

func TestListCorruptFile(t *testing.T) {
	e := newTestEnv(t, false)
	os.MkdirAll(filepath.Dir(e.configPath), 0o700)
	os.WriteFile(e.configPath, []byte("{oops"), 0o600)

	err := e.run("list")
	if err == nil || !strings.Contains(err.Error(), e.configPath) {
		t.Errorf("err = %v, want one naming %s", err, e.configPath)
	}
}

func TestInfo(t *testing.T) {
	e := newTestEnv(t, false)
	e.run("add", "a", "--url", "http://localhost:9080", "--login", "admin", "--password", "s3cret", "--no-verify")

	if err := e.run("info", "a"); err != nil {
		t.Fatal(err)
	}
	out := e.out.String()
	if strings.Contains(out, "s3cret") {
		t.Fatalf("info shows the password: %q", out)
	}
	for _, want := range []string{"http://localhost:9080", "admin", "saved", "mfpadmin", "30s", e.configPath} {
		if !strings.Contains(out, want) {
			t.Errorf("info %q lacks %q", out, want)
		}
	}

	e.out.Reset()
	if err := e.run("info", "a", "--json"); err != nil {
		t.Fatal(err)
	}
	var view map[string]any
	if err := json.Unmarshal(e.out.Bytes(), &view); err != nil {
		t.Fatal(err)
	}
	if view["passwordSaved"] != true || view["name"] != "a" {
		t.Errorf("info --json = %v", view)
	}
	if _, ok := view["password"]; ok {
		t.Errorf("info --json has a password field: %v", view)
	}
}

func TestInfoLocalDefault(t *testing.T) {
	e := newTestEnv(t, false)
	if err := e.run("info", "--json"); err != nil {
		t.Fatal(err)
	}
	var view map[string]any
	if err := json.Unmarshal(e.out.Bytes(), &view); err != nil {
		t.Fatal(err)
	}
	if view["url"] != "http://localhost:9080" || view["login"] != "admin" || view["configured"] != false {
		t.Errorf("info without profiles = %v, want the built-in local server", view)
	}

	if err := e.run("info", "nope"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("info of a missing profile: err = %v", err)
	}
}

func TestServerSubcommands(t *testing.T) {
	e := newTestEnv(t, false)
	cmd := NewCmdServer(e.f)
	for _, name := range []string{"add", "edit", "remove", "list", "info", "start", "hash-password"} {
		if sub, _, err := cmd.Find([]string{name}); err != nil || sub.Name() != name {
			t.Errorf("server has no %s subcommand", name)
		}
	}
}

func TestAddVerifiesRealServer(t *testing.T) {
	user, err := updateserver.NewUser("deployer", updateserver.RoleDeployer, "right")
	if err != nil {
		t.Fatal(err)
	}
	s, err := updateserver.New(updateserver.Config{DataDir: t.TempDir(), Users: []updateserver.User{user}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()

	e := newTestEnv(t, false)
	err = e.run("add", "real", "--url", srv.URL, "--login", "deployer", "--password", "wrong")
	var auth *cmdutil.AuthError
	if !errors.As(err, &auth) {
		t.Fatalf("add with a wrong password: err = %v, want an AuthError", err)
	}

	if err := e.run("add", "real", "--url", srv.URL, "--login", "deployer", "--password", "right"); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.load(t).Get("real"); !ok {
		t.Error("profile real was not saved")
	}
}

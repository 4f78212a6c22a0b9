package server

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/mfpdev/mfpdev/internal/cli/cmdutil"
	"github.com/mfpdev/mfpdev/internal/cli/iostreams"
	"github.com/mfpdev/mfpdev/pkg/bundle"
	"github.com/mfpdev/mfpdev/pkg/signing"
)

func testFactory(env map[string]string) (*cmdutil.Factory, *bytes.Buffer, *bytes.Buffer) {
	streams, _, out, errOut := iostreams.Test()
	return &cmdutil.Factory{
		IOStreams: streams,
		Getenv:    func(k string) string { return env[k] },
		Version:   "test",
	}, out, errOut
}

// parseStart runs "server start args" up to RunE and returns the options
// startRun would get.
func parseStart(t *testing.T, env map[string]string, args ...string) (*StartOptions, error) {
	t.Helper()
	f, _, _ := testFactory(env)
	var got *StartOptions
	cmd := NewCmdStart(f, func(o *StartOptions) error { got = o; return nil })
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	err := cmd.Execute()
	return got, err
}

func TestStartFlagDefaults(t *testing.T) {
	opts, err := parseStart(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	if opts.Addr != "127.0.0.1:9080" {
		t.Errorf("Addr = %q", opts.Addr)
	}
	if !slices.Equal(opts.Runtimes, []string{"mfp"}) {
		t.Errorf("Runtimes = %v", opts.Runtimes)
	}
	if opts.AdminContext != "mfpadmin" {
		t.Errorf("AdminContext = %q", opts.AdminContext)
	}
	if opts.MaxUploadSize != 512<<20 {
		t.Errorf("MaxUploadSize = %d, want %d", opts.MaxUploadSize, 512<<20)
	}
	if opts.LogFormat != "json" {
		t.Errorf("LogFormat without a terminal = %q, want json", opts.LogFormat)
	}
	if opts.AdminUser != "" || opts.AdminPassword != "" {
		t.Errorf("admin credentials without flags: %q / %q", opts.AdminUser, opts.AdminPassword)
	}
}

func TestStartFlagValues(t *testing.T) {
	opts, err := parseStart(t, map[string]string{"MFPDEV_ADMIN_PASSWORD": "from-env"},
		"--runtime", "a,b", "--runtime", "c", "--max-upload-size", "1GB", "--max-uncompressed-size", "2GiB",
		"--log-format", "text", "--log-level", "debug", "--download-base-url", "https://cdn.example.com")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(opts.Runtimes, []string{"a", "b", "c"}) {
		t.Errorf("Runtimes = %v", opts.Runtimes)
	}
	if opts.MaxUploadSize != 1_000_000_000 {
		t.Errorf("MaxUploadSize = %d", opts.MaxUploadSize)
	}
	if opts.MaxUncompressed != 2<<30 {
		t.Errorf("MaxUncompressed = %d", opts.MaxUncompressed)
	}
	if opts.AdminUser != "admin" || opts.AdminPassword != "from-env" {
		t.Errorf("admin from the environment: %q / %q", opts.AdminUser, opts.AdminPassword)
	}
	if opts.LogFormat != "text" || opts.LogLevel.String() != "DEBUG" {
		t.Errorf("log: %s %s", opts.LogFormat, opts.LogLevel)
	}
}

func TestStartFlagErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--max-upload-size", "lots"}, "--max-upload-size"},
		{[]string{"--max-upload-size", "0"}, "--max-upload-size"},
		{[]string{"--log-format", "xml"}, "--log-format"},
		{[]string{"--log-level", "loud"}, "--log-level"},
		{[]string{"--admin-user", "ops"}, "--admin-password"},
		{[]string{"--download-base-url", "cdn.example.com"}, "--download-base-url"},
		{[]string{"--addr", "9080"}, "--addr"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, err := parseStart(t, nil, tt.args...)
			var usage *cmdutil.UsageError
			if !errors.As(err, &usage) {
				t.Fatalf("err = %v, want a usage error", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to name %s", err, tt.want)
			}
		})
	}
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:9080": true,
		"[::1]:9080":     true,
		"localhost:0":    true,
		":9080":          false,
		"0.0.0.0:9080":   false,
		"192.0.2.1:9080": false,
	} {
		if got := isLoopback(addr); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}

func TestStartRejectsOpenAddressWithoutCredentials(t *testing.T) {
	f, _, _ := testFactory(nil)
	cmd := NewCmdStart(f, nil)
	cmd.SetArgs([]string{"--addr", "0.0.0.0:0", "--data", t.TempDir()})
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	err := cmd.Execute()
	if err == nil || !strings.Contains(err.Error(), "no admin credentials") {
		t.Errorf("err = %v, want a refusal without credentials", err)
	}
}

// runningStart is "server start" running in a goroutine.
type runningStart struct {
	URL string
	// wait returns what the command returned, once it has ended.
	wait func() error
	stop context.CancelFunc
	mu   sync.Mutex
	logs strings.Builder
}

func (r *runningStart) Logs() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.logs.String()
}

// runStart starts "server start args" and waits for its "serving on" line.
func runStart(t *testing.T, args ...string) *runningStart {
	t.Helper()
	pr, pw := io.Pipe()
	f, _, _ := testFactory(nil)
	f.IOStreams.ErrOut = pw

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	r := &runningStart{stop: cancel, wait: sync.OnceValue(func() error { return <-done })}
	cmd := NewCmdStart(f, nil)
	cmd.SetArgs(args)
	go func() {
		err := cmd.ExecuteContext(ctx)
		pw.Close()
		done <- err
	}()

	ready := make(chan string, 1)
	go func() {
		scanner := bufio.NewScanner(pr)
		for scanner.Scan() {
			line := scanner.Text()
			r.mu.Lock()
			r.logs.WriteString(line + "\n")
			r.mu.Unlock()
			if rest, ok := strings.CutPrefix(line, "mfpdev: serving on "); ok {
				ready <- strings.Fields(rest)[0]
			}
		}
		close(ready)
	}()

	url, ok := <-ready
	if !ok {
		t.Fatalf("server start ended without serving: %v\n%s", r.wait(), r.Logs())
	}
	r.URL = url
	t.Cleanup(func() {
		cancel()
		r.wait()
	})
	return r
}

func TestStartServesAndStops(t *testing.T) {
	dataDir := t.TempDir()
	r := runStart(t, "--addr", "127.0.0.1:0", "--data", dataDir, "--log-format", "json")
	if strings.HasSuffix(r.URL, ":0") {
		t.Errorf("printed URL %s has port 0, want the real port", r.URL)
	}

	resp, err := http.Get(r.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("healthz: status %d", resp.StatusCode)
	}

	req, _ := http.NewRequest(http.MethodGet, r.URL+"/mfpadmin/management-apis/2.0/runtimes", nil)
	req.SetBasicAuth("admin", "admin")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("runtimes as the default admin: status %d", resp.StatusCode)
	}

	r.stop()
	if err := r.wait(); err != nil {
		t.Errorf("start returned %v after cancel, want nil", err)
	}
	logs := r.Logs()
	for _, want := range []string{"created user admin with password admin", `"msg":"server started"`, `"msg":"server stopped"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s:\n%s", want, logs)
		}
	}
	if _, err := os.Stat(filepath.Join(dataDir, "metadata.db")); err != nil {
		t.Errorf("database not in --data: %v", err)
	}
}

func TestStartUsersFile(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("deploy-pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	users := filepath.Join(t.TempDir(), "users.txt")
	content := "# deployers\n\nci:deployer:" + string(hash) + "\n"
	if err := os.WriteFile(users, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runStart(t, "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--users", users)

	for _, tt := range []struct {
		user, password string
		want           int
	}{
		{"ci", "deploy-pw", http.StatusOK},
		{"admin", "admin", http.StatusUnauthorized},
	} {
		req, _ := http.NewRequest(http.MethodGet, r.URL+"/mfpadmin/management-apis/2.0/runtimes", nil)
		req.SetBasicAuth(tt.user, tt.password)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s: status %d, want %d", tt.user, resp.StatusCode, tt.want)
		}
	}
}

func TestHashPasswordFromStdin(t *testing.T) {
	f, out, _ := testFactory(nil)
	f.IOStreams.In = strings.NewReader("s3cret\n")
	cmd := NewCmdHashPassword(f, nil)
	cmd.SetArgs(nil)
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	hash := strings.TrimSpace(out.String())
	if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte("s3cret")); err != nil {
		t.Errorf("printed hash %q does not match the password: %v", hash, err)
	}
}

func TestHashPasswordAsksTwice(t *testing.T) {
	for _, tt := range []struct {
		name, again string
		wantErr     string
	}{
		{"same", "s3cret", ""},
		{"typo", "s3crte", "the two passwords differ"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, out, _ := testFactory(nil)
			f.IOStreams.SetTTY(true)
			prompter := &scriptedPrompter{t: t, steps: []promptStep{
				{kind: "password", message: "Password:", answer: "s3cret"},
				{kind: "password", message: "Password again:", answer: tt.again},
			}}
			err := hashPasswordRun(&HashPasswordOptions{IO: f.IOStreams, Prompter: prompter})
			prompter.assertDone()

			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				if out.Len() != 0 {
					t.Errorf("printed %q despite the error", out.String())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			hash := strings.TrimSpace(out.String())
			if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte("s3cret")); err != nil {
				t.Errorf("printed hash %q does not match the password: %v", hash, err)
			}
		})
	}
}

func TestLoadTrustedKeys(t *testing.T) {
	key, err := signing.Generate(2048)
	if err != nil {
		t.Fatal(err)
	}
	b64, err := signing.PublicKeyBase64(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pemBytes, err := signing.EncodePublicKeyPEM(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "public.pem")
	if err := os.WriteFile(file, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}

	keys, err := loadTrustedKeys([]string{b64, file})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 {
		t.Fatalf("loaded %d keys, want 2", len(keys))
	}
	for i, k := range keys {
		if !k.Equal(&key.PublicKey) {
			t.Errorf("key %d differs from the generated key", i)
		}
	}

	_, err = loadTrustedKeys([]string{"not-a-key"})
	var usage *cmdutil.UsageError
	if !errors.As(err, &usage) || !strings.Contains(err.Error(), "--trusted-key") {
		t.Errorf("invalid key: err = %v, want a usage error naming --trusted-key", err)
	}
}

func TestDefaultMaxUncompressedAgrees(t *testing.T) {
	n, err := parseSize("--max-uncompressed-size", defaultMaxUncompressed)
	if err != nil {
		t.Fatal(err)
	}
	if n != bundle.DefaultMaxUncompressed {
		t.Errorf("default %q is %d bytes, want bundle.DefaultMaxUncompressed %d", defaultMaxUncompressed, n, bundle.DefaultMaxUncompressed)
	}
}

func TestHashPasswordTooLong(t *testing.T) {
	f, out, _ := testFactory(nil)
	f.IOStreams.In = strings.NewReader(strings.Repeat("x", 73) + "\n")
	err := hashPasswordRun(&HashPasswordOptions{IO: f.IOStreams})
	var usage *cmdutil.UsageError
	if !errors.As(err, &usage) {
		t.Fatalf("err = %v, want a usage error", err)
	}
	if !strings.Contains(err.Error(), "73 bytes long, more than the 72 bytes bcrypt uses") {
		t.Errorf("err %q does not give the length and the limit", err)
	}
	if out.Len() != 0 {
		t.Errorf("printed %q despite the error", out.String())
	}
}

func TestStartAdminPasswordTrimsLineBreak(t *testing.T) {
	opts, err := parseStart(t, map[string]string{adminPasswordEnv: "s3cret\n"})
	if err != nil {
		t.Fatal(err)
	}
	if opts.AdminPassword != "s3cret" {
		t.Errorf("admin password %q, want %q", opts.AdminPassword, "s3cret")
	}
}

package keys

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/mfpdev/mfpdev/internal/cli/cmdutil"
	"github.com/mfpdev/mfpdev/internal/cli/iostreams"
	"github.com/mfpdev/mfpdev/pkg/signing"
)

// scriptedPrompter answers password prompts with a fixed value, as a
// user typing at a terminal would, and records the prompts.
type scriptedPrompter struct {
	password string
	prompts  []string
}

func (p *scriptedPrompter) Input(message, defaultValue string) (string, error) {
	return "", errors.New("unexpected Input prompt: " + message)
}

func (p *scriptedPrompter) Password(message string) (string, error) {
	p.prompts = append(p.prompts, message)
	return p.password, nil
}

func (p *scriptedPrompter) Confirm(message string, defaultValue bool) (bool, error) {
	return false, errors.New("unexpected Confirm prompt: " + message)
}

type testEnv struct {
	dir      string
	env      map[string]string
	prompter *scriptedPrompter
	ios      *iostreams.IOStreams
	stdout   *bytes.Buffer
	stderr   *bytes.Buffer
	factory  *cmdutil.Factory
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	ios, _, stdout, stderr := iostreams.Test()
	e := &testEnv{
		dir:      t.TempDir(),
		env:      map[string]string{},
		prompter: &scriptedPrompter{},
		ios:      ios,
		stdout:   stdout,
		stderr:   stderr,
	}
	e.factory = &cmdutil.Factory{
		IOStreams: ios,
		Prompter:  e.prompter,
		Getenv:    func(name string) string { return e.env[name] },
		WorkDir:   func() (string, error) { return e.dir, nil },
	}
	return e
}

// run executes "mfpdev keys ARGS..." under a bare root command, as the
// real root runs it, and returns its error.
func (e *testEnv) run(args ...string) error {
	root := &cobra.Command{Use: "mfpdev", SilenceUsage: true, SilenceErrors: true}
	root.AddCommand(NewCmdKeys(e.factory))
	root.SetArgs(append([]string{"keys"}, args...))
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	return root.Execute()
}

func (e *testEnv) path(name string) string { return filepath.Join(e.dir, name) }

func isUsageError(err error) bool {
	var usage *cmdutil.UsageError
	return errors.As(err, &usage)
}

func TestGenerateDefaults(t *testing.T) {
	e := newTestEnv(t)
	if err := e.run("generate"); err != nil {
		t.Fatalf("keys generate: %v", err)
	}

	keyPath := e.path(defaultKeyFile)
	info, err := os.Stat(keyPath)
	if err != nil {
		t.Fatalf("private key not written: %v", err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("private key mode = %v, want 0600", info.Mode().Perm())
	}

	data, err := os.ReadFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("-----BEGIN PRIVATE KEY-----\n")) {
		t.Errorf("private key is not PKCS #8 PEM: %q", data[:40])
	}
	key, err := signing.LoadPrivateKey(keyPath, "")
	if err != nil {
		t.Fatalf("LoadPrivateKey: %v", err)
	}
	if key.N.BitLen() != 2048 {
		t.Errorf("key size = %d bits, want 2048", key.N.BitLen())
	}

	want, err := signing.PublicKeyBase64(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.stdout.String(); got != want+"\n" {
		t.Errorf("stdout = %q, want the base64 public key and a newline", got)
	}
	if hint := "mfpdev app config direct_update_authenticity_public_key " + want; !strings.Contains(e.stderr.String(), hint) {
		t.Errorf("stderr lacks the config hint %q:\n%s", hint, e.stderr.String())
	}
	if !strings.Contains(e.stderr.String(), keyPath) {
		t.Errorf("stderr does not name the key file:\n%s", e.stderr.String())
	}
}

func TestGenerateWarnsInsideProject(t *testing.T) {
	e := newTestEnv(t)
	if err := os.WriteFile(e.path("config.xml"), []byte("<widget/>"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(e.path("www"), 0o755); err != nil {
		t.Fatal(err)
	}

	for _, out := range []string{defaultKeyFile, "www/k.pem"} {
		e.stderr.Reset()
		if err := e.run("generate", "--out", out); err != nil {
			t.Fatalf("keys generate --out %s: %v", out, err)
		}

		stderr := e.stderr.String()
		warning := "warning: the private key " + e.path(out) + " is inside the Cordova project " + e.dir
		if !strings.Contains(stderr, warning) {
			t.Errorf("--out %s: stderr lacks %q:\n%s", out, warning, stderr)
		}
		if !strings.Contains(stderr, "version control") {
			t.Errorf("--out %s: warning does not say to keep the key out of version control:\n%s", out, stderr)
		}
		if !strings.Contains(stderr, "--out") {
			t.Errorf("--out %s: warning does not name --out:\n%s", out, stderr)
		}
	}
}

func TestGenerateNoWarningOutsideProject(t *testing.T) {
	e := newTestEnv(t)
	if err := e.run("generate"); err != nil {
		t.Fatalf("keys generate: %v", err)
	}
	if strings.Contains(e.stderr.String(), "warning") {
		t.Errorf("stderr has a warning outside a Cordova project:\n%s", e.stderr.String())
	}
}

func TestGenerateCreatesFolder(t *testing.T) {
	e := newTestEnv(t)
	if err := e.run("generate", "--out", "keys/app/k.pem"); err != nil {
		t.Fatalf("keys generate: %v", err)
	}
	if _, err := os.Stat(e.path("keys/app/k.pem")); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(e.path("keys/app"))
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); runtime.GOOS != "windows" && perm != 0o700 {
		t.Errorf("new folder mode %v, want 0700", perm)
	}
}

func TestGenerateJSON(t *testing.T) {
	e := newTestEnv(t)
	if err := e.run("generate", "--bits", "3072", "--out", "sub/../k.pem", "--public-out", "k.pub.pem", "--json"); err != nil {
		t.Fatalf("keys generate: %v", err)
	}

	var got struct {
		PrivateKey    string `json:"privateKey"`
		PublicKey     string `json:"publicKey"`
		Bits          int    `json:"bits"`
		PublicKeyFile string `json:"publicKeyFile"`
	}
	if err := json.Unmarshal(e.stdout.Bytes(), &got); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, e.stdout.String())
	}
	if got.PrivateKey != e.path("k.pem") {
		t.Errorf("privateKey = %q, want %q", got.PrivateKey, e.path("k.pem"))
	}
	if got.Bits != 3072 {
		t.Errorf("bits = %d, want 3072", got.Bits)
	}
	if got.PublicKeyFile != e.path("k.pub.pem") {
		t.Errorf("publicKeyFile = %q, want %q", got.PublicKeyFile, e.path("k.pub.pem"))
	}

	pub, err := signing.ParsePublicKeyBase64(got.PublicKey)
	if err != nil {
		t.Fatalf("publicKey: %v", err)
	}
	key, err := signing.LoadPrivateKey(got.PrivateKey, "")
	if err != nil {
		t.Fatal(err)
	}
	if !key.PublicKey.Equal(pub) {
		t.Error("publicKey does not belong to the private key")
	}
	pemPub, err := signing.LoadPublicKey(got.PublicKeyFile, "")
	if err != nil {
		t.Fatalf("public key file: %v", err)
	}
	if !pemPub.Equal(pub) {
		t.Error("the public key file differs from publicKey")
	}
}

func TestGenerateRejectsExisting(t *testing.T) {
	e := newTestEnv(t)
	keyPath := e.path("existing.pem")
	if err := os.WriteFile(keyPath, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}

	err := e.run("generate", "--out", "existing.pem")
	if err == nil {
		t.Fatal("overwrote an existing key without --force")
	}
	if !strings.Contains(err.Error(), keyPath) || !strings.Contains(err.Error(), "--force") {
		t.Errorf("error = %q, want it to name the file and --force", err)
	}
	if data, _ := os.ReadFile(keyPath); string(data) != "keep me" {
		t.Errorf("existing file changed to %q", data)
	}
	if e.stdout.Len() != 0 {
		t.Errorf("stdout = %q, want nothing", e.stdout.String())
	}
}

func TestGenerateRejectsExistingPublic(t *testing.T) {
	e := newTestEnv(t)
	if err := os.WriteFile(e.path("pub.pem"), []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}

	err := e.run("generate", "--out", "new.pem", "--public-out", "pub.pem")
	if err == nil || !strings.Contains(err.Error(), e.path("pub.pem")) {
		t.Fatalf("error = %v, want it to name pub.pem", err)
	}
	if _, statErr := os.Stat(e.path("new.pem")); !errors.Is(statErr, os.ErrNotExist) {
		t.Errorf("wrote the private key although the public key file exists: %v", statErr)
	}
}

func TestGenerateForceOverwrites(t *testing.T) {
	e := newTestEnv(t)
	keyPath := e.path("k.pem")
	if err := os.WriteFile(keyPath, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}

	if err := e.run("generate", "--out", keyPath, "--force"); err != nil {
		t.Fatalf("keys generate --force: %v", err)
	}
	if _, err := signing.LoadPrivateKey(keyPath, ""); err != nil {
		t.Errorf("overwritten key: %v", err)
	}
	info, err := os.Stat(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("mode after --force = %v, want 0600", info.Mode().Perm())
	}

	entries, err := os.ReadDir(e.dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("folder has %d entries, want only k.pem (no temporary file left)", len(entries))
	}
}

func TestGenerateFlagErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"generate", "--bits", "4096"}, "invalid --bits 4096: use 2048 or 3072"},
		{[]string{"generate", "--bits", "1024"}, "invalid --bits 1024"},
		{[]string{"generate", "--out", ""}, "--out must not be empty"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			e := newTestEnv(t)
			err := e.run(tt.args...)
			if !isUsageError(err) {
				t.Fatalf("error = %v, want a usage error", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to contain %q", err, tt.want)
			}
		})
	}

	e := newTestEnv(t)
	err := e.run("generate", "--out", "same.pem", "--public-out", "same.pem")
	if !isUsageError(err) || !strings.Contains(err.Error(), "two different files") {
		t.Errorf("same --out and --public-out: error = %v", err)
	}
}

func TestGenerateFlagParsing(t *testing.T) {
	e := newTestEnv(t)
	var got *GenerateOptions
	cmd := NewCmdGenerate(e.factory, func(o *GenerateOptions) error {
		got = o
		return nil
	})
	runCommand(t, cmd, "--bits", "3072", "-o", "a.pem", "--public-out", "b.pem", "--json", "--force")

	if got == nil {
		t.Fatal("runF not called")
	}
	if got.Bits != 3072 || got.Out != "a.pem" || got.PublicOut != "b.pem" || !got.JSON || !got.Force {
		t.Errorf("options = %+v", *got)
	}
}

func runCommand(t *testing.T, cmd *cobra.Command, args ...string) {
	t.Helper()
	cmd.SetArgs(args)
	cmd.SilenceUsage = true
	cmd.SilenceErrors = true
	if err := cmd.Execute(); err != nil {
		t.Fatalf("%s %v: %v", cmd.Name(), args, err)
	}
}

// writeKeystore writes a PKCS #12 keystore with a new 2048-bit key and a
// self-signed certificate, and returns the key.
func writeKeystore(t *testing.T, path, password string) *rsa.PrivateKey {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	template := &x509.Certificate{SerialNumber: bigOne(), BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	data, err := pkcs12.Modern.Encode(key, cert, nil, password)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return key
}

func TestPublicFromPrivateKey(t *testing.T) {
	e := newTestEnv(t)
	if err := e.run("generate", "--out", "k.pem"); err != nil {
		t.Fatal(err)
	}
	generated := e.stdout.String()
	e.stdout.Reset()
	e.stderr.Reset()

	if err := e.run("public", "k.pem"); err != nil {
		t.Fatalf("keys public: %v", err)
	}
	if e.stdout.String() != generated {
		t.Errorf("stdout = %q, want the value keys generate printed %q", e.stdout.String(), generated)
	}
	if e.stderr.Len() != 0 {
		t.Errorf("stderr = %q, want nothing when stderr is not a terminal", e.stderr.String())
	}
}

func TestPublicKeystorePassword(t *testing.T) {
	const password = "Keystore-Pass-123"

	tests := []struct {
		name    string
		args    []string
		env     string
		tty     bool
		prompt  string
		wantErr []string
		prompts int
	}{
		{name: "flag", args: []string{"--keystore-password", password}},
		{name: "environment", env: password},
		{name: "flag over environment", args: []string{"--keystore-password", password}, env: "wrong"},
		{name: "prompt on a terminal", tty: true, prompt: password, prompts: 1},
		{name: "no terminal", wantErr: []string{"ks.p12", "--keystore-password", keystorePasswordEnv}},
		{name: "wrong flag", args: []string{"--keystore-password", "nope-wrong"}, tty: true, wantErr: []string{"does not open with the given password"}},
		{name: "wrong prompt", tty: true, prompt: "nope-wrong", prompts: 1, wantErr: []string{"ks.p12", "does not open"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t)
			key := writeKeystore(t, e.path("ks.p12"), password)
			e.ios.SetTTY(tt.tty)
			e.prompter.password = tt.prompt
			if tt.env != "" {
				e.env[keystorePasswordEnv] = tt.env
			}

			err := e.run(append([]string{"public", "ks.p12"}, tt.args...)...)

			if len(e.prompter.prompts) != tt.prompts {
				t.Errorf("prompted %d times, want %d: %q", len(e.prompter.prompts), tt.prompts, e.prompter.prompts)
			}
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatal("succeeded, want an error")
				}
				for _, s := range tt.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error = %q, want it to contain %q", err, s)
					}
				}
				if strings.Contains(err.Error(), password) || strings.Contains(err.Error(), "nope-wrong") {
					t.Errorf("error contains a password: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("keys public: %v", err)
			}

			want, err := signing.PublicKeyBase64(&key.PublicKey)
			if err != nil {
				t.Fatal(err)
			}
			if e.stdout.String() != want+"\n" {
				t.Errorf("stdout = %q, want %q", e.stdout.String(), want+"\n")
			}
			if strings.Contains(e.stdout.String()+e.stderr.String(), password) {
				t.Error("the password appears in the output")
			}
		})
	}
}

func TestPublicJSON(t *testing.T) {
	e := newTestEnv(t)
	key := writeKeystore(t, e.path("ks.p12"), "pw")
	e.env[keystorePasswordEnv] = "pw"

	if err := e.run("public", e.path("ks.p12"), "--json"); err != nil {
		t.Fatalf("keys public --json: %v", err)
	}

	var got map[string]any
	if err := json.Unmarshal(e.stdout.Bytes(), &got); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, e.stdout.String())
	}
	want, err := signing.PublicKeyBase64(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if got["publicKey"] != want {
		t.Errorf("publicKey = %v, want %s", got["publicKey"], want)
	}
	if got["bits"] != float64(2048) {
		t.Errorf("bits = %v, want 2048", got["bits"])
	}
	if got["file"] != e.path("ks.p12") {
		t.Errorf("file = %v, want %s", got["file"], e.path("ks.p12"))
	}
}

func TestPublicTerminalHint(t *testing.T) {
	e := newTestEnv(t)
	if err := e.run("generate", "--out", "k.pem"); err != nil {
		t.Fatal(err)
	}
	e.stdout.Reset()
	e.stderr.Reset()
	e.ios.SetTTY(true)

	if err := e.run("public", "k.pem"); err != nil {
		t.Fatal(err)
	}
	value := strings.TrimSpace(e.stdout.String())
	if !strings.Contains(e.stderr.String(), configHint(value)) {
		t.Errorf("stderr lacks the config hint on a terminal:\n%s", e.stderr.String())
	}
}

func TestPublicErrors(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		want  string
		usage bool
	}{
		{"no file", []string{"public"}, "takes one FILE, got 0 arguments", true},
		{"two files", []string{"public", "a", "b"}, "got 2 arguments", true},
		{"missing file", []string{"public", "missing.pem"}, "missing.pem", false},
		{"not a key", []string{"public", "notes.txt"}, "unrecognized format", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t)
			if err := os.WriteFile(e.path("notes.txt"), []byte("hello\n"), 0o644); err != nil {
				t.Fatal(err)
			}

			err := e.run(tt.args...)
			if err == nil {
				t.Fatal("succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to contain %q", err, tt.want)
			}
			if isUsageError(err) != tt.usage {
				t.Errorf("usage error = %v, want %v", isUsageError(err), tt.usage)
			}
			if e.stdout.Len() != 0 {
				t.Errorf("stdout = %q, want nothing", e.stdout.String())
			}
		})
	}
}

func TestKeysHelp(t *testing.T) {
	e := newTestEnv(t)
	for _, args := range [][]string{{"--help"}, {"generate", "--help"}, {"public", "--help"}} {
		e.stdout.Reset()
		if err := e.run(args...); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		help := e.stdout.String()
		if !strings.Contains(help, "Exit status:") {
			t.Errorf("%v: help lacks the exit status section", args)
		}
		if !strings.Contains(help, "Examples:") {
			t.Errorf("%v: help lacks examples", args)
		}
		// An example without --out would teach writing the private key
		// into the project the command runs in.
		_, examples, _ := strings.Cut(help, "Examples:")
		for _, next := range []string{"\nAvailable Commands:", "\nFlags:"} {
			examples, _, _ = strings.Cut(examples, next)
		}
		for _, line := range strings.Split(examples, "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "mfpdev keys generate") && !strings.Contains(line, "--out") {
				t.Errorf("%v: example %q writes the key into the current folder", args, strings.TrimSpace(line))
			}
		}
	}
}

func bigOne() *big.Int { return big.NewInt(1) }

func TestKeysUnknownSubcommand(t *testing.T) {
	e := newTestEnv(t)
	err := e.run("genrate")
	if !isUsageError(err) {
		t.Fatalf("error = %v, want a usage error", err)
	}
	if !strings.Contains(err.Error(), `unknown command "genrate"`) {
		t.Errorf("error = %q, want it to name the unknown command", err)
	}

	e.stdout.Reset()
	if err := e.run(); err != nil {
		t.Fatalf("keys without arguments: %v", err)
	}
	if !strings.Contains(e.stdout.String(), "generate") {
		t.Errorf("keys without arguments printed no help:\n%s", e.stdout.String())
	}
}

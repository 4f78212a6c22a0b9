package adminclient_test

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mfpdev/mfpdev/internal/server"
	"github.com/mfpdev/mfpdev/pkg/adminclient"
	"github.com/mfpdev/mfpdev/pkg/bundle"
	"github.com/mfpdev/mfpdev/pkg/webres"
)

// These tests run the client against the real update server on 127.0.0.1.

var realApp = adminclient.App{ID: "com.example.app", Platform: "android", Version: "1.0.0"}

func startRealServer(t *testing.T, maxUpload int64) *httptest.Server {
	t.Helper()
	var users []server.User
	for _, u := range []struct {
		name string
		role server.Role
	}{{"admin", server.RoleAdmin}, {"deployer", server.RoleDeployer}, {"monitor", server.RoleMonitor}} {
		user, err := server.NewUser(u.name, u.role, u.name+"-pw")
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, user)
	}

	s, err := server.New(server.Config{DataDir: t.TempDir(), Users: users, MaxUploadSize: maxUpload})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return srv
}

func clientAs(srv *httptest.Server, login string) *adminclient.Client {
	return &adminclient.Client{BaseURL: srv.URL, Login: login, Password: login + "-pw", RetryDelay: time.Millisecond}
}

// buildArchive writes a valid unsigned archive of a www folder holding
// the given extra file and returns its path and web-resources checksum.
func buildArchive(t *testing.T, extra []byte) (string, uint32) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	www := filepath.Join(dir, "www")
	if err := os.MkdirAll(www, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string][]byte{"index.html": []byte("<html></html>"), "extra.bin": extra} {
		if err := os.WriteFile(filepath.Join(www, name), content, 0o644); err != nil {
			t.Fatal(err)
		}
	}

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

	dest := filepath.Join(dir, "app.zip")
	meta := bundle.Metadata{AppID: realApp.ID, Platform: realApp.Platform, AppVersion: realApp.Version,
		PluginVersion: "8.0.2024082705", PlatformVersion: "8.0.0.00-20230609-123807",
		Checksum: sum.Checksum, Size: sum.Size}
	if _, err := bundle.WriteArchives(ctx, []bundle.Job{{Dest: dest, Files: sources, Meta: meta}}, bundle.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	return dest, sum.Checksum
}

func TestRealServerRoundTrip(t *testing.T) {
	srv := startRealServer(t, 0)
	ctx := context.Background()
	path, checksum := buildArchive(t, []byte("payload"))

	var last int64
	d, err := clientAs(srv, "deployer").Upload(ctx, "mfp", realApp,
		adminclient.Archive{Path: path, Checksum: checksum}, func(n int64) { last = n })
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	if last != fi.Size() {
		t.Errorf("last progress = %d, want the file size %d", last, fi.Size())
	}
	if d.Checksum != checksum || !d.Active {
		t.Errorf("deployment = %+v, want active with checksum %d", d, checksum)
	}

	monitor := clientAs(srv, "monitor")
	got, _, err := monitor.GetDeployment(ctx, "mfp", realApp)
	if err != nil {
		t.Fatal(err)
	}
	if got.SHA256 != d.SHA256 {
		t.Errorf("GetDeployment sha256 = %s, want %s", got.SHA256, d.SHA256)
	}

	runtimes, err := monitor.Runtimes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(runtimes) != 1 || runtimes[0].Name != "mfp" {
		t.Errorf("Runtimes = %+v, want [mfp]", runtimes)
	}

	apps, err := monitor.Applications(ctx, "mfp")
	if err != nil {
		t.Fatal(err)
	}
	if len(apps) != 1 || apps[0].AppID != realApp.ID {
		t.Errorf("Applications = %+v, want %s", apps, realApp.ID)
	}

	if err := clientAs(srv, "admin").Delete(ctx, "mfp", realApp); err != nil {
		t.Fatal(err)
	}
	if _, _, err := monitor.GetDeployment(ctx, "mfp", realApp); !errors.Is(err, adminclient.ErrNotFound) {
		t.Errorf("GetDeployment after Delete: err = %v, want ErrNotFound", err)
	}
}

func TestRealServerUploadFromReaderAt(t *testing.T) {
	srv := startRealServer(t, 0)
	path, checksum := buildArchive(t, []byte("payload"))
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	_, err = clientAs(srv, "deployer").Upload(context.Background(), "mfp", realApp,
		adminclient.Archive{ReaderAt: bytes.NewReader(data), Size: int64(len(data)), Checksum: checksum}, nil)
	if err != nil {
		t.Fatal(err)
	}
}

func TestRealServerRejections(t *testing.T) {
	srv := startRealServer(t, 64<<10)
	ctx := context.Background()
	valid, checksum := buildArchive(t, []byte("payload"))
	// Random bytes do not compress, so the archive stays above the limit.
	big := make([]byte, 128<<10)
	rand.NewChaCha8([32]byte{1}).Read(big)
	tooBig, bigChecksum := buildArchive(t, big)
	garbage := filepath.Join(t.TempDir(), "garbage.zip")
	os.WriteFile(garbage, []byte("this is not a zip file"), 0o644)

	cases := []struct {
		name     string
		login    string
		runtime  string
		app      adminclient.App
		archive  adminclient.Archive
		sentinel error
		want     string
	}{
		{"wrong password", "nobody", "mfp", realApp, adminclient.Archive{Path: valid, Checksum: checksum}, adminclient.ErrUnauthorized, "401"},
		{"monitor role", "monitor", "mfp", realApp, adminclient.Archive{Path: valid, Checksum: checksum}, adminclient.ErrForbidden, "may not upload"},
		{"unknown runtime", "deployer", "nope", realApp, adminclient.Archive{Path: valid, Checksum: checksum}, adminclient.ErrNotFound, `runtime "nope" not found`},
		{"oversize", "deployer", "mfp", realApp, adminclient.Archive{Path: tooBig, Checksum: bigChecksum}, adminclient.ErrTooLarge, "65536 bytes"},
		{"version mismatch", "deployer", "mfp", adminclient.App{ID: realApp.ID, Platform: realApp.Platform, Version: "2.0.0"},
			adminclient.Archive{Path: valid, Checksum: checksum}, nil, `app version is "1.0.0"`},
		{"not a zip", "deployer", "mfp", realApp, adminclient.Archive{Path: garbage}, nil, "400 Bad Request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := clientAs(srv, tc.login).Upload(ctx, tc.runtime, tc.app, tc.archive, nil)
			if err == nil {
				t.Fatal("Upload succeeded")
			}
			if tc.sentinel != nil && !errors.Is(err, tc.sentinel) {
				t.Errorf("err = %v, want %v", err, tc.sentinel)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %q lacks %q", err, tc.want)
			}
			if strings.Contains(err.Error(), tc.login+"-pw") {
				t.Errorf("err %q shows the password", err)
			}
		})
	}
}

func TestRealServerRejectionKeepsRoleNames(t *testing.T) {
	srv := startRealServer(t, 0)
	valid, checksum := buildArchive(t, []byte("payload"))

	// "admin" is the documented password of the local server, so a user who
	// mistypes the login still sends it.
	client := &adminclient.Client{BaseURL: srv.URL, Login: "bob", Password: "admin", RetryDelay: time.Millisecond}
	_, err := client.Upload(context.Background(), "mfp", realApp, adminclient.Archive{Path: valid, Checksum: checksum}, nil)
	if !errors.Is(err, adminclient.ErrUnauthorized) {
		t.Fatalf("err = %v, want %v", err, adminclient.ErrUnauthorized)
	}
	if want := "role deployer or admin"; !strings.Contains(err.Error(), want) {
		t.Errorf("err %q lacks %q", err, want)
	}
	if strings.Contains(err.Error(), "****") {
		t.Errorf("err %q masks a word of the server's message", err)
	}
}

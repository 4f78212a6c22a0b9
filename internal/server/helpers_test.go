package server_test

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/mfpdev/mfpdev/internal/server"
	"github.com/mfpdev/mfpdev/pkg/bundle"
	"github.com/mfpdev/mfpdev/pkg/protocol"
	"github.com/mfpdev/mfpdev/pkg/webres"
)

const (
	appID         = "com.example.app"
	platform      = "android"
	appVersion    = "1.0.0"
	pluginVersion = "8.0.2024082705"
)

// testUsers has one user per role; the password of each is its name
// followed by "-password".
func testUsers(t testing.TB) []server.User {
	var users []server.User
	for _, role := range []server.Role{server.RoleAdmin, server.RoleDeployer, server.RoleMonitor} {
		hash, err := bcrypt.GenerateFromPassword([]byte(string(role)+"-password"), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, server.User{Name: string(role), Role: role, PasswordHash: hash})
	}
	return users
}

// testServer is a Server serving on a loopback port.
type testServer struct {
	URL    string
	Server *server.Server
	Log    *lockedBuffer
	// shutdown stops the server and returns what Serve returned, for
	// tests that check it themselves.
	shutdown func() error
	// stop stops the server and fails the test if Serve failed.
	stop func()
}

// startServer starts a Server on 127.0.0.1:0 with data in dataDir. The
// server stops when the test ends, or earlier through stop.
func startServer(t testing.TB, dataDir string, configure func(*server.Config)) *testServer {
	t.Helper()
	logs := &lockedBuffer{}
	cfg := server.Config{
		DataDir: dataDir,
		Users:   testUsers(t),
		Logger:  slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if configure != nil {
		configure(&cfg)
	}
	s, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()

	ts := &testServer{URL: "http://" + ln.Addr().String(), Server: s, Log: logs}
	var serveErr error
	finish := sync.OnceFunc(func() {
		cancel()
		serveErr = <-done
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	checked := false
	ts.shutdown = func() error {
		finish()
		checked = true
		return serveErr
	}
	ts.stop = func() {
		finish()
		if !checked && serveErr != nil {
			t.Errorf("Serve: %v", serveErr)
		}
	}
	t.Cleanup(ts.stop)
	return ts
}

// lockedBuffer is a bytes.Buffer that the server's goroutines may write
// while a test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// archive is a direct-update archive built for a test.
type archive struct {
	Data     []byte
	Checksum uint32
	Path     string
}

// buildArchive writes a valid archive with bundle.WriteArchives: the www
// files given, plus filelist and checksum.js carrying the checksum
// webres.Compute returns for them.
func buildArchive(t testing.TB, appID, platform, appVersion, pluginVersion string, files map[string]string, signer crypto.Signer) archive {
	t.Helper()
	ctx := context.Background()

	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	sum, err := webres.Compute(ctx, paths, func(p string) (io.ReadCloser, error) {
		content, ok := files[p]
		if !ok {
			return nil, os.ErrNotExist
		}
		return io.NopCloser(strings.NewReader(content)), nil
	})
	if err != nil {
		t.Fatal(err)
	}

	var sources []bundle.SourceFile
	for _, p := range paths {
		sources = append(sources, bundle.SourceFile{Path: p, Content: []byte(files[p])})
	}
	sources = append(sources,
		bundle.SourceFile{Path: webres.FileListName, Content: sum.FileList},
		bundle.SourceFile{Path: webres.ChecksumJSPath, Content: webres.ChecksumJS(sum.Checksum, time.Unix(1700000000, 0))},
	)

	dest := filepath.Join(t.TempDir(), appID+"-"+platform+"-"+appVersion+".zip")
	_, err = bundle.WriteArchives(ctx, []bundle.Job{{
		Dest:  dest,
		Files: sources,
		Meta: bundle.Metadata{
			AppID: appID, Platform: platform, AppVersion: appVersion,
			PluginVersion: pluginVersion, PlatformVersion: "8.0.0.00-20230609-123807",
			Checksum: sum.Checksum, Size: sum.Size,
		},
	}}, bundle.WriteOptions{Signer: signer, ModTime: time.Unix(1700000000, 0)})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(dest)
	if err != nil {
		t.Fatal(err)
	}
	return archive{Data: data, Checksum: sum.Checksum, Path: dest}
}

// sampleFiles returns www files whose content depends on variant, so two
// variants have different checksums.
func sampleFiles(variant string) map[string]string {
	return map[string]string{
		"index.html":         "<html><body>" + variant + "</body></html>\n",
		"js/app.js":          "console.log('" + variant + "');\n",
		"css/app.css":        "body { color: black; }\n",
		"cordova.js":         "// cordova\n",
		"img/logo.svg":       strings.Repeat("<svg/>", 2000),
		"cordova_plugins.js": "module.exports = [];\n",
	}
}

func webURL(ts *testServer, runtime, appID, platform, appVersion string) string {
	return ts.URL + protocol.AdminWebPath(protocol.DefaultAdminContext, runtime, appID, platform, appVersion)
}

// uploadRequest returns a multipart upload of data to the web resources
// path, with Basic credentials unless user is empty.
func uploadRequest(t testing.TB, url, user, password string, data []byte) *http.Request {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	part, err := mw.CreateFormFile("file", "archive.zip")
	if err != nil {
		t.Fatal(err)
	}
	part.Write(data)
	mw.Close()

	req, err := http.NewRequest(http.MethodPost, url, &body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	return req
}

// doAdmin sends req and decodes the admin response.
func doAdmin(t testing.TB, req *http.Request) (*http.Response, protocol.AdminResponse) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var ar protocol.AdminResponse
	if err := json.Unmarshal(body, &ar); err != nil {
		t.Fatalf("%s %s: status %d, body is not an admin response: %v\n%s", req.Method, req.URL, resp.StatusCode, err, body)
	}
	return resp, ar
}

// upload pushes data as admin and fails the test unless it is stored.
func upload(t testing.TB, ts *testServer, a archive, appID, platform, appVersion string) protocol.Deployment {
	t.Helper()
	resp, ar := doAdmin(t, uploadRequest(t, webURL(ts, "mfp", appID, platform, appVersion), "admin", "admin-password", a.Data))
	if resp.StatusCode != http.StatusOK || !ar.OK || ar.Deployment == nil {
		t.Fatalf("upload: status %d, response %+v", resp.StatusCode, ar)
	}
	return *ar.Deployment
}

// check posts a check request (any JSON-encodable value) to runtime mfp.
func check(t *testing.T, ts *testServer, body any) (int, protocol.CheckResponse, []byte) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(ts.URL+protocol.CheckPath("mfp"), "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var cr protocol.CheckResponse
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(raw, &cr); err != nil {
			t.Fatalf("check response: %v\n%s", err, raw)
		}
	}
	return resp.StatusCode, cr, raw
}

func checkRequest(checksum uint32) protocol.CheckRequest {
	return protocol.CheckRequest{AppID: appID, Platform: platform, AppVersion: appVersion, Checksum: checksum, PluginVersion: pluginVersion}
}

// get sends a GET (or method) request with optional headers and returns
// the response with its body read.
func get(t *testing.T, method, url string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	return resp, body
}

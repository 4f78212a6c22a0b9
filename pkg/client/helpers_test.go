package client

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
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
	testAppID    = "com.example.sample"
	testPlatform = "android"
	testVersion  = "1.0.0"
	testPlugin   = "8.0.2024082705"
)

// buildDate is the checksum.js date of every test tree.
var buildDate = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// testArchive is an archive written by bundle.WriteArchives.
type testArchive struct {
	Path     string
	Bytes    []byte
	Checksum uint32
	SHA256   string
	Unpacked int64
}

// writeFiles writes files (path → content) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// prepareTree writes files under dir with the filelist and checksum.js a
// prepared platform folder carries, and returns the tree's checksum.
func prepareTree(t *testing.T, dir string, files map[string]string) uint32 {
	t.Helper()
	writeFiles(t, dir, files)
	sum := treeSum(t, dir)
	writeFiles(t, dir, map[string]string{
		webres.FileListName:   string(sum.FileList),
		webres.ChecksumJSPath: string(webres.ChecksumJS(sum.Checksum, buildDate)),
	})
	return sum.Checksum
}

func treeSum(t *testing.T, dir string) webres.Sum {
	t.Helper()
	tree, err := webres.Scan(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := tree.Sum(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// buildArchive writes the archive of files for the test app, signed by
// signer when it is not nil.
func buildArchive(t *testing.T, files map[string]string, pluginVersion string, signer crypto.Signer) testArchive {
	t.Helper()
	src := t.TempDir()
	writeFiles(t, src, files)
	tree, err := webres.Scan(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := tree.Sum(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	var sources []bundle.SourceFile
	for _, f := range tree.Files {
		sources = append(sources, bundle.SourceFile{Path: f.Path, DiskPath: f.DiskPath})
	}
	sources = append(sources,
		bundle.SourceFile{Path: webres.FileListName, Content: sum.FileList},
		bundle.SourceFile{Path: webres.ChecksumJSPath, Content: webres.ChecksumJS(sum.Checksum, buildDate)})

	dest := filepath.Join(t.TempDir(), testAppID+"-"+testPlatform+"-"+testVersion+".zip")
	job := bundle.Job{Dest: dest, Files: sources, Meta: bundle.Metadata{
		FormatVersion: bundle.FormatVersion, AppID: testAppID, Platform: testPlatform, AppVersion: testVersion,
		PluginVersion: pluginVersion, PlatformVersion: "8.0.0.00-20230609-123807",
		Checksum: sum.Checksum, Size: sum.Size,
	}}
	results, err := bundle.WriteArchives(context.Background(), []bundle.Job{job}, bundle.WriteOptions{Signer: signer, ModTime: buildDate})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(dest)
	if err != nil {
		t.Fatal(err)
	}
	var unpacked int64
	for _, s := range sources {
		if s.Content != nil {
			unpacked += int64(len(s.Content))
		} else {
			info, _ := os.Stat(s.DiskPath)
			unpacked += info.Size()
		}
	}
	return testArchive{Path: dest, Bytes: b, Checksum: sum.Checksum, SHA256: results[0].SHA256, Unpacked: unpacked}
}

// snapshot returns every file, folder and symlink under dir with its content.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			out[rel] = "symlink:" + target
			return err
		case d.IsDir():
			out[rel] = "dir"
		default:
			b, err := os.ReadFile(path)
			out[rel] = "file:" + string(b)
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func assertSameTree(t *testing.T, got, want map[string]string) {
	t.Helper()
	for p, w := range want {
		if g, ok := got[p]; !ok {
			t.Errorf("%s: missing", p)
		} else if g != w {
			t.Errorf("%s: got %.60q, want %.60q", p, g, w)
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("%s: unexpected", p)
		}
	}
}

// realServer is an update server from internal/server on 127.0.0.1.
type realServer struct {
	URL string
}

const (
	adminUser     = "admin"
	adminPassword = "admin-password"
)

func startServer(t *testing.T) *realServer {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(adminPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{
		DataDir: t.TempDir(),
		Users:   []server.User{{Name: adminUser, Role: server.RoleAdmin, PasswordHash: hash}},
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
	return &realServer{URL: "http://" + ln.Addr().String()}
}

// push uploads an archive through the admin API.
func (s *realServer) push(t *testing.T, a testArchive) {
	t.Helper()
	url := s.URL + protocol.AdminWebPath(protocol.DefaultAdminContext, protocol.DefaultRuntime, testAppID, testPlatform, testVersion)
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(a.Bytes))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", protocol.ZipContentType)
	req.SetBasicAuth(adminUser, adminPassword)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("push: HTTP %d: %s", resp.StatusCode, body)
	}
}

// fakeServer answers checks with a fixed response and serves an archive
// through serve, for the faults a real server does not produce.
type fakeServer struct {
	URL string

	mu       sync.Mutex
	resp     protocol.CheckResponse
	serve    http.HandlerFunc
	checks   []protocol.CheckRequest
	requests []*http.Request // archive requests
}

const fakeLink = "api/directupdate/1.0.0/1/full?appId=com.example.sample&clientPlatform=android"

// startFake returns a fake server offering a; serve handles the download.
func startFake(t *testing.T, a testArchive, serve http.HandlerFunc) *fakeServer {
	t.Helper()
	f := &fakeServer{serve: serve, resp: protocol.CheckResponse{
		UpdateAvailable: true, Reason: protocol.ReasonAvailable, Checksum: a.Checksum,
		PackedSize: int64(len(a.Bytes)), UnpackedSize: a.Unpacked, DirectUpdateLink: fakeLink,
		DirectUpdateProtocolVersion: protocol.ProtocolVersion, Type: protocol.TypeFull, SHA256: a.SHA256,
	}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+protocol.CheckPath(protocol.DefaultRuntime), func(w http.ResponseWriter, r *http.Request) {
		var req protocol.CheckRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.checks = append(f.checks, req)
		resp := f.resp
		f.mu.Unlock()
		if req.Checksum == resp.Checksum {
			resp = protocol.CheckResponse{Reason: protocol.ReasonUpToDate, Checksum: resp.Checksum}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(resp)
	})
	mux.HandleFunc("GET /mfp/api/directupdate/", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.requests = append(f.requests, r.Clone(context.Background()))
		serve := f.serve
		f.mu.Unlock()
		serve(w, r)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

func (f *fakeServer) setServe(serve http.HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.serve = serve
}

func (f *fakeServer) lastCheck(t *testing.T) protocol.CheckRequest {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.checks) == 0 {
		t.Fatal("no check request")
	}
	return f.checks[len(f.checks)-1]
}

func (f *fakeServer) archiveRequests() []*http.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*http.Request(nil), f.requests...)
}

// serveArchive serves b with Range support, as a correct server does.
func serveArchive(b []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", protocol.ZipContentType)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
	}
}

// serveCut announces all of b but closes the connection after n bytes.
func serveCut(b []byte, n int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", protocol.ZipContentType)
		w.Header().Set("Content-Length", fmt.Sprint(len(b)))
		w.WriteHeader(http.StatusOK)
		w.Write(b[:n])
		w.(http.Flusher).Flush()
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
	}
}

// serveIgnoringRange always sends all of b with 200, whatever the Range.
func serveIgnoringRange(b []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", protocol.ZipContentType)
		w.Header().Set("Content-Length", fmt.Sprint(len(b)))
		w.Write(b)
	}
}

// newDevice returns a device for the test app on www talking to url.
func newDevice(www, url string) *Device {
	return &Device{
		WWW: www, AppID: testAppID, Platform: testPlatform, AppVersion: testVersion,
		PluginVersion: testPlugin, ServerURL: url,
	}
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

package adminclient

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mfpdev/mfpdev/pkg/protocol"
)

const (
	testLogin    = "deployer"
	testPassword = "pa55-w0rd-xyz"
)

// adminStub serves the shape of the admin API: it stores uploaded bodies
// in memory and answers with the documented JSON documents. fail, when
// set, answers a request instead of the normal handler.
type adminStub struct {
	mu       sync.Mutex
	requests int
	uploads  map[string][]byte
	// fail returns a status and body for request number n (from 1), or
	// status 0 to let the request through.
	fail func(n int, r *http.Request) (int, string)
	// tamper edits the deployment before it is sent back.
	tamper func(d map[string]any)
	// lastHeader is the header of the last request.
	lastHeader http.Header
}

func newAdminStub(t *testing.T) (*adminStub, *httptest.Server) {
	stub := &adminStub{uploads: map[string][]byte{}}
	srv := httptest.NewServer(stub)
	t.Cleanup(srv.Close)
	return stub, srv
}

func (s *adminStub) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

func writeAdmin(w http.ResponseWriter, status int, doc map[string]any) {
	doc["productVersion"] = "test"
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(doc)
}

func (s *adminStub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests++
	n := s.requests
	s.lastHeader = r.Header.Clone()
	s.mu.Unlock()

	body, _ := io.ReadAll(r.Body)
	if s.fail != nil {
		if status, text := s.fail(n, r); status != 0 {
			w.WriteHeader(status)
			io.WriteString(w, text)
			return
		}
	}

	login, password, _ := r.BasicAuth()
	if login != testLogin || password != testPassword {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"ok":false,"productVersion":"test"}`)
		return
	}

	const prefix = "/mfpadmin/management-apis/2.0/runtimes"
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, prefix), "/")
	switch {
	case r.URL.Path == prefix:
		writeAdmin(w, 200, map[string]any{"ok": true, "runtimes": []map[string]string{{"name": "mfp"}}})
	case len(parts) == 3 && parts[1] == "mfp" && parts[2] == "applications":
		writeAdmin(w, 200, map[string]any{"ok": true, "applications": []map[string]any{
			{"appId": "com.example.app", "platform": "android", "versions": []string{"1.0.0"}}}})
	case len(parts) == 7 && parts[1] == "mfp" && parts[6] == "web":
		s.serveWeb(w, r, parts[3], parts[4], parts[5], body)
	default:
		writeAdmin(w, 404, map[string]any{"ok": false, "transaction": map[string]any{
			"status": "FAILURE", "errors": []map[string]string{{"details": "no such path " + r.URL.Path}}}})
	}
}

func (s *adminStub) serveWeb(w http.ResponseWriter, r *http.Request, appID, platform, version string, body []byte) {
	key := appID + "/" + platform + "/" + version
	s.mu.Lock()
	defer s.mu.Unlock()

	switch r.Method {
	case http.MethodPost:
		if r.Header.Get("Content-Type") != "application/zip" {
			writeAdmin(w, 415, map[string]any{"ok": false})
			return
		}
		s.uploads[key] = body
	case http.MethodDelete:
		if _, ok := s.uploads[key]; !ok {
			writeAdmin(w, 404, map[string]any{"ok": false})
			return
		}
		delete(s.uploads, key)
		writeAdmin(w, 200, map[string]any{"ok": true})
		return
	}

	stored, ok := s.uploads[key]
	if !ok {
		writeAdmin(w, 404, map[string]any{"ok": false})
		return
	}
	sum := sha256.Sum256(stored)
	d := map[string]any{"runtime": "mfp", "appId": appID, "platform": platform, "appVersion": version,
		"checksum": 1234, "packedSize": len(stored), "sha256": hex.EncodeToString(sum[:]), "active": true}
	if s.tamper != nil {
		s.tamper(d)
	}
	writeAdmin(w, 200, map[string]any{"ok": true, "deployment": d,
		"transaction": map[string]any{"status": "SUCCESS", "type": "UPLOAD_ARTIFACT"}})
}

func newTestClient(srv *httptest.Server) *Client {
	return &Client{BaseURL: srv.URL, Login: testLogin, Password: testPassword,
		HTTPClient: srv.Client(), RetryDelay: time.Millisecond}
}

var testApp = App{ID: "com.example.app", Platform: "android", Version: "1.0.0"}

func writeArchive(t *testing.T, content []byte) (path, sha string) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "com.example.app-android-1.0.0.zip")
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(content)
	return path, hex.EncodeToString(sum[:])
}

func TestUploadFromFile(t *testing.T) {
	stub, srv := newAdminStub(t)
	content := bytes.Repeat([]byte("zip bytes "), 100000)
	path, sha := writeArchive(t, content)

	var last int64
	d, err := newTestClient(srv).Upload(context.Background(), "mfp", testApp,
		Archive{Path: path, Checksum: 1234, SHA256: sha}, func(n int64) { last = n })
	if err != nil {
		t.Fatal(err)
	}

	if d.SHA256 != sha || d.Checksum != 1234 {
		t.Errorf("deployment = %+v, want sha256 %s and checksum 1234", d, sha)
	}
	if !bytes.Equal(stub.uploads["com.example.app/android/1.0.0"], content) {
		t.Error("the server did not receive the archive's bytes")
	}
	if last != int64(len(content)) {
		t.Errorf("last progress = %d, want %d", last, len(content))
	}
	if got := stub.lastHeader.Get("Content-Type"); got != "application/zip" {
		t.Errorf("Content-Type = %q", got)
	}
}

func TestUploadFromReaderAt(t *testing.T) {
	_, srv := newAdminStub(t)
	content := []byte("small archive")

	_, err := newTestClient(srv).Upload(context.Background(), "mfp", testApp,
		Archive{ReaderAt: bytes.NewReader(content), Size: int64(len(content)), Checksum: 1234}, nil)
	if err != nil {
		t.Fatal(err)
	}
}

func TestUploadRetries503(t *testing.T) {
	stub, srv := newAdminStub(t)
	stub.fail = func(n int, r *http.Request) (int, string) {
		if n <= 2 {
			return http.StatusServiceUnavailable, "busy"
		}
		return 0, ""
	}
	content := []byte("retried archive")
	path, _ := writeArchive(t, content)

	var retries []int
	c := newTestClient(srv)
	c.OnRetry = func(attempt int, err error, delay time.Duration) { retries = append(retries, attempt) }
	if _, err := c.Upload(context.Background(), "mfp", testApp, Archive{Path: path, Checksum: 1234}, nil); err != nil {
		t.Fatal(err)
	}

	if stub.count() != 3 {
		t.Errorf("server got %d requests, want 3", stub.count())
	}
	if len(retries) != 2 {
		t.Errorf("OnRetry called for attempts %v, want 1 and 2", retries)
	}
	if !bytes.Equal(stub.uploads["com.example.app/android/1.0.0"], content) {
		t.Error("the retried upload did not send the whole archive")
	}
}

func TestUploadRetriesBounded(t *testing.T) {
	stub, srv := newAdminStub(t)
	stub.fail = func(int, *http.Request) (int, string) { return http.StatusBadGateway, "down" }
	path, _ := writeArchive(t, []byte("x"))

	c := newTestClient(srv)
	c.Retries = 2
	_, err := c.Upload(context.Background(), "mfp", testApp, Archive{Path: path, Checksum: 1234}, nil)
	if err == nil {
		t.Fatal("Upload succeeded against a failing server")
	}
	if stub.count() != 3 {
		t.Errorf("server got %d requests, want 3 (1 + 2 retries)", stub.count())
	}
	if !strings.Contains(err.Error(), "gave up after 3 attempts") {
		t.Errorf("error %q does not say how many attempts were made", err)
	}
}

func TestUploadDefaultRetries(t *testing.T) {
	stub, srv := newAdminStub(t)
	stub.fail = func(int, *http.Request) (int, string) { return http.StatusInternalServerError, "boom" }
	path, _ := writeArchive(t, []byte("x"))

	newTestClient(srv).Upload(context.Background(), "mfp", testApp, Archive{Path: path}, nil)
	if stub.count() != 1+DefaultRetries {
		t.Errorf("server got %d requests, want %d", stub.count(), 1+DefaultRetries)
	}
}

func TestUploadNoRetryOn4xx(t *testing.T) {
	statuses := []int{400, 401, 403, 404, 409, 413, 429}
	for _, status := range statuses {
		t.Run(http.StatusText(status), func(t *testing.T) {
			stub, srv := newAdminStub(t)
			stub.fail = func(int, *http.Request) (int, string) { return status, `{"ok":false}` }
			path, _ := writeArchive(t, []byte("x"))

			_, err := newTestClient(srv).Upload(context.Background(), "mfp", testApp, Archive{Path: path}, nil)
			if err == nil {
				t.Fatal("Upload succeeded")
			}
			if stub.count() != 1 {
				t.Errorf("server got %d requests, want 1", stub.count())
			}
		})
	}
}

func TestUploadErrorMessages(t *testing.T) {
	details := func(text string) string {
		return `{"ok":false,"productVersion":"t","transaction":{"status":"FAILURE","errors":[{"details":"` + text + `"}]}}`
	}
	cases := []struct {
		status   int
		body     string
		sentinel error
		want     []string
	}{
		{401, `{"ok":false}`, ErrUnauthorized, []string{"401 Unauthorized", `login "deployer"`}},
		{403, `{"ok":false}`, ErrForbidden, []string{"403 Forbidden", "deployer or admin role"}},
		{404, `{"ok":false}`, ErrNotFound, []string{"404 Not Found", `runtime name "mfp"`}},
		{413, details("archive exceeds 1048576 bytes"), ErrTooLarge, []string{"413 Request Entity Too Large: archive exceeds 1048576 bytes"}},
		{413, `{"ok":false}`, ErrTooLarge, []string{"the 1-byte archive exceeds the server's upload limit"}},
		{400, details("www/checksum.js carries checksum 1, the archive 2"), nil, []string{"400 Bad Request", "www/checksum.js carries checksum 1"}},
	}
	for _, tc := range cases {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			stub, srv := newAdminStub(t)
			stub.fail = func(int, *http.Request) (int, string) { return tc.status, tc.body }
			path, _ := writeArchive(t, []byte("x"))

			_, err := newTestClient(srv).Upload(context.Background(), "mfp", testApp, Archive{Path: path}, nil)
			if err == nil {
				t.Fatal("Upload succeeded")
			}
			if tc.sentinel != nil && !errors.Is(err, tc.sentinel) {
				t.Errorf("error %q does not match %v", err, tc.sentinel)
			}
			msg := err.Error()
			wantURL := srv.URL + "/mfpadmin/management-apis/2.0/runtimes/mfp/applications/com.example.app/android/1.0.0/web"
			for _, want := range append(tc.want, "POST "+wantURL) {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not contain %q", msg, want)
				}
			}
			if strings.Contains(msg, testPassword) {
				t.Errorf("error %q shows the password", msg)
			}
		})
	}
}

func TestErrorMasksEchoedPassword(t *testing.T) {
	stub, srv := newAdminStub(t)
	stub.fail = func(int, *http.Request) (int, string) {
		return http.StatusBadRequest, "<html>\n\n bad login " + testPassword + "\x07</html>"
	}
	path, _ := writeArchive(t, []byte("x"))

	_, err := newTestClient(srv).Upload(context.Background(), "mfp", testApp, Archive{Path: path}, nil)
	if err == nil {
		t.Fatal("Upload succeeded")
	}
	if strings.Contains(err.Error(), testPassword) {
		t.Errorf("error %q shows the password", err)
	}
	if strings.ContainsAny(err.Error(), "\n\x07") {
		t.Errorf("error %q keeps control characters", err)
	}
}

func TestErrorExcerptTruncated(t *testing.T) {
	stub, srv := newAdminStub(t)
	stub.fail = func(int, *http.Request) (int, string) { return http.StatusBadRequest, strings.Repeat("a", 5000) }

	_, err := newTestClient(srv).Runtimes(context.Background())
	if err == nil {
		t.Fatal("Runtimes succeeded")
	}
	if len(err.Error()) > 600 {
		t.Errorf("error is %d bytes long, want the body cut to an excerpt", len(err.Error()))
	}
}

func TestUploadUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	path, _ := writeArchive(t, []byte("x"))

	var retries int
	c := &Client{BaseURL: "http://" + addr, Login: testLogin, Password: testPassword, RetryDelay: time.Millisecond,
		OnRetry: func(int, error, time.Duration) { retries++ }}
	_, err = c.Upload(context.Background(), "mfp", testApp, Archive{Path: path}, nil)
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("err = %v, want ErrUnreachable", err)
	}
	for _, want := range []string{"cannot reach http://" + addr, `is "mfpdev server start" running?`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if retries != DefaultRetries {
		t.Errorf("retried %d times, want %d", retries, DefaultRetries)
	}
}

func TestUnreachableHintRemote(t *testing.T) {
	e := &UnreachableError{BaseURL: "https://mfp.example.com", Err: errors.New("timeout")}
	if !strings.Contains(e.Error(), "check the server URL") {
		t.Errorf("error %q for a remote host suggests starting a local server", e)
	}
}

func TestUploadCancelledDuringBackoff(t *testing.T) {
	stub, srv := newAdminStub(t)
	stub.fail = func(int, *http.Request) (int, string) { return http.StatusServiceUnavailable, "" }
	path, _ := writeArchive(t, []byte("x"))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := newTestClient(srv)
	c.RetryDelay = time.Hour
	c.OnRetry = func(int, error, time.Duration) { cancel() }

	_, err := c.Upload(ctx, "mfp", testApp, Archive{Path: path}, nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if stub.count() != 1 {
		t.Errorf("server got %d requests after cancelling, want 1", stub.count())
	}
}

func TestUploadMismatch(t *testing.T) {
	cases := map[string]func(d map[string]any){
		"other sha256":     func(d map[string]any) { d["sha256"] = strings.Repeat("0", 64) },
		"other checksum":   func(d map[string]any) { d["checksum"] = 99 },
		"missing sha256":   func(d map[string]any) { delete(d, "sha256") },
		"missing checksum": func(d map[string]any) { delete(d, "checksum") },
		"other version":    func(d map[string]any) { d["appVersion"] = "2.0.0" },
	}
	for name, tamper := range cases {
		t.Run(name, func(t *testing.T) {
			stub, srv := newAdminStub(t)
			stub.tamper = tamper
			path, _ := writeArchive(t, []byte("x"))

			_, err := newTestClient(srv).Upload(context.Background(), "mfp", testApp,
				Archive{Path: path, Checksum: 1234}, nil)
			if !errors.Is(err, ErrMismatch) {
				t.Errorf("err = %v, want ErrMismatch", err)
			}
		})
	}
}

func TestUploadLocalHashMismatch(t *testing.T) {
	stub, srv := newAdminStub(t)
	path, _ := writeArchive(t, []byte("x"))

	_, err := newTestClient(srv).Upload(context.Background(), "mfp", testApp,
		Archive{Path: path, Checksum: 1234, SHA256: strings.Repeat("a", 64)}, nil)
	if err == nil || !strings.Contains(err.Error(), "build it again") {
		t.Errorf("err = %v, want a changed-file error", err)
	}
	if stub.count() != 0 {
		t.Errorf("server got %d requests, want none", stub.count())
	}
}

func TestUploadMissingFile(t *testing.T) {
	_, srv := newAdminStub(t)
	_, err := newTestClient(srv).Upload(context.Background(), "mfp", testApp,
		Archive{Path: filepath.Join(t.TempDir(), "none.zip")}, nil)
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err = %v, want a not-exist error", err)
	}
}

func TestRuntimesAndApplications(t *testing.T) {
	_, srv := newAdminStub(t)
	c := newTestClient(srv)

	runtimes, err := c.Runtimes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(runtimes) != 1 || runtimes[0].Name != "mfp" {
		t.Errorf("Runtimes = %+v", runtimes)
	}

	apps, err := c.Applications(context.Background(), "mfp")
	if err != nil {
		t.Fatal(err)
	}
	want := protocol.Application{AppID: "com.example.app", Platform: "android", Versions: []string{"1.0.0"}}
	if len(apps) != 1 || apps[0].AppID != want.AppID || apps[0].Platform != want.Platform {
		t.Errorf("Applications = %+v, want [%+v]", apps, want)
	}
}

func TestRuntimesWrongPassword(t *testing.T) {
	_, srv := newAdminStub(t)
	c := newTestClient(srv)
	c.Password = "wrong"

	_, err := c.Runtimes(context.Background())
	if !errors.Is(err, ErrUnauthorized) {
		t.Errorf("err = %v, want ErrUnauthorized", err)
	}
}

func TestGetAndDeleteDeployment(t *testing.T) {
	_, srv := newAdminStub(t)
	c := newTestClient(srv)
	ctx := context.Background()

	if _, _, err := c.GetDeployment(ctx, "mfp", testApp); !errors.Is(err, ErrNotFound) {
		t.Fatalf("GetDeployment before upload: err = %v, want ErrNotFound", err)
	}

	path, sha := writeArchive(t, []byte("deployed"))
	if _, err := c.Upload(ctx, "mfp", testApp, Archive{Path: path, Checksum: 1234}, nil); err != nil {
		t.Fatal(err)
	}
	d, _, err := c.GetDeployment(ctx, "mfp", testApp)
	if err != nil {
		t.Fatal(err)
	}
	if d.SHA256 != sha {
		t.Errorf("GetDeployment sha256 = %s, want %s", d.SHA256, sha)
	}

	if err := c.Delete(ctx, "mfp", testApp); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, "mfp", testApp); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Delete: err = %v, want ErrNotFound", err)
	}
}

func TestAdminContextAndEscaping(t *testing.T) {
	var gotPath string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath = r.URL.EscapedPath()
		writeAdmin(w, 200, map[string]any{"ok": true})
	}))
	defer srv.Close()

	c := &Client{BaseURL: srv.URL + "/prefix/", AdminContext: "/admin2/", Login: "a", Password: "b"}
	if _, err := c.Applications(context.Background(), "my runtime"); err != nil {
		t.Fatal(err)
	}
	want := "/prefix/admin2/management-apis/2.0/runtimes/my%20runtime/applications"
	if gotPath != want {
		t.Errorf("request path = %q, want %q", gotPath, want)
	}
}

func TestNonAdminResponse(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "<html>welcome</html>")
	}))
	defer srv.Close()

	c := &Client{BaseURL: srv.URL, Login: "a", Password: "b"}
	_, err := c.Runtimes(context.Background())
	if err == nil || !strings.Contains(err.Error(), "admin context root") {
		t.Errorf("err = %v, want advice on the admin context root", err)
	}
}

func TestUploadRedirectNotFollowedAsGet(t *testing.T) {
	var methods []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		methods = append(methods, r.Method)
		http.Redirect(w, r, "http://127.0.0.1:1"+r.URL.Path, http.StatusMovedPermanently)
	}))
	defer srv.Close()
	path, _ := writeArchive(t, []byte("x"))

	c := &Client{BaseURL: srv.URL, Login: "a", Password: "b"}
	_, err := c.Upload(context.Background(), "mfp", testApp, Archive{Path: path}, nil)
	if err == nil {
		t.Fatal("Upload succeeded")
	}
	if !strings.Contains(err.Error(), `redirects to "http://127.0.0.1:1/`) {
		t.Errorf("err %q does not name the redirect target", err)
	}
	if len(methods) != 1 || methods[0] != http.MethodPost {
		t.Errorf("server got %v, want one POST", methods)
	}
}

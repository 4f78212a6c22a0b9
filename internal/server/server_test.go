package server_test

import (
	"bytes"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mfpdev/mfpdev/internal/server"
	"github.com/mfpdev/mfpdev/pkg/protocol"
	"github.com/mfpdev/mfpdev/pkg/signing"
)

func TestUploadCheckDownload(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil)
	a := buildArchive(t, appID, platform, appVersion, pluginVersion, sampleFiles("v1"), nil)

	d := upload(t, ts, a, appID, platform, appVersion)
	if d.Checksum != a.Checksum {
		t.Errorf("deployment checksum = %d, want %d", d.Checksum, a.Checksum)
	}
	if d.PackedSize != int64(len(a.Data)) {
		t.Errorf("deployment packedSize = %d, want %d", d.PackedSize, len(a.Data))
	}
	if len(d.SHA256) != 64 || !d.Active || d.DeployedBy != "admin" {
		t.Errorf("deployment = %+v", d)
	}

	status, cr, raw := check(t, ts, checkRequest(a.Checksum+1))
	if status != http.StatusOK || !cr.UpdateAvailable || cr.Reason != protocol.ReasonAvailable {
		t.Fatalf("check with old checksum: status %d, %s", status, raw)
	}
	if cr.Checksum != a.Checksum || cr.PackedSize != int64(len(a.Data)) || cr.UnpackedSize <= 0 {
		t.Errorf("check sizes and checksum: %s", raw)
	}
	if cr.DirectUpdateProtocolVersion != "v1" || cr.Type != protocol.TypeFull || cr.SHA256 != d.SHA256 {
		t.Errorf("check protocol fields: %s", raw)
	}
	wantLink := protocol.DownloadLink(appID, platform, appVersion, a.Checksum, protocol.TypeFull, 0)
	if cr.DirectUpdateLink != wantLink {
		t.Errorf("link = %q, want %q", cr.DirectUpdateLink, wantLink)
	}

	t.Run("up to date", func(t *testing.T) {
		_, cr, raw := check(t, ts, checkRequest(a.Checksum))
		if cr.UpdateAvailable || cr.Reason != protocol.ReasonUpToDate {
			t.Errorf("check with the deployed checksum: %s", raw)
		}
	})
	t.Run("integrity failure forces update", func(t *testing.T) {
		req := checkRequest(a.Checksum)
		req.IntegrityFailure = true
		_, cr, raw := check(t, ts, req)
		if !cr.UpdateAvailable || cr.Type != protocol.TypeFull {
			t.Errorf("check after an integrity failure: %s", raw)
		}
	})
	t.Run("other app version", func(t *testing.T) {
		req := checkRequest(1)
		req.AppVersion = "1.0.1"
		_, cr, raw := check(t, ts, req)
		if cr.UpdateAvailable || cr.Reason != protocol.ReasonNoWebResources {
			t.Errorf("check of another app version: %s", raw)
		}
	})
	t.Run("other plugin version", func(t *testing.T) {
		req := checkRequest(1)
		req.PluginVersion = "8.0.2020032412"
		_, cr, raw := check(t, ts, req)
		if cr.UpdateAvailable || cr.Reason != protocol.ReasonPluginVersionMismatch {
			t.Errorf("check with another plugin version: %s", raw)
		}
		if cr.DeployedPluginVersion != pluginVersion || cr.DevicePluginVersion != "8.0.2020032412" {
			t.Errorf("mismatch versions: %s", raw)
		}
	})
	t.Run("compatible plugin build", func(t *testing.T) {
		req := checkRequest(1)
		req.PluginVersion = pluginVersion + ".1"
		_, cr, raw := check(t, ts, req)
		if !cr.UpdateAvailable {
			t.Errorf("plugin version with the same first three numbers: %s", raw)
		}
	})

	link := ts.URL + "/mfp/" + cr.DirectUpdateLink
	t.Run("full download", func(t *testing.T) {
		resp, body := get(t, http.MethodGet, link, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		if !bytes.Equal(body, a.Data) {
			t.Error("downloaded bytes differ from the uploaded archive")
		}
		if got := resp.Header.Get("Content-Type"); got != "application/zip" {
			t.Errorf("Content-Type = %q", got)
		}
		if got := resp.Header.Get("Content-Length"); got != strconv.Itoa(len(a.Data)) {
			t.Errorf("Content-Length = %q, want %d", got, len(a.Data))
		}
		if got := resp.Header.Get("ETag"); got != `"`+d.SHA256+`"` {
			t.Errorf("ETag = %q", got)
		}
		if got := resp.Header.Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
			t.Errorf("Cache-Control = %q", got)
		}
	})
	t.Run("range download", func(t *testing.T) {
		resp, body := get(t, http.MethodGet, link, map[string]string{"Range": "bytes=100-"})
		if resp.StatusCode != http.StatusPartialContent {
			t.Fatalf("status %d, want 206", resp.StatusCode)
		}
		if !bytes.Equal(body, a.Data[100:]) {
			t.Error("bytes after offset 100 differ")
		}
		if got := resp.Header.Get("Content-Range"); got != fmt.Sprintf("bytes 100-%d/%d", len(a.Data)-1, len(a.Data)) {
			t.Errorf("Content-Range = %q", got)
		}
	})
	t.Run("unsatisfiable range", func(t *testing.T) {
		resp, _ := get(t, http.MethodGet, link, map[string]string{"Range": fmt.Sprintf("bytes=%d-", len(a.Data)+10)})
		if resp.StatusCode != http.StatusRequestedRangeNotSatisfiable {
			t.Errorf("status %d, want 416", resp.StatusCode)
		}
	})
	t.Run("head", func(t *testing.T) {
		resp, body := get(t, http.MethodHead, link, nil)
		if resp.StatusCode != http.StatusOK || len(body) != 0 {
			t.Errorf("HEAD: status %d, %d body bytes", resp.StatusCode, len(body))
		}
		if got := resp.Header.Get("Content-Length"); got != strconv.Itoa(len(a.Data)) {
			t.Errorf("HEAD Content-Length = %q, want %d", got, len(a.Data))
		}
	})
	t.Run("if-none-match", func(t *testing.T) {
		resp, _ := get(t, http.MethodGet, link, map[string]string{"If-None-Match": `"` + d.SHA256 + `"`})
		if resp.StatusCode != http.StatusNotModified {
			t.Errorf("status %d, want 304", resp.StatusCode)
		}
	})
	t.Run("delta not served", func(t *testing.T) {
		resp, body := get(t, http.MethodGet, strings.Replace(link, "/full?", "/delta?", 1), nil)
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), "delta") {
			t.Errorf("delta: status %d, %s", resp.StatusCode, body)
		}
	})
	t.Run("unknown checksum", func(t *testing.T) {
		other := ts.URL + "/mfp/" + protocol.DownloadLink(appID, platform, appVersion, a.Checksum+1, protocol.TypeFull, 0)
		resp, _ := get(t, http.MethodGet, other, nil)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("status %d, want 404", resp.StatusCode)
		}
	})
	t.Run("made-up type", func(t *testing.T) {
		for _, madeUp := range []string{"aaa", "bbb"} {
			resp, _ := get(t, http.MethodGet, strings.Replace(link, "/full?", "/"+madeUp+"?", 1), nil)
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("type %s: status %d, want 404", madeUp, resp.StatusCode)
			}
		}
	})
	t.Run("metrics", func(t *testing.T) {
		_, body := get(t, http.MethodGet, ts.URL+"/metrics", nil)
		for _, unwanted := range []string{`type="aaa"`, `type="bbb"`} {
			if strings.Contains(string(body), unwanted) {
				t.Errorf("metrics have a series for a made-up type: %s", unwanted)
			}
		}
		for _, want := range []string{
			`mfpdev_downloads_total{code="404",type="unknown"} 2`,
			`mfpdev_update_checks_total{reason="up-to-date",result="no-update"} 1`,
			`mfpdev_update_checks_total{reason="plugin-version-mismatch",result="no-update"} 1`,
			`mfpdev_update_checks_total{reason="no-web-resources",result="no-update"} 1`,
			`mfpdev_uploads_total{result="success"} 1`,
			`mfpdev_downloads_total{code="206",type="full"} 1`,
			`mfpdev_download_bytes_total`,
		} {
			if !strings.Contains(string(body), want) {
				t.Errorf("metrics lack %s", want)
			}
		}
	})
}

func TestUploadRejections(t *testing.T) {
	dataDir := t.TempDir()
	ts := startServer(t, dataDir, func(c *server.Config) { c.MaxUploadSize = 64 << 10 })
	valid := buildArchive(t, appID, platform, appVersion, pluginVersion, sampleFiles("v1"), nil)
	url := webURL(ts, "mfp", appID, platform, appVersion)

	tooBig := make([]byte, 65<<10)
	copy(tooBig, valid.Data)

	tests := []struct {
		name       string
		req        *http.Request
		wantStatus int
		wantDetail string
	}{
		{"missing credentials", uploadRequest(t, url, "", "", valid.Data), http.StatusUnauthorized, "credentials missing"},
		{"wrong password", uploadRequest(t, url, "admin", "wrong", valid.Data), http.StatusUnauthorized, "invalid user name or password"},
		{"unknown user", uploadRequest(t, url, "nobody", "admin-password", valid.Data), http.StatusUnauthorized, "invalid user name or password"},
		{"monitor role", uploadRequest(t, url, "monitor", "monitor-password", valid.Data), http.StatusForbidden, "may not upload"},
		{"unknown runtime", uploadRequest(t, webURL(ts, "other", appID, platform, appVersion), "deployer", "deployer-password", valid.Data), http.StatusNotFound, `runtime "other" not found`},
		{"oversize", uploadRequest(t, url, "deployer", "deployer-password", tooBig), http.StatusRequestEntityTooLarge, "upload limit of 64 KiB (65536 bytes)"},
		{"app id mismatch", uploadRequest(t, webURL(ts, "mfp", "com.example.other", platform, appVersion), "deployer", "deployer-password", valid.Data), http.StatusBadRequest, `app id is "com.example.app" but the upload path names "com.example.other"`},
		{"version mismatch", uploadRequest(t, webURL(ts, "mfp", appID, platform, "2.0.0"), "deployer", "deployer-password", valid.Data), http.StatusBadRequest, `app version is "1.0.0"`},
		{"platform mismatch", uploadRequest(t, webURL(ts, "mfp", appID, "ios", appVersion), "deployer", "deployer-password", valid.Data), http.StatusBadRequest, `platform is "android"`},
		{"garbage body", uploadRequest(t, url, "deployer", "deployer-password", []byte("this is not a zip file")), http.StatusBadRequest, ""},
		{"empty body", uploadRequest(t, url, "deployer", "deployer-password", nil), http.StatusBadRequest, "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, ar := doAdmin(t, tt.req)
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d (%+v)", resp.StatusCode, tt.wantStatus, ar.Transaction)
			}
			if ar.OK || ar.Transaction == nil || ar.Transaction.Status != "FAILURE" || len(ar.Transaction.Errors) == 0 {
				t.Fatalf("response = %+v, want ok false with errors", ar)
			}
			if !strings.Contains(fmt.Sprint(ar.Transaction.Errors), tt.wantDetail) {
				t.Errorf("errors %+v lack %q", ar.Transaction.Errors, tt.wantDetail)
			}
			if tt.wantStatus == http.StatusUnauthorized && resp.Header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}

	t.Run("two file parts", func(t *testing.T) {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		for i := 0; i < 2; i++ {
			part, err := mw.CreateFormFile("file", fmt.Sprintf("a%d.zip", i))
			if err != nil {
				t.Fatal(err)
			}
			part.Write(valid.Data)
		}
		mw.Close()
		req, _ := http.NewRequest(http.MethodPost, url, &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.SetBasicAuth("deployer", "deployer-password")
		resp, ar := doAdmin(t, req)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(fmt.Sprint(ar.Transaction.Errors), "more than one file part") {
			t.Errorf("status %d, %+v", resp.StatusCode, ar.Transaction)
		}
	})
	t.Run("oversize raw body", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(tooBig))
		req.Header.Set("Content-Type", "application/zip")
		req.SetBasicAuth("deployer", "deployer-password")
		resp, ar := doAdmin(t, req)
		if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(fmt.Sprint(ar.Transaction.Errors), "--max-upload-size") {
			t.Errorf("status %d, %+v", resp.StatusCode, ar.Transaction)
		}
	})
	t.Run("text content type", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(valid.Data))
		req.Header.Set("Content-Type", "text/plain")
		req.SetBasicAuth("deployer", "deployer-password")
		resp, _ := doAdmin(t, req)
		if resp.StatusCode != http.StatusUnsupportedMediaType {
			t.Errorf("status %d, want 415", resp.StatusCode)
		}
	})
	t.Run("invalid archive lists problems", func(t *testing.T) {
		broken := bytes.Clone(valid.Data)
		// Drop the 512-byte comment's last byte: the comment is no longer
		// the end of the file.
		broken = broken[:len(broken)-1]
		resp, ar := doAdmin(t, uploadRequest(t, url, "deployer", "deployer-password", broken))
		if resp.StatusCode != http.StatusBadRequest || len(ar.Transaction.Errors) == 0 {
			t.Errorf("status %d, %+v", resp.StatusCode, ar.Transaction)
		}
	})

	t.Run("nothing stored", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.SetBasicAuth("monitor", "monitor-password")
		resp, _ := doAdmin(t, req)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET after rejected uploads: status %d, want 404", resp.StatusCode)
		}
		assertNoFiles(t, filepath.Join(dataDir, "blobs", "sha256"))
		assertNoFiles(t, filepath.Join(dataDir, "tmp"))
	})
	t.Run("no password in logs", func(t *testing.T) {
		logs := ts.Log.String()
		for _, secret := range []string{"admin-password", "deployer-password", "monitor-password", "Authorization", "Basic "} {
			if strings.Contains(logs, secret) {
				t.Errorf("logs contain %q", secret)
			}
		}
		if !strings.Contains(logs, "upload rejected") {
			t.Error("logs lack the rejected uploads")
		}
	})
}

func assertNoFiles(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			t.Errorf("file left behind: %s", path)
		}
		return nil
	})
}

func TestRawUploadKeepsHistory(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil)
	first := buildArchive(t, appID, platform, appVersion, pluginVersion, sampleFiles("v1"), nil)
	second := buildArchive(t, appID, platform, appVersion, pluginVersion, sampleFiles("v2"), nil)
	url := webURL(ts, "mfp", appID, platform, appVersion)

	for _, a := range []archive{first, second} {
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(a.Data))
		req.Header.Set("Content-Type", "application/zip")
		req.SetBasicAuth("deployer", "deployer-password")
		resp, ar := doAdmin(t, req)
		if resp.StatusCode != http.StatusOK || ar.Transaction.Type != "UPLOAD_ARTIFACT" || ar.Transaction.Status != "SUCCESS" {
			t.Fatalf("raw upload: status %d, %+v", resp.StatusCode, ar)
		}
	}

	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.SetBasicAuth("monitor", "monitor-password")
	resp, ar := doAdmin(t, req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET web: status %d", resp.StatusCode)
	}
	if ar.Deployment == nil || ar.Deployment.Checksum != second.Checksum || !ar.Deployment.Active {
		t.Errorf("active deployment = %+v, want checksum %d", ar.Deployment, second.Checksum)
	}
	if len(ar.History) != 1 || ar.History[0].Checksum != first.Checksum || ar.History[0].Active {
		t.Errorf("history = %+v, want the first upload, inactive", ar.History)
	}

	// A device that got the first link before the second upload can still
	// finish its download.
	oldLink := ts.URL + "/mfp/" + protocol.DownloadLink(appID, platform, appVersion, first.Checksum, protocol.TypeFull, 0)
	dl, body := get(t, http.MethodGet, oldLink, nil)
	if dl.StatusCode != http.StatusOK || !bytes.Equal(body, first.Data) {
		t.Errorf("download of the superseded archive: status %d", dl.StatusCode)
	}

	_, cr, raw := check(t, ts, checkRequest(first.Checksum))
	if !cr.UpdateAvailable || cr.Checksum != second.Checksum {
		t.Errorf("check with the first checksum: %s", raw)
	}
}

func TestRestartKeepsDeployment(t *testing.T) {
	dataDir := t.TempDir()
	a := buildArchive(t, appID, platform, appVersion, pluginVersion, sampleFiles("v1"), nil)
	ts := startServer(t, dataDir, nil)
	upload(t, ts, a, appID, platform, appVersion)
	ts.stop()

	// Leftovers of a crash: an upload temp file and a blob without a row.
	orphan := filepath.Join(dataDir, "blobs", "sha256", "ab", strings.Repeat("ab", 32))
	leftover := filepath.Join(dataDir, "tmp", "upload-123.zip")
	for _, p := range []string{orphan, leftover} {
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	ts = startServer(t, dataDir, nil)
	_, cr, raw := check(t, ts, checkRequest(1))
	if !cr.UpdateAvailable {
		t.Fatalf("check after restart: %s", raw)
	}
	resp, body := get(t, http.MethodGet, ts.URL+"/mfp/"+cr.DirectUpdateLink, nil)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, a.Data) {
		t.Errorf("download after restart: status %d, %d bytes", resp.StatusCode, len(body))
	}
	for _, p := range []string{orphan, leftover} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s survived the restart: %v", p, err)
		}
	}
}

func TestCheckRejectsBadRequests(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil)

	tests := []struct {
		name string
		body string
		want string
	}{
		{"malformed JSON", `{"appId":`, "not valid JSON"},
		{"missing fields", `{"appId":"a","checksum":1}`, "platform, appVersion, pluginVersion"},
		{"missing checksum", `{"appId":"a","platform":"android","appVersion":"1.0","pluginVersion":"8.0.1"}`, "checksum"},
		{"checksum as string", `{"appId":"a","platform":"android","appVersion":"1.0","checksum":"12","pluginVersion":"8.0.1"}`, `field "checksum"`},
		{"invalid plugin version", `{"appId":"a","platform":"android","appVersion":"1.0","checksum":1,"pluginVersion":"eight"}`, `field "pluginVersion"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Post(ts.URL+protocol.CheckPath("mfp"), "application/json", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct{ Error string }
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("status = %d, want 400", resp.StatusCode)
			}
			if !strings.Contains(body.Error, tt.want) {
				t.Errorf("error %q lacks %q", body.Error, tt.want)
			}
		})
	}

	t.Run("unknown runtime", func(t *testing.T) {
		resp, err := http.Post(ts.URL+protocol.CheckPath("nope"), "application/json", strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("status = %d, want 404", resp.StatusCode)
		}
	})
}

func TestAdminListsAndDelete(t *testing.T) {
	ts := startServer(t, t.TempDir(), func(c *server.Config) { c.Runtimes = []string{"mfp", "staging"} })
	a := buildArchive(t, appID, platform, appVersion, pluginVersion, sampleFiles("v1"), nil)
	upload(t, ts, a, appID, platform, appVersion)
	admin := ts.URL + "/mfpadmin/management-apis/2.0"

	do := func(method, url, user string) (*http.Response, protocol.AdminResponse) {
		req, _ := http.NewRequest(method, url, nil)
		req.SetBasicAuth(user, user+"-password")
		return doAdmin(t, req)
	}

	resp, ar := do(http.MethodGet, admin+"/runtimes", "monitor")
	if resp.StatusCode != http.StatusOK || len(ar.Runtimes) != 2 || ar.Runtimes[1].Name != "staging" {
		t.Errorf("runtimes: status %d, %+v", resp.StatusCode, ar.Runtimes)
	}
	resp, ar = do(http.MethodGet, admin+"/runtimes/mfp/applications", "monitor")
	if resp.StatusCode != http.StatusOK || len(ar.Applications) != 1 || ar.Applications[0].Versions[0] != appVersion {
		t.Errorf("applications: status %d, %+v", resp.StatusCode, ar.Applications)
	}
	resp, _ = do(http.MethodGet, admin+"/runtimes/nope/applications", "monitor")
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("applications of an unknown runtime: status %d, want 404", resp.StatusCode)
	}

	url := webURL(ts, "mfp", appID, platform, appVersion)
	resp, _ = do(http.MethodDelete, url, "deployer")
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("DELETE as deployer: status %d, want 403", resp.StatusCode)
	}
	resp, ar = do(http.MethodDelete, url, "admin")
	if resp.StatusCode != http.StatusOK || ar.Transaction.Type != "DELETE_ARTIFACT" {
		t.Errorf("DELETE as admin: status %d, %+v", resp.StatusCode, ar.Transaction)
	}
	resp, _ = do(http.MethodDelete, url, "admin")
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("second DELETE: status %d, want 404", resp.StatusCode)
	}

	_, cr, raw := check(t, ts, checkRequest(1))
	if cr.UpdateAvailable || cr.Reason != protocol.ReasonNoWebResources {
		t.Errorf("check after DELETE: %s", raw)
	}
	resp, ar = do(http.MethodGet, url, "monitor")
	if resp.StatusCode != http.StatusOK || ar.Deployment != nil || len(ar.History) != 1 {
		t.Errorf("GET after DELETE: status %d, deployment %+v, history %d", resp.StatusCode, ar.Deployment, len(ar.History))
	}
}

func TestSignedUploads(t *testing.T) {
	trusted, err := signing.Generate(2048)
	if err != nil {
		t.Fatal(err)
	}
	other, err := signing.Generate(2048)
	if err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, t.TempDir(), func(c *server.Config) { c.TrustedKeys = []*rsa.PublicKey{&trusted.PublicKey} })
	url := webURL(ts, "mfp", appID, platform, appVersion)

	for _, tt := range []struct {
		name       string
		signer     *rsa.PrivateKey
		wantStatus int
	}{
		{"unsigned", nil, http.StatusBadRequest},
		{"other key", other, http.StatusBadRequest},
		{"trusted key", trusted, http.StatusOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var a archive
			if tt.signer == nil {
				a = buildArchive(t, appID, platform, appVersion, pluginVersion, sampleFiles(tt.name), nil)
			} else {
				a = buildArchive(t, appID, platform, appVersion, pluginVersion, sampleFiles(tt.name), tt.signer)
			}
			resp, ar := doAdmin(t, uploadRequest(t, url, "deployer", "deployer-password", a.Data))
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d (%+v)", resp.StatusCode, tt.wantStatus, ar.Transaction)
			}
			if tt.wantStatus != http.StatusOK && !strings.Contains(strings.ToLower(fmt.Sprint(ar.Transaction.Errors)), "sign") {
				t.Errorf("errors %+v do not mention the signature", ar.Transaction.Errors)
			}
			if tt.wantStatus == http.StatusOK && (ar.Deployment == nil || !ar.Deployment.Signed) {
				t.Errorf("deployment = %+v, want signed", ar.Deployment)
			}
		})
	}
}

func TestDownloadBaseURL(t *testing.T) {
	ts := startServer(t, t.TempDir(), func(c *server.Config) { c.DownloadBaseURL = "https://cdn.example.com/" })
	a := buildArchive(t, appID, platform, appVersion, pluginVersion, sampleFiles("v1"), nil)
	upload(t, ts, a, appID, platform, appVersion)

	_, cr, raw := check(t, ts, checkRequest(1))
	want := "https://cdn.example.com/mfp/" + protocol.DownloadLink(appID, platform, appVersion, a.Checksum, protocol.TypeFull, 0)
	if cr.DirectUpdateLink != want {
		t.Errorf("link = %q, want %q (%s)", cr.DirectUpdateLink, want, raw)
	}
}

func TestHealthz(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil)
	resp, body := get(t, http.MethodGet, ts.URL+"/healthz", nil)
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != "ok" {
		t.Errorf("healthz: status %d, %q", resp.StatusCode, body)
	}
}

func TestNewRejectsConfig(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  server.Config
		want string
	}{
		{"no data folder", server.Config{}, "data folder"},
		{"runtime with slash", server.Config{DataDir: t.TempDir(), Runtimes: []string{"a/b"}}, `runtime "a/b"`},
		{"runtime named like admin", server.Config{DataDir: t.TempDir(), Runtimes: []string{"mfpadmin"}}, "taken"},
		{"duplicate user", server.Config{DataDir: t.TempDir(), Users: append(testUsers(t), testUsers(t)[0])}, "defined twice"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := server.New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// startSlowUpload sends the first bytes of a raw upload and returns once
// the server has started spooling it; the caller writes the rest to the
// returned pipe. The response arrives on the channel.
func startSlowUpload(t *testing.T, ts *testServer, dataDir string, data []byte) (*io.PipeWriter, <-chan *http.Response) {
	t.Helper()
	pr, pw := io.Pipe()
	req, _ := http.NewRequest(http.MethodPost, webURL(ts, "mfp", appID, platform, appVersion), pr)
	req.Header.Set("Content-Type", "application/zip")
	req.SetBasicAuth("deployer", "deployer-password")

	responses := make(chan *http.Response, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			close(responses) // the receiver checks for a nil response
			return
		}
		resp.Body.Close()
		responses <- resp
	}()
	if _, err := pw.Write(data[:100]); err != nil {
		t.Fatal(err)
	}

	// Wait, boundedly, until the handler has created its temporary file.
	for i := 0; i < 1000; i++ {
		if matches, _ := filepath.Glob(filepath.Join(dataDir, "tmp", "upload-*")); len(matches) > 0 {
			return pw, responses
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the upload handler never started spooling")
	return nil, nil
}

func TestServeFinishesRunningUpload(t *testing.T) {
	dataDir := t.TempDir()
	ts := startServer(t, dataDir, nil)
	a := buildArchive(t, appID, platform, appVersion, pluginVersion, sampleFiles("v1"), nil)
	pw, responses := startSlowUpload(t, ts, dataDir, a.Data)

	stopped := make(chan error, 1)
	go func() { stopped <- ts.shutdown() }()
	if _, err := pw.Write(a.Data[100:]); err != nil {
		t.Fatal(err)
	}
	pw.Close()

	resp := <-responses
	if resp == nil || resp.StatusCode != http.StatusOK {
		t.Errorf("upload running during shutdown: %+v", resp)
	}
	if err := <-stopped; err != nil {
		t.Errorf("Serve after a graceful stop: %v", err)
	}
}

func TestServeCutsOffAfterTimeout(t *testing.T) {
	dataDir := t.TempDir()
	ts := startServer(t, dataDir, func(c *server.Config) { c.ShutdownTimeout = 50 * time.Millisecond })
	a := buildArchive(t, appID, platform, appVersion, pluginVersion, sampleFiles("v1"), nil)
	pw, responses := startSlowUpload(t, ts, dataDir, a.Data)

	err := ts.shutdown()
	if err == nil || !strings.Contains(err.Error(), "--shutdown-timeout") {
		t.Errorf("Serve with a stuck request: err = %v, want the shutdown timeout named", err)
	}
	pw.CloseWithError(errors.New("test over"))
	<-responses
}

func TestConcurrentUploadsKeepOneActive(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil)
	archives := []archive{
		buildArchive(t, appID, platform, appVersion, pluginVersion, sampleFiles("a"), nil),
		buildArchive(t, appID, platform, appVersion, pluginVersion, sampleFiles("b"), nil),
		buildArchive(t, appID, platform, appVersion, pluginVersion, sampleFiles("c"), nil),
	}
	url := webURL(ts, "mfp", appID, platform, appVersion)

	statuses := make(chan int, len(archives))
	for _, a := range archives {
		go func() {
			req := uploadRequest(t, url, "deployer", "deployer-password", a.Data)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				statuses <- 0
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		}()
	}
	for range archives {
		if status := <-statuses; status != http.StatusOK {
			t.Errorf("concurrent upload: status %d", status)
		}
	}

	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.SetBasicAuth("monitor", "monitor-password")
	_, ar := doAdmin(t, req)
	if ar.Deployment == nil || !ar.Deployment.Active {
		t.Fatalf("no active deployment after concurrent uploads: %+v", ar)
	}
	if len(ar.History) != len(archives)-1 {
		t.Errorf("history has %d entries, want %d", len(ar.History), len(archives)-1)
	}
	for _, d := range ar.History {
		if d.Active {
			t.Errorf("history entry %d is active", d.Checksum)
		}
	}
}

func TestSameArchiveTwiceAddsNoHistory(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil)
	first := buildArchive(t, appID, platform, appVersion, pluginVersion, sampleFiles("v1"), nil)
	second := buildArchive(t, appID, platform, appVersion, pluginVersion, sampleFiles("v2"), nil)
	url := webURL(ts, "mfp", appID, platform, appVersion)

	for _, a := range []archive{first, second, second} {
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(a.Data))
		req.Header.Set("Content-Type", "application/zip")
		req.SetBasicAuth("deployer", "deployer-password")
		resp, ar := doAdmin(t, req)
		if resp.StatusCode != http.StatusOK || ar.Deployment == nil || ar.Deployment.Checksum != a.Checksum {
			t.Fatalf("upload: status %d, %+v", resp.StatusCode, ar)
		}
	}

	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.SetBasicAuth("monitor", "monitor-password")
	_, ar := doAdmin(t, req)
	if ar.Deployment == nil || ar.Deployment.Checksum != second.Checksum {
		t.Errorf("active deployment = %+v, want checksum %d", ar.Deployment, second.Checksum)
	}
	if len(ar.History) != 1 {
		t.Errorf("history has %d deployments, want 1 (the repeated upload adds none): %+v", len(ar.History), ar.History)
	}
}

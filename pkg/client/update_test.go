package client

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/mfpdev/mfpdev/pkg/protocol"
)

var (
	filesV1 = map[string]string{
		"index.html":    "<h1>version 1</h1>\n",
		"js/index.js":   "console.log('one');\r\n",
		"css/index.css": "body { color: black; }\n",
		"plugins/cordova-plugin-mfp/worklight/worklight.js": "var WL = {};\n",
	}
	filesV2 = map[string]string{
		"index.html":  "<h1>version 2</h1>\n",
		"js/index.js": "console.log('two');\r\n",
		"img/new.txt": "added in version 2\n",
		"plugins/cordova-plugin-mfp/worklight/worklight.js": "var WL = {};\n",
	}
	filesV3 = map[string]string{
		"index.html": "<h1>version 3</h1>\n",
		"plugins/cordova-plugin-mfp/worklight/worklight.js": "var WL = {v: 3};\n",
	}
)

// deviceFolder returns a www folder holding files as a prepared platform
// folder does, and its checksum.
func deviceFolder(t *testing.T, files map[string]string) (string, uint32) {
	t.Helper()
	www := filepath.Join(t.TempDir(), "www")
	return www, prepareTree(t, www, files)
}

// expectedTree returns the snapshot of files prepared as a platform folder.
func expectedTree(t *testing.T, files map[string]string) map[string]string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "www")
	prepareTree(t, dir, files)
	return snapshot(t, dir)
}

func mustUpdate(t *testing.T, d *Device, want Status) *UpdateResult {
	t.Helper()
	res, err := d.Update(context.Background(), nil)
	if res == nil {
		t.Fatalf("Update returned a nil result (error %v)", err)
	}
	if res.Status != want {
		t.Fatalf("Update status = %s, want %s (error: %v)", res.Status, want, err)
	}
	if want.Failed() != (err != nil) {
		t.Fatalf("Update error = %v with status %s", err, res.Status)
	}
	var failure *Failure
	if err != nil && (!errors.As(err, &failure) || failure.Status != want) {
		t.Fatalf("Update error = %v, want a *Failure with status %s", err, want)
	}
	return res
}

// assertStateClean checks that the state folder holds nothing but the
// lock and state.json.
func assertStateClean(t *testing.T, www string) {
	t.Helper()
	entries, err := os.ReadDir(stateDir(www))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != lockName && e.Name() != stateName {
			t.Errorf("state folder holds %s after the update", e.Name())
		}
	}
}

func TestUpdateFullLoop(t *testing.T) {
	srv := startServer(t)
	www, sumV1 := deviceFolder(t, filesV1)
	d := newDevice(www, srv.URL)

	v2 := buildArchive(t, filesV2, testPlugin, nil)
	srv.push(t, v2)
	res := mustUpdate(t, d, StatusSuccess)
	if res.PreviousChecksum != sumV1 || res.Checksum != v2.Checksum {
		t.Errorf("checksums = %d → %d, want %d → %d", res.PreviousChecksum, res.Checksum, sumV1, v2.Checksum)
	}
	if res.BytesDownloaded != int64(len(v2.Bytes)) {
		t.Errorf("BytesDownloaded = %d, want %d", res.BytesDownloaded, len(v2.Bytes))
	}
	if res.Type != protocol.TypeFull {
		t.Errorf("Type = %q, want %q", res.Type, protocol.TypeFull)
	}
	assertSameTree(t, snapshot(t, www), expectedTree(t, filesV2))
	assertStateClean(t, www)

	// The new checksum.js carries the server's checksum, so there is no
	// update loop.
	resp, err := d.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if resp.UpdateAvailable || resp.Reason != protocol.ReasonUpToDate {
		t.Fatalf("check after update = %+v, want up-to-date", resp)
	}
	res = mustUpdate(t, d, StatusUpToDate)
	if res.BytesDownloaded != 0 || res.Reason != protocol.ReasonUpToDate {
		t.Errorf("second update = %+v, want up-to-date with nothing downloaded", res)
	}

	v3 := buildArchive(t, filesV3, testPlugin, nil)
	srv.push(t, v3)
	res = mustUpdate(t, d, StatusSuccess)
	if res.PreviousChecksum != v2.Checksum || res.Checksum != v3.Checksum {
		t.Errorf("checksums = %d → %d, want %d → %d", res.PreviousChecksum, res.Checksum, v2.Checksum, v3.Checksum)
	}
	assertSameTree(t, snapshot(t, www), expectedTree(t, filesV3))
	assertStateClean(t, www)
}

func TestUpdatePluginVersionMismatch(t *testing.T) {
	srv := startServer(t)
	www, sumV1 := deviceFolder(t, filesV1)
	srv.push(t, buildArchive(t, filesV2, "8.1.2024082705", nil))
	before := snapshot(t, www)

	res := mustUpdate(t, newDevice(www, srv.URL), StatusUpToDate)
	if res.Reason != protocol.ReasonPluginVersionMismatch {
		t.Errorf("Reason = %q, want %q", res.Reason, protocol.ReasonPluginVersionMismatch)
	}
	if res.Message == "" {
		t.Error("Message is empty, want the server's explanation")
	}
	if res.DeployedPluginVersion != "8.1.2024082705" || res.DevicePluginVersion != testPlugin {
		t.Errorf("plugin versions = %q (deployed), %q (device)", res.DeployedPluginVersion, res.DevicePluginVersion)
	}
	if res.BytesDownloaded != 0 || res.Checksum != sumV1 {
		t.Errorf("result = %+v, want nothing downloaded and checksum %d", res, sumV1)
	}
	if _, err := os.Stat(filepath.Join(stateDir(www), downloadName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("download file exists after a mismatch: %v", err)
	}
	assertSameTree(t, snapshot(t, www), before)
}

func TestUpdateNoWebResources(t *testing.T) {
	srv := startServer(t)
	www, _ := deviceFolder(t, filesV1)

	res := mustUpdate(t, newDevice(www, srv.URL), StatusUpToDate)
	if res.Reason != protocol.ReasonNoWebResources {
		t.Errorf("Reason = %q, want %q", res.Reason, protocol.ReasonNoWebResources)
	}
}

func TestUpdateResumesCutDownload(t *testing.T) {
	v2 := buildArchive(t, filesV2, testPlugin, nil)
	cut := len(v2.Bytes) / 2
	fake := startFake(t, v2, serveCut(v2.Bytes, cut))
	www, _ := deviceFolder(t, filesV1)
	before := snapshot(t, www)
	d := newDevice(www, fake.URL)

	res := mustUpdate(t, d, StatusFailureNetworkProblem)
	if res.BytesDownloaded != int64(cut) {
		t.Errorf("BytesDownloaded = %d, want %d", res.BytesDownloaded, cut)
	}
	partial, err := os.ReadFile(filepath.Join(stateDir(www), downloadName))
	if err != nil {
		t.Fatal(err)
	}
	if string(partial) != string(v2.Bytes[:cut]) {
		t.Fatalf("partial download has %d bytes, want the archive's first %d", len(partial), cut)
	}
	assertSameTree(t, snapshot(t, www), before)

	fake.setServe(serveArchive(v2.Bytes))
	res = mustUpdate(t, d, StatusSuccess)
	if res.BytesDownloaded != int64(len(v2.Bytes)-cut) {
		t.Errorf("BytesDownloaded = %d, want the remaining %d", res.BytesDownloaded, len(v2.Bytes)-cut)
	}
	reqs := fake.archiveRequests()
	if got := reqs[len(reqs)-1].Header.Get("Range"); got != "bytes="+itoa(cut)+"-" {
		t.Errorf("resumed request Range = %q, want bytes=%d-", got, cut)
	}
	assertSameTree(t, snapshot(t, www), expectedTree(t, filesV2))
	assertStateClean(t, www)
}

func TestUpdateRestartsWhenRangeIgnored(t *testing.T) {
	v2 := buildArchive(t, filesV2, testPlugin, nil)
	fake := startFake(t, v2, serveCut(v2.Bytes, 100))
	www, _ := deviceFolder(t, filesV1)
	d := newDevice(www, fake.URL)
	mustUpdate(t, d, StatusFailureNetworkProblem)

	fake.setServe(serveIgnoringRange(v2.Bytes))
	res := mustUpdate(t, d, StatusSuccess)
	if res.BytesDownloaded != int64(len(v2.Bytes)) {
		t.Errorf("BytesDownloaded = %d, want the whole archive, %d", res.BytesDownloaded, len(v2.Bytes))
	}
	reqs := fake.archiveRequests()
	if got := reqs[len(reqs)-1].Header.Get("Range"); got != "bytes=100-" {
		t.Errorf("second request Range = %q, want bytes=100-", got)
	}
	assertSameTree(t, snapshot(t, www), expectedTree(t, filesV2))
}

func TestUpdateRejectsWrongContentType(t *testing.T) {
	v2 := buildArchive(t, filesV2, testPlugin, nil)
	fake := startFake(t, v2, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(v2.Bytes)
	})
	www, _ := deviceFolder(t, filesV1)
	before := snapshot(t, www)

	res, err := newDevice(www, fake.URL).Update(context.Background(), nil)
	if res.Status != StatusFailureDownloading {
		t.Fatalf("status = %s (%v), want %s", res.Status, err, StatusFailureDownloading)
	}
	if !strings.Contains(err.Error(), "application/octet-stream") {
		t.Errorf("error %q does not name the Content-Type", err)
	}
	assertSameTree(t, snapshot(t, www), before)
}

func TestUpdateRejectsTamperedArchive(t *testing.T) {
	v2 := buildArchive(t, filesV2, testPlugin, nil)
	tampered := append([]byte(nil), v2.Bytes...)
	tampered[len(tampered)/3] ^= 0xff
	fake := startFake(t, v2, serveArchive(tampered))
	www, _ := deviceFolder(t, filesV1)
	before := snapshot(t, www)
	d := newDevice(www, fake.URL)

	mustUpdate(t, d, StatusFailureIntegrity)
	assertSameTree(t, snapshot(t, www), before)
	if fake.lastCheck(t).IntegrityFailure {
		t.Error("the first check reported an integrity failure")
	}
	if _, err := os.Stat(filepath.Join(stateDir(www), downloadName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the tampered download was kept: %v", err)
	}

	// The next check tells the server, and a success clears the flag.
	fake.setServe(serveArchive(v2.Bytes))
	mustUpdate(t, d, StatusSuccess)
	if !fake.lastCheck(t).IntegrityFailure {
		t.Error("the check after FAILURE_INTEGRITY did not send integrityFailure")
	}
	if _, err := d.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	if fake.lastCheck(t).IntegrityFailure {
		t.Error("integrityFailure still sent after SUCCESS")
	}
}

func TestUpdateRejectsArchiveForOtherChecksum(t *testing.T) {
	v2 := buildArchive(t, filesV2, testPlugin, nil)
	v3 := buildArchive(t, filesV3, testPlugin, nil)
	// The server announces v2 but serves v3, with no SHA-256 to catch it
	// early: the archive's own checksum must.
	v2.SHA256 = ""
	fake := startFake(t, v2, serveArchive(v3.Bytes))
	fake.resp.PackedSize = int64(len(v3.Bytes))
	www, _ := deviceFolder(t, filesV1)
	before := snapshot(t, www)

	mustUpdate(t, newDevice(www, fake.URL), StatusFailureIntegrity)
	assertSameTree(t, snapshot(t, www), before)
}

func TestUpdateCorruptZip(t *testing.T) {
	v2 := buildArchive(t, filesV2, testPlugin, nil)
	junk := make([]byte, len(v2.Bytes))
	for i := range junk {
		junk[i] = byte(i)
	}
	// The announced SHA-256 matches the junk, so only unzipping fails.
	v2.SHA256 = sha256Hex(junk)
	fake := startFake(t, v2, serveArchive(junk))
	www, _ := deviceFolder(t, filesV1)
	before := snapshot(t, www)

	mustUpdate(t, newDevice(www, fake.URL), StatusFailureUnzipping)
	assertSameTree(t, snapshot(t, www), before)
}

func TestUpdateNotEnoughSpace(t *testing.T) {
	v2 := buildArchive(t, filesV2, testPlugin, nil)
	fake := startFake(t, v2, serveArchive(v2.Bytes))
	fake.resp.UnpackedSize = 1 << 60
	www, _ := deviceFolder(t, filesV1)

	mustUpdate(t, newDevice(www, fake.URL), StatusFailureNotEnoughSpace)
	if n := len(fake.archiveRequests()); n != 0 {
		t.Errorf("%d download requests, want none before the space check", n)
	}
}

func TestUpdateServerUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close()
	www, _ := deviceFolder(t, filesV1)

	mustUpdate(t, newDevice(www, url), StatusFailureNetworkProblem)
}

func TestUpdateAlreadyInProgress(t *testing.T) {
	v2 := buildArchive(t, filesV2, testPlugin, nil)
	fake := startFake(t, v2, serveArchive(v2.Bytes))
	www, _ := deviceFolder(t, filesV1)
	st, err := openState(www)
	if err != nil {
		t.Fatal(err)
	}
	lock, err := st.tryLock()
	if err != nil {
		t.Fatal(err)
	}

	mustUpdate(t, newDevice(www, fake.URL), StatusFailureAlreadyInProgress)
	lock.unlock()
	mustUpdate(t, newDevice(www, fake.URL), StatusSuccess)
}

func TestUpdateCanceledKeepsPartial(t *testing.T) {
	v2 := buildArchive(t, filesV2, testPlugin, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fake := startFake(t, v2, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", protocol.ZipContentType)
		w.Header().Set("Content-Length", itoa(len(v2.Bytes)))
		w.Write(v2.Bytes[:200])
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	www, _ := deviceFolder(t, filesV1)
	before := snapshot(t, www)

	// The device is cancelled once it has written the first 200 bytes.
	progress := func(done, total int64) {
		if done >= 200 {
			cancel()
		}
	}
	res, err := newDevice(www, fake.URL).Update(ctx, progress)
	if res.Status != StatusCanceled {
		t.Fatalf("status = %s (%v), want %s", res.Status, err, StatusCanceled)
	}
	assertSameTree(t, snapshot(t, www), before)
	info, err := os.Stat(filepath.Join(stateDir(www), downloadName))
	if err != nil {
		t.Fatal(err)
	}
	if info.Size() != 200 {
		t.Errorf("partial download has %d bytes, want 200", info.Size())
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestUpdateResumesFromRealServer(t *testing.T) {
	srv := startServer(t)
	v2 := buildArchive(t, filesV2, testPlugin, nil)
	srv.push(t, v2)
	www, _ := deviceFolder(t, filesV1)

	// A first attempt through a server that breaks the connection leaves
	// the first 1000 bytes; the real server must send the rest with 206.
	fake := startFake(t, v2, serveCut(v2.Bytes, 1000))
	mustUpdate(t, newDevice(www, fake.URL), StatusFailureNetworkProblem)

	res := mustUpdate(t, newDevice(www, srv.URL), StatusSuccess)
	if res.BytesDownloaded != int64(len(v2.Bytes)-1000) {
		t.Errorf("BytesDownloaded = %d, want the remaining %d", res.BytesDownloaded, len(v2.Bytes)-1000)
	}
	assertSameTree(t, snapshot(t, www), expectedTree(t, filesV2))
	assertStateClean(t, www)
}

func TestUpdateDiscardsPartialOfOtherArchive(t *testing.T) {
	v2 := buildArchive(t, filesV2, testPlugin, nil)
	v3 := buildArchive(t, filesV3, testPlugin, nil)
	www, _ := deviceFolder(t, filesV1)
	first := startFake(t, v2, serveCut(v2.Bytes, 300))
	mustUpdate(t, newDevice(www, first.URL), StatusFailureNetworkProblem)

	second := startFake(t, v3, serveArchive(v3.Bytes))
	res := mustUpdate(t, newDevice(www, second.URL), StatusSuccess)
	if got := second.archiveRequests()[0].Header.Get("Range"); got != "" {
		t.Errorf("request for another archive sent Range %q, want none", got)
	}
	if res.BytesDownloaded != int64(len(v3.Bytes)) {
		t.Errorf("BytesDownloaded = %d, want the whole archive, %d", res.BytesDownloaded, len(v3.Bytes))
	}
	assertSameTree(t, snapshot(t, www), expectedTree(t, filesV3))
}

func TestUpdateMissingFolder(t *testing.T) {
	parent := t.TempDir()
	www := filepath.Join(parent, "typo")

	res, err := newDevice(www, "http://127.0.0.1:1").Update(context.Background(), nil)
	if res.Status != StatusFailureUnknown || err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("Update of a missing folder = %s, %v; want FAILURE_UNKNOWN naming the folder", res.Status, err)
	}
	if _, err := os.Stat(stateDir(www)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state folder created for a missing folder: %v", err)
	}
}

func TestUpdateDownloadHTTPError(t *testing.T) {
	v2 := buildArchive(t, filesV2, testPlugin, nil)
	fake := startFake(t, v2, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no archive of com.example.sample has checksum 1", http.StatusNotFound)
	})
	www, _ := deviceFolder(t, filesV1)

	res, err := newDevice(www, fake.URL).Update(context.Background(), nil)
	if res.Status != StatusFailureDownloading {
		t.Fatalf("status = %s (%v), want %s", res.Status, err, StatusFailureDownloading)
	}
	if !strings.Contains(err.Error(), "404") || !strings.Contains(err.Error(), "no archive of") {
		t.Errorf("error %q does not show the status and the server's message", err)
	}
}

func TestUpdateCheckHTTPError(t *testing.T) {
	tests := []struct {
		code int
		want Status
	}{
		{http.StatusServiceUnavailable, StatusFailureNetworkProblem},
		{http.StatusBadRequest, StatusFailureUnknown},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.code), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, "check failed", tt.code)
			}))
			defer srv.Close()
			www, _ := deviceFolder(t, filesV1)

			mustUpdate(t, newDevice(www, srv.URL), tt.want)
		})
	}
}

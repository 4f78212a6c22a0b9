package server_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mfpdev/mfpdev/internal/server"
	"github.com/mfpdev/mfpdev/internal/store"
	"github.com/mfpdev/mfpdev/pkg/bundle"
	"github.com/mfpdev/mfpdev/pkg/client"
	"github.com/mfpdev/mfpdev/pkg/protocol"
	"github.com/mfpdev/mfpdev/pkg/signing"
	"github.com/mfpdev/mfpdev/pkg/webres"
)

// randomText returns n bytes of seeded pseudo-random letters, which
// deflate cannot shrink much, so deltas are clearly smaller than full
// archives.
func randomText(seed uint64, n int) string {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('!' + r.IntN(90))
	}
	return string(b)
}

// deltaFilesV1 is a tree of small and large files.
func deltaFilesV1() map[string]string {
	files := map[string]string{
		"index.html":         "<html><body>v1</body></html>\n",
		"js/app.js":          "console.log('v1');\n",
		"js/obsolete.js":     "// removed in v3\n",
		"js/old-name.js":     randomText(1, 20_000),
		"css/app.css":        "body { color: black; }\n",
		"cordova.js":         "// cordova\n",
		"lib/big.js":         randomText(2, 600_000),
		"cordova_plugins.js": "module.exports = [];\n",
	}
	for i := range 8 {
		files[fmt.Sprintf("vendor/lib%d.js", i)] = randomText(uint64(10+i), 300_000)
	}
	return files
}

// deltaFilesV2 changes index.html and adds a file.
func deltaFilesV2() map[string]string {
	files := deltaFilesV1()
	files["index.html"] = "<html><body>v2</body></html>\n"
	files["js/added-v2.js"] = "// new in v2\n"
	return files
}

// deltaFilesV3 deletes a file, renames one, adds one and changes one byte
// of the large file.
func deltaFilesV3() map[string]string {
	files := deltaFilesV2()
	delete(files, "js/obsolete.js")
	files["js/new-name.js"] = files["js/old-name.js"]
	delete(files, "js/old-name.js")
	files["img/added-v3.svg"] = "<svg/>"
	big := []byte(files["lib/big.js"])
	big[len(big)/2] ^= 1
	files["lib/big.js"] = string(big)
	return files
}

func startDeltaServer(t *testing.T, configure func(*server.Config)) *testServer {
	t.Helper()
	return startServer(t, t.TempDir(), func(cfg *server.Config) {
		cfg.DeltaHistory = server.DefaultDeltaHistory
		cfg.DeltaMinSavings = server.DefaultDeltaMinSavings
		if configure != nil {
			configure(cfg)
		}
	})
}

// newDevice returns a device whose www holds only a checksum.js with a
// checksum no deployment has.
func newDevice(t *testing.T, ts *testServer) *client.Device {
	t.Helper()
	www := filepath.Join(t.TempDir(), "www")
	js := filepath.Join(www, filepath.FromSlash(webres.ChecksumJSPath))
	if err := os.MkdirAll(filepath.Dir(js), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(js, webres.ChecksumJS(1, time.Unix(1700000000, 0)), 0o644); err != nil {
		t.Fatal(err)
	}
	return &client.Device{WWW: www, AppID: appID, Platform: platform, AppVersion: appVersion,
		PluginVersion: pluginVersion, ServerURL: ts.URL}
}

// cloneDevice copies d's www folder to a new device.
func cloneDevice(t *testing.T, d *client.Device) *client.Device {
	t.Helper()
	clone := *d
	clone.WWW = filepath.Join(t.TempDir(), "www")
	if err := os.CopyFS(clone.WWW, os.DirFS(d.WWW)); err != nil {
		t.Fatal(err)
	}
	return &clone
}

// snapshot returns every regular file under dir, path to content.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		files[filepath.ToSlash(rel)] = string(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func sameTree(t *testing.T, got, want map[string]string) {
	t.Helper()
	for p := range want {
		if _, ok := got[p]; !ok {
			t.Errorf("file %s missing", p)
		}
	}
	for p, content := range got {
		w, ok := want[p]
		switch {
		case !ok:
			t.Errorf("file %s should not be there", p)
		case content != w:
			t.Errorf("file %s differs (%d bytes, want %d)", p, len(content), len(w))
		}
	}
}

// update runs the device procedure and fails the test unless it ends
// with SUCCESS and the update type want.
func update(t *testing.T, d *client.Device, want string) *client.UpdateResult {
	t.Helper()
	res, err := d.Update(context.Background(), nil)
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if res.Status != client.StatusSuccess || res.Type != want {
		t.Fatalf("update: status %s, type %q, want SUCCESS with %q", res.Status, res.Type, want)
	}
	return res
}

// prepareDelta makes the server build the delta for d's checksum: one
// check starts the build, which runs in the background.
func prepareDelta(t *testing.T, ts *testServer, d *client.Device) {
	t.Helper()
	if _, err := d.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	ts.Server.WaitDeltaBuilds()
}

func pushFiles(t *testing.T, ts *testServer, files map[string]string) (archive, protocol.Deployment) {
	t.Helper()
	a := buildArchive(t, appID, platform, appVersion, pluginVersion, files, nil)
	return a, upload(t, ts, a, appID, platform, appVersion)
}

func TestDeltaUpdatesFollowThreeVersions(t *testing.T) {
	ts := startDeltaServer(t, nil)
	_, dep1 := pushFiles(t, ts, deltaFilesV1())

	onV1 := newDevice(t, ts)
	update(t, onV1, protocol.TypeFull)
	full1 := snapshot(t, onV1.WWW)
	stayOnV1 := cloneDevice(t, onV1)

	// The upload starts building the delta from the deployment before it,
	// so the first check after the build offers it.
	_, dep2 := pushFiles(t, ts, deltaFilesV2())
	ts.Server.WaitDeltaBuilds()

	offer, err := onV1.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if offer.Type != protocol.TypeDelta || offer.BaseChecksum != dep1.Checksum || offer.Checksum != dep2.Checksum {
		t.Fatalf("offer %+v, want a delta from %d to %d", offer, dep1.Checksum, dep2.Checksum)
	}
	if want := fmt.Sprintf("/%d/delta?", dep2.Checksum); !strings.Contains(offer.DirectUpdateLink, want) ||
		!strings.Contains(offer.DirectUpdateLink, "base="+strconv.FormatUint(uint64(dep1.Checksum), 10)) {
		t.Errorf("link %s does not name both checksums", offer.DirectUpdateLink)
	}
	if offer.PackedSize*10 > dep2.PackedSize {
		t.Errorf("delta is %d bytes, full archive %d: want at most a tenth", offer.PackedSize, dep2.PackedSize)
	}
	res := update(t, onV1, protocol.TypeDelta)
	if res.BytesDownloaded != offer.PackedSize {
		t.Errorf("downloaded %d bytes, want the delta's %d", res.BytesDownloaded, offer.PackedSize)
	}
	onV2 := onV1

	_, dep3 := pushFiles(t, ts, deltaFilesV3())
	fresh := newDevice(t, ts)
	update(t, fresh, protocol.TypeFull)
	want := snapshot(t, fresh.WWW)

	for name, d := range map[string]*client.Device{"v1": stayOnV1, "v2": onV2} {
		prepareDelta(t, ts, d)
		res := update(t, d, protocol.TypeDelta)
		if res.Checksum != dep3.Checksum {
			t.Errorf("device on %s: checksum %d, want %d", name, res.Checksum, dep3.Checksum)
		}
		sameTree(t, snapshot(t, d.WWW), want)
	}

	if maps.Equal(full1, want) {
		t.Fatal("v1 and v3 trees are equal: the test data is wrong")
	}
}

func TestDeltaNotForUnknownOrIntegrityFailure(t *testing.T) {
	ts := startDeltaServer(t, nil)
	_, dep1 := pushFiles(t, ts, deltaFilesV1())
	_, dep2 := pushFiles(t, ts, deltaFilesV2())
	_, _, _ = check(t, ts, checkRequest(dep1.Checksum))
	ts.Server.WaitDeltaBuilds()

	_, resp, _ := check(t, ts, checkRequest(dep1.Checksum))
	if resp.Type != protocol.TypeDelta {
		t.Fatalf("device on the previous deployment: type %q, want delta", resp.Type)
	}

	_, resp, _ = check(t, ts, checkRequest(12345))
	if resp.Type != protocol.TypeFull || resp.SHA256 != dep2.SHA256 {
		t.Errorf("unknown checksum: type %q sha256 %s, want the full archive %s", resp.Type, resp.SHA256, dep2.SHA256)
	}

	req := checkRequest(dep1.Checksum)
	req.IntegrityFailure = true
	_, resp, _ = check(t, ts, req)
	if resp.Type != protocol.TypeFull || resp.SHA256 != dep2.SHA256 {
		t.Errorf("integrity failure: type %q sha256 %s, want the full archive", resp.Type, resp.SHA256)
	}
}

func TestDeltaOneFileChanged(t *testing.T) {
	ts := startDeltaServer(t, nil)
	files := deltaFilesV1()
	pushFiles(t, ts, files)
	d := newDevice(t, ts)
	update(t, d, protocol.TypeFull)

	files["css/app.css"] = "body { color: navy; }\n"
	_, dep2 := pushFiles(t, ts, files)
	fresh := newDevice(t, ts)
	update(t, fresh, protocol.TypeFull)

	prepareDelta(t, ts, d)
	offer, err := d.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	resp, body := get(t, http.MethodGet, ts.URL+"/mfp/"+offer.DirectUpdateLink, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("delta download: status %d: %s", resp.StatusCode, body)
	}
	delta, err := bundle.Read(context.Background(), bytes.NewReader(body), int64(len(body)), bundle.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var shipped []string
	for _, e := range delta.WWWEntries() {
		shipped = append(shipped, e.Path)
	}
	slices.Sort(shipped)
	wantShipped := []string{"css/app.css", webres.FileListName, webres.ChecksumJSPath}
	if !slices.Equal(shipped, wantShipped) {
		t.Errorf("delta ships %q, want %q", shipped, wantShipped)
	}
	if !delta.Delta || delta.Meta.BaseChecksum == nil || delta.Meta.Checksum != dep2.Checksum {
		t.Errorf("delta metadata: delta %v, checksum %d, base %v", delta.Delta, delta.Meta.Checksum, delta.Meta.BaseChecksum)
	}

	update(t, d, protocol.TypeDelta)
	sameTree(t, snapshot(t, d.WWW), snapshot(t, fresh.WWW))
}

func TestDeltaListedFileMissingOnDevice(t *testing.T) {
	ts := startDeltaServer(t, nil)
	pushFiles(t, ts, deltaFilesV1())
	d := newDevice(t, ts)
	update(t, d, protocol.TypeFull)
	pushFiles(t, ts, deltaFilesV2())
	prepareDelta(t, ts, d)

	// css/app.css is unchanged, so ddu.script lists it.
	if err := os.Remove(filepath.Join(d.WWW, "css", "app.css")); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, d.WWW)

	res, err := d.Update(context.Background(), nil)
	if err == nil || res.Status != client.StatusFailureIntegrity {
		t.Fatalf("update: status %s, err %v, want FAILURE_INTEGRITY", res.Status, err)
	}
	if res.Type != protocol.TypeDelta {
		t.Errorf("failed update type %q, want delta", res.Type)
	}
	sameTree(t, snapshot(t, d.WWW), before)

	update(t, d, protocol.TypeFull)
	if !strings.Contains(ts.Log.String(), `"integrityFailure":true`) {
		t.Error("server log has no check with integrityFailure true")
	}
}

func TestDeltaNotMeaningfullySmaller(t *testing.T) {
	ts := startDeltaServer(t, nil)
	files := deltaFilesV1()
	pushFiles(t, ts, files)
	d := newDevice(t, ts)
	update(t, d, protocol.TypeFull)

	// Every large file changes, so the delta is about the full archive.
	for p, content := range files {
		if len(content) > 10_000 {
			files[p] = randomText(uint64(len(p))+99, len(content))
		}
	}
	pushFiles(t, ts, files)
	prepareDelta(t, ts, d)

	update(t, d, protocol.TypeFull)
	if !strings.Contains(ts.Log.String(), "delta not kept") {
		t.Error("server log does not say why the delta was not kept")
	}
}

func TestDeltaMinSavingsSetting(t *testing.T) {
	// The delta ships a changed 6 MB file of about 9 MB, so it saves about
	// a quarter: a minimum of 0% offers it and one of 99% does not.
	for _, tt := range []struct {
		savings int
		want    string
	}{{0, protocol.TypeDelta}, {99, protocol.TypeFull}} {
		t.Run(strconv.Itoa(tt.savings), func(t *testing.T) {
			ts := startDeltaServer(t, func(cfg *server.Config) { cfg.DeltaMinSavings = tt.savings })
			files := deltaFilesV1()
			files["lib/big.js"] = randomText(77, 6_000_000)
			_, dep1 := pushFiles(t, ts, files)
			files["lib/big.js"] = randomText(78, 6_000_000)
			pushFiles(t, ts, files)
			check(t, ts, checkRequest(dep1.Checksum))
			ts.Server.WaitDeltaBuilds()

			_, resp, _ := check(t, ts, checkRequest(dep1.Checksum))
			if resp.Type != tt.want {
				t.Errorf("type %q, want %q", resp.Type, tt.want)
			}
		})
	}
}

func TestDeltaDownloadHeaders(t *testing.T) {
	ts := startDeltaServer(t, nil)
	_, dep1 := pushFiles(t, ts, deltaFilesV1())
	pushFiles(t, ts, deltaFilesV2())
	check(t, ts, checkRequest(dep1.Checksum))
	ts.Server.WaitDeltaBuilds()
	_, offer, _ := check(t, ts, checkRequest(dep1.Checksum))
	if offer.Type != protocol.TypeDelta {
		t.Fatalf("type %q, want delta", offer.Type)
	}
	link := ts.URL + "/mfp/" + offer.DirectUpdateLink

	resp, body := get(t, http.MethodGet, link, nil)
	if resp.StatusCode != http.StatusOK || int64(len(body)) != offer.PackedSize {
		t.Fatalf("GET: status %d, %d bytes, want 200 with %d", resp.StatusCode, len(body), offer.PackedSize)
	}
	if got := resp.Header.Get("ETag"); got != `"`+offer.SHA256+`"` {
		t.Errorf("ETag %s, want the delta's SHA-256 %s", got, offer.SHA256)
	}
	if got := resp.Header.Get("Cache-Control"); !strings.Contains(got, "immutable") {
		t.Errorf("Cache-Control %q, want immutable", got)
	}
	if got := resp.Header.Get("Content-Type"); got != protocol.ZipContentType {
		t.Errorf("Content-Type %q, want %s", got, protocol.ZipContentType)
	}

	resp, rest := get(t, http.MethodGet, link, map[string]string{"Range": "bytes=100-"})
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(rest, body[100:]) {
		t.Errorf("Range: status %d, %d bytes, want 206 with the last %d", resp.StatusCode, len(rest), len(body)-100)
	}
	resp, _ = get(t, http.MethodGet, link, map[string]string{"If-None-Match": `"` + offer.SHA256 + `"`})
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: status %d, want 304", resp.StatusCode)
	}

	unknownBase := protocol.DownloadLink(appID, platform, appVersion, offer.Checksum, protocol.TypeDelta, 7)
	resp, _ = get(t, http.MethodGet, ts.URL+"/mfp/"+unknownBase, nil)
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown base: status %d, want 404", resp.StatusCode)
	}

	_, metrics := get(t, http.MethodGet, ts.URL+"/metrics", nil)
	if !regexp.MustCompile(`(?m)^mfpdev_deltas_served_total 1$`).Match(metrics) {
		t.Errorf("metrics lack one delta served:\n%s", grepLines(metrics, "delta"))
	}
	saved := regexp.MustCompile(`(?m)^mfpdev_delta_bytes_saved_total (\S+)$`).FindSubmatch(metrics)
	if saved == nil {
		t.Fatalf("metrics lack bytes saved:\n%s", grepLines(metrics, "delta"))
	}
	if v, _ := strconv.ParseFloat(string(saved[1]), 64); v <= 0 {
		t.Errorf("bytes saved %s, want more than 0", saved[1])
	}
}

func grepLines(b []byte, word string) string {
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, word) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

func TestDeltaSignedDeployments(t *testing.T) {
	key, err := signing.Generate(2048)
	if err != nil {
		t.Fatal(err)
	}
	push := func(ts *testServer, files map[string]string) protocol.Deployment {
		a := buildArchive(t, appID, platform, appVersion, pluginVersion, files, key)
		return upload(t, ts, a, appID, platform, appVersion)
	}

	t.Run("server without key", func(t *testing.T) {
		dir := t.TempDir()
		ts := startServer(t, dir, func(cfg *server.Config) { cfg.DeltaHistory = 5 })
		dep1 := push(ts, deltaFilesV1())
		push(ts, deltaFilesV2())
		check(t, ts, checkRequest(dep1.Checksum))
		ts.Server.WaitDeltaBuilds()

		_, resp, _ := check(t, ts, checkRequest(dep1.Checksum))
		if resp.Type != protocol.TypeFull {
			t.Errorf("type %q, want full for a signed deployment", resp.Type)
		}
		ts.stop()

		restarted := startServer(t, dir, func(cfg *server.Config) { cfg.DeltaHistory = 5 })
		if log := restarted.Log.String(); !strings.Contains(log, "no --signing-key") || !strings.Contains(log, `"signedDeployments":1`) {
			t.Errorf("start log does not say that signed deployments get full archives:\n%s", log)
		}
	})

	t.Run("server with key", func(t *testing.T) {
		ts := startDeltaServer(t, func(cfg *server.Config) { cfg.Signer = key })
		push(ts, deltaFilesV1())
		d := newDevice(t, ts)
		d.PublicKey = &key.PublicKey
		update(t, d, protocol.TypeFull)
		push(ts, deltaFilesV2())
		prepareDelta(t, ts, d)

		update(t, d, protocol.TypeDelta)
	})

	t.Run("server with another key", func(t *testing.T) {
		other, err := signing.Generate(2048)
		if err != nil {
			t.Fatal(err)
		}
		ts := startDeltaServer(t, func(cfg *server.Config) { cfg.Signer = other })
		push(ts, deltaFilesV1())
		d := newDevice(t, ts)
		d.PublicKey = (*rsa.PublicKey)(&key.PublicKey)
		update(t, d, protocol.TypeFull)
		push(ts, deltaFilesV2())
		prepareDelta(t, ts, d)

		update(t, d, protocol.TypeFull)
		if !strings.Contains(ts.Log.String(), "delta build failed") {
			t.Error("server log does not report the failed delta build")
		}
	})
}

func TestDeltaCacheSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	configure := func(cfg *server.Config) {
		cfg.DeltaHistory = server.DefaultDeltaHistory
		cfg.DeltaMinSavings = server.DefaultDeltaMinSavings
	}
	ts := startServer(t, dir, configure)
	_, dep1 := pushFiles(t, ts, deltaFilesV1())
	pushFiles(t, ts, deltaFilesV2())
	check(t, ts, checkRequest(dep1.Checksum))
	ts.Server.WaitDeltaBuilds()
	ts.stop()

	restarted := startServer(t, dir, configure)
	_, resp, _ := check(t, restarted, checkRequest(dep1.Checksum))
	if resp.Type != protocol.TypeDelta {
		t.Errorf("first check after a restart: type %q, want delta from the cache", resp.Type)
	}
}

func TestDeltaDisabled(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil)
	_, dep1 := pushFiles(t, ts, deltaFilesV1())
	pushFiles(t, ts, deltaFilesV2())
	check(t, ts, checkRequest(dep1.Checksum))
	ts.Server.WaitDeltaBuilds()

	_, resp, _ := check(t, ts, checkRequest(dep1.Checksum))
	if resp.Type != protocol.TypeFull {
		t.Errorf("type %q, want full with DeltaHistory 0", resp.Type)
	}
}

func TestDeltaCacheCleanedAtStart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	configure := func(cfg *server.Config) { cfg.DeltaHistory = server.DefaultDeltaHistory }
	ts := startServer(t, dir, configure)
	_, dep1 := pushFiles(t, ts, deltaFilesV1())
	pushFiles(t, ts, deltaFilesV2())
	check(t, ts, checkRequest(dep1.Checksum))
	ts.Server.WaitDeltaBuilds()
	ts.stop()

	// Delete the base deployment, and leave a delta folder as earlier
	// versions kept it in the data folder.
	legacy := filepath.Join(dir, "deltas", "index")
	if err := os.MkdirAll(legacy, 0o750); err != nil {
		t.Fatal(err)
	}
	meta, err := store.OpenSQLite(ctx, filepath.Join(dir, "metadata.db"))
	if err != nil {
		t.Fatal(err)
	}
	referenced, err := meta.BlobKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(referenced) != 3 {
		t.Errorf("blobs referenced after the build = %v, want both archives and the delta", referenced)
	}
	key := store.AppKey{Runtime: dep1.Runtime, AppID: dep1.AppID, Platform: dep1.Platform, AppVersion: dep1.AppVersion}
	base, err := meta.FindByChecksum(ctx, key, dep1.Checksum)
	if err != nil {
		t.Fatal(err)
	}
	if err := meta.Delete(ctx, base.ID); err != nil {
		t.Fatal(err)
	}
	meta.Close()

	startServer(t, dir, configure).stop()

	if _, err := os.Stat(filepath.Join(dir, "deltas")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("delta folder of earlier versions after restart: err = %v, want it removed", err)
	}
	blobs, err := store.OpenFolder(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := blobs.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 {
		t.Errorf("blobs after restart = %v, want only the target archive: the delta of a deleted base goes", keys)
	}
}

package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/mfpdev/mfpdev/internal/store"
	"github.com/mfpdev/mfpdev/pkg/protocol"
)

// TestReadersDuringConcurrentUploads uploads several archives of one app
// version at once while devices check and download in a loop. Every
// download must be a complete uploaded archive matching the checksum the
// check returned, and afterwards the newest row is the active one with
// every other upload kept as history.
func TestReadersDuringConcurrentUploads(t *testing.T) {
	dataDir := t.TempDir()
	ts := startServer(t, dataDir, nil)
	url := webURL(ts, "mfp", appID, platform, appVersion)

	// Each archive carries 1 MiB of random bytes so that storing it takes
	// long enough for readers to run during the upload.
	checksumOf := make(map[string]uint32) // archive SHA-256 -> checksum
	var archives []archive
	for i := range 4 {
		files := sampleFiles(fmt.Sprint("variant", i))
		files["big.bin"] = noisyText(uint64(i), 1<<20)
		a := buildArchive(t, appID, platform, appVersion, pluginVersion, files, nil)
		sum := sha256.Sum256(a.Data)
		checksumOf[hex.EncodeToString(sum[:])] = a.Checksum
		archives = append(archives, a)
	}

	var uploading atomic.Bool
	uploading.Store(true)
	var readers sync.WaitGroup
	var downloads atomic.Int64
	for range 3 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for i := 0; i < 2000 && (uploading.Load() || i < 5); i++ {
				if err := checkAndDownload(ts, checksumOf); err != nil {
					t.Error(err)
					return
				}
				downloads.Add(1)
			}
		}()
	}

	var uploads sync.WaitGroup
	for _, a := range archives {
		uploads.Add(1)
		go func() {
			defer uploads.Done()
			resp, err := http.DefaultClient.Do(uploadRequest(t, url, "deployer", "deployer-password", a.Data))
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("upload: status %d", resp.StatusCode)
			}
		}()
	}
	uploads.Wait()
	uploading.Store(false)
	readers.Wait()
	t.Logf("%d checks and downloads during the uploads", downloads.Load())

	ts.stop()
	meta, err := store.OpenSQLite(context.Background(), filepath.Join(dataDir, "metadata.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer meta.Close()
	history, err := meta.History(context.Background(), store.AppKey{Runtime: "mfp", AppID: appID, Platform: platform, AppVersion: appVersion})
	if err != nil {
		t.Fatal(err)
	}
	if len(history) != len(archives) {
		t.Fatalf("history has %d deployments, expected %d", len(history), len(archives))
	}
	if !history[0].Active {
		t.Errorf("the newest deployment (id %d) is not the active one", history[0].ID)
	}
	for _, d := range history[1:] {
		if d.Active {
			t.Errorf("older deployment %d is active", d.ID)
		}
	}
}

// checkAndDownload checks as a device on an old checksum and, when an
// update is offered, downloads it and compares it with the upload.
func checkAndDownload(ts *testServer, checksumOf map[string]uint32) error {
	body := `{"appId":"` + appID + `","platform":"` + platform + `","appVersion":"` + appVersion +
		`","checksum":1,"pluginVersion":"` + pluginVersion + `"}`
	resp, err := http.Post(ts.URL+protocol.CheckPath("mfp"), "application/json", strings.NewReader(body))
	if err != nil {
		return err
	}
	var cr protocol.CheckResponse
	err = decodeJSON(resp, &cr)
	if err != nil {
		return err
	}
	if !cr.UpdateAvailable {
		return nil
	}

	dl, err := http.Get(ts.URL + "/mfp/" + cr.DirectUpdateLink)
	if err != nil {
		return err
	}
	defer dl.Body.Close()
	if dl.StatusCode != http.StatusOK {
		return fmt.Errorf("download %s: status %d after the check offered it", cr.DirectUpdateLink, dl.StatusCode)
	}
	h := sha256.New()
	if _, err := io.Copy(h, dl.Body); err != nil {
		return fmt.Errorf("download %s: %w", cr.DirectUpdateLink, err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	checksum, ok := checksumOf[sum]
	switch {
	case !ok:
		return fmt.Errorf("download %s: SHA-256 %s is none of the uploaded archives", cr.DirectUpdateLink, sum)
	case checksum != cr.Checksum:
		return fmt.Errorf("download %s: archive of checksum %d, but the check offered %d", cr.DirectUpdateLink, checksum, cr.Checksum)
	case cr.SHA256 != "" && cr.SHA256 != sum:
		return fmt.Errorf("download %s: SHA-256 %s, but the check announced %s", cr.DirectUpdateLink, sum, cr.SHA256)
	}
	return nil
}

// noisyText returns n printable bytes that depend on seed and compress
// poorly.
func noisyText(seed uint64, n int) string {
	rng := rand.New(rand.NewPCG(seed, 2))
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = letters[rng.IntN(len(letters))]
	}
	return string(b)
}

// decodeJSON reads a 200 response's JSON body into v.
func decodeJSON(resp *http.Response, v any) error {
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: status %d: %s", resp.Request.Method, resp.Request.URL, resp.StatusCode, body)
	}
	return json.Unmarshal(body, v)
}

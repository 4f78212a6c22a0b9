package server_test

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mfpdev/mfpdev/internal/server"
	"github.com/mfpdev/mfpdev/internal/ziptest"
	"github.com/mfpdev/mfpdev/pkg/bundle"
)

// TestUploadRejectsHostileArchives uploads every hostile archive of
// ziptest and expects a 400 naming the entry and the rule, and nothing
// stored.
func TestUploadRejectsHostileArchives(t *testing.T) {
	dataDir := t.TempDir()
	limits := bundle.Limits{MaxEntries: 200, MaxUncompressed: 4 << 20}
	ts := startServer(t, dataDir, func(c *server.Config) { c.Limits = limits })
	url := webURL(ts, "mfp", ziptest.AppID, ziptest.Platform, ziptest.AppVersion)

	valid, err := ziptest.Valid(context.Background(), t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}

	for _, c := range ziptest.Cases(limits) {
		t.Run(c.Name, func(t *testing.T) {
			data, err := c.Make(valid)
			if err != nil {
				t.Fatal(err)
			}

			resp, ar := doAdmin(t, uploadRequest(t, url, "deployer", "deployer-password", data))
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("status = %d, expected 400", resp.StatusCode)
			}
			if ar.OK || ar.Transaction == nil {
				t.Fatalf("response = %+v, expected ok false with a transaction", ar)
			}

			prefix := ""
			if c.Entry != "" {
				prefix = bundle.Problem{Entry: c.Entry}.String()
			}
			found := false
			for _, e := range ar.Transaction.Errors {
				if strings.HasPrefix(e.Details, prefix) && strings.Contains(e.Details, c.Rule) {
					found = true
				}
			}
			if !found {
				t.Errorf("no error naming %q with rule %q in %+v", c.Entry, c.Rule, ar.Transaction.Errors)
			}
		})
	}

	for _, tt := range []struct {
		name, contentType, rule string
		body                    []byte
		status                  int
	}{
		{"multipart without file", "", "no file part", multipartBody(t, 0, valid), http.StatusBadRequest},
		{"multipart with two files", "", "more than one file part", multipartBody(t, 2, valid), http.StatusBadRequest},
		{"multipart without boundary", "multipart/form-data", "multipart", multipartBody(t, 1, valid), http.StatusBadRequest},
		{"text content type", "text/plain", "Content-Type text/plain is not supported", valid, http.StatusUnsupportedMediaType},
		{"missing content type", "-", "Content-Type is missing", valid, http.StatusUnsupportedMediaType},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.SetBasicAuth("deployer", "deployer-password")
			switch tt.contentType {
			case "":
				req.Header.Set("Content-Type", "multipart/form-data; boundary="+testBoundary)
			case "-":
			default:
				req.Header.Set("Content-Type", tt.contentType)
			}

			resp, ar := doAdmin(t, req)
			if resp.StatusCode != tt.status {
				t.Errorf("status = %d, expected %d", resp.StatusCode, tt.status)
			}
			if ar.Transaction == nil || !strings.Contains(fmt.Sprint(ar.Transaction.Errors), tt.rule) {
				t.Errorf("errors lack %q: %+v", tt.rule, ar.Transaction)
			}
		})
	}

	t.Run("nothing stored", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.SetBasicAuth("monitor", "monitor-password")
		resp, _ := doAdmin(t, req)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET after rejected uploads: status %d, expected 404", resp.StatusCode)
		}
		assertNoFiles(t, filepath.Join(dataDir, "blobs", "sha256"))
		assertNoFiles(t, filepath.Join(dataDir, "tmp"))
	})

	t.Run("valid archive accepted", func(t *testing.T) {
		resp, ar := doAdmin(t, uploadRequest(t, url, "deployer", "deployer-password", valid))
		if resp.StatusCode != http.StatusOK || !ar.OK {
			t.Errorf("status = %d, response %+v", resp.StatusCode, ar.Transaction)
		}
	})
}

const testBoundary = "mfpdevtestboundary"

// multipartBody returns a multipart/form-data body with a text field and
// files copies of data as file parts.
func multipartBody(t *testing.T, files int, data []byte) []byte {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if err := mw.SetBoundary(testBoundary); err != nil {
		t.Fatal(err)
	}
	mw.WriteField("comment", "no file here")
	for i := range files {
		part, err := mw.CreateFormFile("file", fmt.Sprintf("a%d.zip", i))
		if err != nil {
			t.Fatal(err)
		}
		part.Write(data)
	}
	mw.Close()
	return body.Bytes()
}

// TestUploadRejectsGigabyteOfZeros uploads a zip of 1 GB of zeros
// (a few megabytes deflated) to a server with the default limits.
func TestUploadRejectsGigabyteOfZeros(t *testing.T) {
	if testing.Short() {
		t.Skip("deflates 1 GB")
	}
	dataDir := t.TempDir()
	ts := startServer(t, dataDir, nil)

	path := filepath.Join(t.TempDir(), "zeros.zip")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := ziptest.WriteZeroBomb(f, 1_000_000_000); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(0, 0); err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	req, err := http.NewRequest(http.MethodPost, webURL(ts, "mfp", ziptest.AppID, ziptest.Platform, ziptest.AppVersion), f)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/zip")
	req.SetBasicAuth("deployer", "deployer-password")

	resp, ar := doAdmin(t, req)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("status = %d, expected 400", resp.StatusCode)
	}
	if ar.Transaction == nil || !strings.Contains(fmt.Sprint(ar.Transaction.Errors), "www/zeros.bin: compression ratio") {
		t.Errorf("errors lack the compression ratio of www/zeros.bin: %+v", ar.Transaction)
	}
	assertNoFiles(t, filepath.Join(dataDir, "blobs", "sha256"))
	assertNoFiles(t, filepath.Join(dataDir, "tmp"))
}

// TestUploadRejectionListsFirstProblems uploads an archive with 500
// invalid entries and expects a response listing the first 50 and a
// count of the rest.
func TestUploadRejectionListsFirstProblems(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil)
	valid, err := ziptest.Valid(context.Background(), t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := ziptest.Entries(valid)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 500 {
		e := entries[0]
		e.Header.Name = fmt.Sprintf("www/../evil%03d.js", i)
		entries = append(entries, e)
	}
	data, err := ziptest.Build(entries, ziptest.BlankComment)
	if err != nil {
		t.Fatal(err)
	}

	url := webURL(ts, "mfp", ziptest.AppID, ziptest.Platform, ziptest.AppVersion)
	resp, ar := doAdmin(t, uploadRequest(t, url, "deployer", "deployer-password", data))
	if resp.StatusCode != http.StatusBadRequest || ar.Transaction == nil {
		t.Fatalf("status = %d, expected 400 with a transaction", resp.StatusCode)
	}
	errs := ar.Transaction.Errors
	if len(errs) != 51 {
		t.Fatalf("%d errors, expected 50 and a count of the rest", len(errs))
	}
	if last := errs[len(errs)-1].Details; !strings.Contains(last, "more problems") || !strings.Contains(last, "mfpdev archive verify") {
		t.Errorf("last error = %q, expected the count of the rest", last)
	}
}

package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/mfpdev/mfpdev/internal/server"
	"github.com/mfpdev/mfpdev/pkg/protocol"
)

// BenchmarkCheck measures the check route's handler (routing, logging
// middleware, decoding, decision, encoding) without the network, so that
// allocs/op shows what each check costs the server.
func BenchmarkCheck(b *testing.B) {
	// Info level, the default of "mfpdev server start": checks log nothing.
	ts := startServer(b, b.TempDir(), func(cfg *server.Config) {
		cfg.Logger = slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	})
	a := buildArchive(b, appID, platform, appVersion, pluginVersion, sampleFiles("bench"), nil)
	upload(b, ts, a, appID, platform, appVersion)
	handler := ts.Server.Handler()

	for _, bc := range []struct {
		name     string
		checksum uint32
		reason   string
	}{
		{"up-to-date", a.Checksum, protocol.ReasonUpToDate},
		{"offer", a.Checksum + 1, protocol.ReasonAvailable},
	} {
		b.Run(bc.name, func(b *testing.B) {
			body, err := json.Marshal(checkRequest(bc.checksum))
			if err != nil {
				b.Fatal(err)
			}

			serve := func() *httptest.ResponseRecorder {
				req := httptest.NewRequest(http.MethodPost, protocol.CheckPath("mfp"), bytes.NewReader(body))
				rec := httptest.NewRecorder()
				handler.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
				return rec
			}
			var resp protocol.CheckResponse
			if err := json.Unmarshal(serve().Body.Bytes(), &resp); err != nil {
				b.Fatal(err)
			}
			if resp.Reason != bc.reason {
				b.Fatalf("reason %q, want %q", resp.Reason, bc.reason)
			}

			b.ReportAllocs()
			for b.Loop() {
				serve()
			}
		})
	}
}

// BenchmarkDownload measures a full archive download over loopback TCP.
// b.SetBytes makes the result a throughput.
func BenchmarkDownload(b *testing.B) {
	ts := startServer(b, b.TempDir(), nil)
	files := sampleFiles("bench")
	// Random bytes, so the archive is as large as the file.
	video := make([]byte, 16<<20)
	rand.NewChaCha8([32]byte{}).Read(video)
	files["media/video.bin"] = string(video)
	a := buildArchive(b, appID, platform, appVersion, pluginVersion, files, nil)
	upload(b, ts, a, appID, platform, appVersion)
	url := ts.URL + "/mfp/" + protocol.DownloadLink(appID, platform, appVersion, a.Checksum, protocol.TypeFull, 0)

	b.SetBytes(int64(len(a.Data)))
	for b.Loop() {
		resp, err := http.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil {
			b.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK || n != int64(len(a.Data)) {
			b.Fatalf("status %d, %d bytes, want 200 and %d", resp.StatusCode, n, len(a.Data))
		}
	}
}

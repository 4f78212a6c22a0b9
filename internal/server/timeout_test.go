package server_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mfpdev/mfpdev/internal/server"
	"github.com/mfpdev/mfpdev/pkg/protocol"
)

// trickle writes data one byte at a time, every interval, until the server
// closes the connection or data runs out, and returns when and how the
// connection ended. The loop is bounded by len(data).
func trickle(t *testing.T, conn net.Conn, data string, interval time.Duration) error {
	t.Helper()
	for i := 0; i < len(data); i++ {
		if _, err := conn.Write([]byte{data[i]}); err != nil {
			return err
		}
		time.Sleep(interval)
	}
	return nil
}

// waitClosed reads from conn until the server closes it, and fails the
// test when that takes longer than limit.
func waitClosed(t *testing.T, conn net.Conn, limit time.Duration) string {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(limit))
	got, err := io.ReadAll(conn)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("server kept the connection open for %s", limit)
	}
	return string(got)
}

// TestSlowHeaderClosed trickles a request header and expects the server to
// close the connection once its header timeout passes.
func TestSlowHeaderClosed(t *testing.T) {
	ts := startServer(t, t.TempDir(), func(c *server.Config) { c.ReadHeaderTimeout = 300 * time.Millisecond })
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	header := "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("a", 200) + "\r\n\r\n"
	go trickle(t, conn, header, 50*time.Millisecond)

	if got := waitClosed(t, conn, 10*time.Second); strings.Contains(got, "200 OK") {
		t.Errorf("server answered a header that took 10 s: %q", got)
	}
}

// TestSlowBodyClosed trickles the body of a device check and of an upload
// and expects the server to stop reading once the body timeout passes.
func TestSlowBodyClosed(t *testing.T) {
	ts := startServer(t, t.TempDir(), func(c *server.Config) { c.BodyTimeout = 300 * time.Millisecond })
	addr := strings.TrimPrefix(ts.URL, "http://")

	for _, tt := range []struct{ name, head string }{
		{"check", "POST " + protocol.CheckPath("mfp") + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n"},
		{"upload", "POST " + protocol.AdminWebPath(protocol.DefaultAdminContext, "mfp", appID, platform, appVersion) +
			" HTTP/1.1\r\nHost: x\r\nContent-Type: application/zip\r\nContent-Length: 400\r\nAuthorization: Basic ZGVwbG95ZXI6ZGVwbG95ZXItcGFzc3dvcmQ=\r\n\r\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := conn.Write([]byte(tt.head)); err != nil {
				t.Fatal(err)
			}
			go trickle(t, conn, strings.Repeat("x", 400), 50*time.Millisecond)

			resp := waitClosed(t, conn, 10*time.Second)
			if status, _, _ := strings.Cut(resp, "\r\n"); !strings.Contains(status, "400") {
				t.Errorf("response %q, expected a 400 after the body timeout", status)
			}
		})
	}
}

// TestSlowBodyKeepsFastClients checks that a body that arrives in time
// is not cut by the body timeout.
func TestSlowBodyKeepsFastClients(t *testing.T) {
	ts := startServer(t, t.TempDir(), func(c *server.Config) { c.BodyTimeout = 2 * time.Second })
	a := buildArchive(t, appID, platform, appVersion, pluginVersion, sampleFiles("v1"), nil)
	upload(t, ts, a, appID, platform, appVersion)

	status, cr, _ := check(t, ts, checkRequest(1))
	if status != http.StatusOK || !cr.UpdateAvailable {
		t.Errorf("check after upload: status %d, %+v", status, cr)
	}

	// A second request on the same connection gets no deadline left over
	// from the first body.
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"appId":"a","platform":"android","appVersion":"1.0.0","checksum":1,"pluginVersion":"8.0.2024082705"}`
	req := "POST " + protocol.CheckPath("mfp") + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n\r\n" + body
	br := bufio.NewReader(conn)
	for i := range 2 {
		if _, err := conn.Write([]byte(req)); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("request %d: status %d", i, resp.StatusCode)
		}
		time.Sleep(2500 * time.Millisecond)
	}
}

// TestStalledDownloadClosed requests a download and never reads it: the
// server must give up once the client accepts nothing for the body
// timeout, instead of holding the connection.
func TestStalledDownloadClosed(t *testing.T) {
	ts := startServer(t, t.TempDir(), func(c *server.Config) { c.BodyTimeout = 300 * time.Millisecond })
	files := sampleFiles("big")
	files["big.bin"] = noisyText(7, 24<<20)
	a := buildArchive(t, appID, platform, appVersion, pluginVersion, files, nil)
	upload(t, ts, a, appID, platform, appVersion)
	_, cr, _ := check(t, ts, checkRequest(1))
	if !cr.UpdateAvailable {
		t.Fatalf("no update offered: %+v", cr)
	}

	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("GET /mfp/" + cr.DirectUpdateLink + " HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}

	// A client that reads nothing keeps its receive window at its initial
	// size, so the server blocks after a few MiB and times out. Then read
	// what it managed to send: less than the archive, then the end.
	time.Sleep(3 * time.Second)
	got := waitClosed(t, conn, 30*time.Second)
	if len(got) >= len(a.Data) {
		t.Errorf("client that stopped reading received all %d bytes", len(got))
	}
	if !strings.HasPrefix(got, "HTTP/1.1 200") {
		t.Errorf("response starts %q, expected a 200", got[:min(len(got), 40)])
	}
}

// TestDownloadCompleteWithBodyTimeout checks that a download larger than
// many 64 KiB steps completes when the client reads it.
func TestDownloadCompleteWithBodyTimeout(t *testing.T) {
	ts := startServer(t, t.TempDir(), func(c *server.Config) { c.BodyTimeout = time.Second })
	files := sampleFiles("big")
	files["big.bin"] = noisyText(8, 4<<20)
	a := buildArchive(t, appID, platform, appVersion, pluginVersion, files, nil)
	upload(t, ts, a, appID, platform, appVersion)
	_, cr, _ := check(t, ts, checkRequest(1))

	for _, header := range []map[string]string{nil, {"Range": "bytes=1000-"}} {
		resp, body := get(t, http.MethodGet, ts.URL+"/mfp/"+cr.DirectUpdateLink, header)
		want := a.Data
		if header != nil {
			want = a.Data[1000:]
		}
		if resp.StatusCode/100 != 2 || string(body) != string(want) {
			t.Errorf("download %v: status %d, %d bytes, expected %d", header, resp.StatusCode, len(body), len(want))
		}
	}
}

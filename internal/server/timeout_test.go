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

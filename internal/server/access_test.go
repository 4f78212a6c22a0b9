package server_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mfpdev/mfpdev/internal/server"
	"github.com/mfpdev/mfpdev/pkg/protocol"
)

// TestAdminRoutesByRole sends every admin route with every kind of
// credentials and checks the status: 401 without valid credentials, 403
// when the role may not, and the route's own status otherwise.
func TestAdminRoutesByRole(t *testing.T) {
	ts := startServer(t, t.TempDir(), func(c *server.Config) { c.AuthFailuresPerMinute = -1 })
	deployed := buildArchive(t, appID, platform, appVersion, pluginVersion, sampleFiles("v1"), nil)
	upload(t, ts, deployed, appID, platform, appVersion)

	next := buildArchive(t, appID, platform, "2.0.0", pluginVersion, sampleFiles("v2"), nil)
	admin := ts.URL + "/" + protocol.DefaultAdminContext + "/management-apis/2.0"
	routes := []struct {
		name, method, url string
		body              []byte
		// allowed is the status for a role that may use the route;
		// roles lists them.
		allowed int
		roles   []string
	}{
		{"upload", http.MethodPost, webURL(ts, "mfp", appID, platform, "2.0.0"), next.Data, http.StatusOK, []string{"admin", "deployer"}},
		{"read deployment", http.MethodGet, webURL(ts, "mfp", appID, platform, appVersion), nil, http.StatusOK, []string{"admin", "deployer", "monitor"}},
		{"delete deployment", http.MethodDelete, webURL(ts, "mfp", appID, platform, "9.9.9"), nil, http.StatusNotFound, []string{"admin"}},
		{"list runtimes", http.MethodGet, admin + "/runtimes", nil, http.StatusOK, []string{"admin", "deployer", "monitor"}},
		{"list applications", http.MethodGet, admin + "/runtimes/mfp/applications", nil, http.StatusOK, []string{"admin", "deployer", "monitor"}},
	}
	credentials := []struct{ name, user, password string }{
		{"none", "", ""},
		{"wrong password", "admin", "wrong"},
		{"unknown user", "nobody", "admin-password"},
		{"empty password", "admin", ""},
		{"monitor", "monitor", "monitor-password"},
		{"deployer", "deployer", "deployer-password"},
		{"admin", "admin", "admin-password"},
	}

	for _, route := range routes {
		for _, cred := range credentials {
			t.Run(route.name+"/"+cred.name, func(t *testing.T) {
				want := http.StatusUnauthorized
				switch {
				case cred.name == "admin" || cred.name == "deployer" || cred.name == "monitor":
					want = http.StatusForbidden
					for _, r := range route.roles {
						if r == cred.name {
							want = route.allowed
						}
					}
				}

				req := uploadRequest(t, route.url, cred.user, cred.password, route.body)
				req.Method = route.method
				if route.body == nil {
					req, _ = http.NewRequest(route.method, route.url, nil)
					if cred.user != "" {
						req.SetBasicAuth(cred.user, cred.password)
					}
				}

				resp, ar := doAdmin(t, req)
				if resp.StatusCode != want {
					t.Errorf("status = %d, expected %d (%+v)", resp.StatusCode, want, ar.Transaction)
				}
				if want == http.StatusUnauthorized && resp.Header.Get("WWW-Authenticate") == "" {
					t.Error("401 without WWW-Authenticate")
				}
				// A 401 names exactly the roles the route admits.
				if want == http.StatusUnauthorized {
					// route.roles runs from admin down; the message runs up to admin.
					weakestFirst := slices.Clone(route.roles)
					slices.Reverse(weakestFirst)
					roles := weakestFirst[len(weakestFirst)-1]
					if n := len(weakestFirst); n > 1 {
						roles = strings.Join(weakestFirst[:n-1], ", ") + " or " + roles
					}
					if details := fmt.Sprint(ar.Transaction); !strings.Contains(details, "with role "+roles) {
						t.Errorf("401 details %s, want them to name role %s", details, roles)
					}
				}
			})
		}
	}
}

// fakeClock is a Config.Now that a test moves forward.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// serveFrom sends req to the server's handler as if it came from addr.
func serveFrom(s *server.Server, addr string, req *http.Request) *httptest.ResponseRecorder {
	req.RemoteAddr = addr
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	return rec
}

func runtimesRequest(t *testing.T, user, password string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "/mfpadmin/management-apis/2.0/runtimes", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(user, password)
	return req
}

// TestFailedLoginsRateLimited checks that a client address over the limit
// of failed logins gets 429 with Retry-After, even with the right
// password, that other addresses are not affected, and that the address
// recovers one attempt per 60/limit seconds.
func TestFailedLoginsRateLimited(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s, err := server.New(server.Config{
		DataDir: t.TempDir(), Users: testUsers(t), Now: clock.Now, AuthFailuresPerMinute: 3,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	const attacker, other = "192.0.2.1:4000", "192.0.2.2:4000"
	for i := range 3 {
		if rec := serveFrom(s, attacker, runtimesRequest(t, "admin", "wrong")); rec.Code != http.StatusUnauthorized {
			t.Fatalf("failure %d: status = %d, expected 401", i+1, rec.Code)
		}
	}

	rec := serveFrom(s, attacker, runtimesRequest(t, "admin", "wrong"))
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("fourth failure: status = %d, expected 429", rec.Code)
	}
	if got := rec.Header().Get("Retry-After"); got != "20" {
		t.Errorf("Retry-After = %q, expected 20", got)
	}
	if !strings.Contains(rec.Body.String(), "--auth-failures-per-minute") {
		t.Errorf("429 body lacks the flag that sets the limit: %s", rec.Body)
	}

	if rec := serveFrom(s, attacker, runtimesRequest(t, "admin", "admin-password")); rec.Code != http.StatusTooManyRequests {
		t.Errorf("right password while limited: status = %d, expected 429", rec.Code)
	}
	if rec := serveFrom(s, other, runtimesRequest(t, "admin", "admin-password")); rec.Code != http.StatusOK {
		t.Errorf("other address: status = %d, expected 200", rec.Code)
	}

	clock.Advance(19 * time.Second)
	if rec := serveFrom(s, attacker, runtimesRequest(t, "admin", "admin-password")); rec.Code != http.StatusTooManyRequests {
		t.Errorf("after 19 s: status = %d, expected 429", rec.Code)
	}
	clock.Advance(time.Second)
	if rec := serveFrom(s, attacker, runtimesRequest(t, "admin", "admin-password")); rec.Code != http.StatusOK {
		t.Errorf("after 20 s: status = %d, expected 200", rec.Code)
	}
}

// TestMissingCredentialsNotCounted checks that requests without
// credentials (a browser's first request) do not use up the limit.
func TestMissingCredentialsNotCounted(t *testing.T) {
	s, err := server.New(server.Config{DataDir: t.TempDir(), Users: testUsers(t), AuthFailuresPerMinute: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	for range 3 {
		req, _ := http.NewRequest(http.MethodGet, "/mfpadmin/management-apis/2.0/runtimes", nil)
		if rec := serveFrom(s, "192.0.2.1:4000", req); rec.Code != http.StatusUnauthorized {
			t.Fatalf("status = %d, expected 401", rec.Code)
		}
	}
	if rec := serveFrom(s, "192.0.2.1:4000", runtimesRequest(t, "admin", "admin-password")); rec.Code != http.StatusOK {
		t.Errorf("status = %d, expected 200", rec.Code)
	}
}

// TestVerifiedCredentialsCache checks that remembering accepted
// credentials never lets other credentials in: a wrong password, or the
// right password of another user, after a success.
func TestVerifiedCredentialsCache(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s, err := server.New(server.Config{DataDir: t.TempDir(), Users: testUsers(t), Now: clock.Now, AuthFailuresPerMinute: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	const addr = "192.0.2.1:4000"
	steps := []struct {
		user, password string
		want           int
	}{
		{"admin", "admin-password", http.StatusOK},
		{"admin", "admin-password", http.StatusOK},
		{"admin", "admin-passwordX", http.StatusUnauthorized},
		{"admin", "admin-passwor", http.StatusUnauthorized},
		{"admin", "", http.StatusUnauthorized},
		{"monitor", "admin-password", http.StatusUnauthorized},
		{"deployer", "deployer-password", http.StatusOK},
	}
	for i, step := range steps {
		if rec := serveFrom(s, addr, runtimesRequest(t, step.user, step.password)); rec.Code != step.want {
			t.Errorf("step %d (%s): status = %d, expected %d", i, step.user, rec.Code, step.want)
		}
	}

	clock.Advance(2 * time.Minute)
	if rec := serveFrom(s, addr, runtimesRequest(t, "admin", "admin-password")); rec.Code != http.StatusOK {
		t.Errorf("after the cache expired: status = %d, expected 200", rec.Code)
	}
}

// TestOversizeHeaderRejected checks the cap on request header size.
func TestOversizeHeaderRejected(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil)
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/healthz", nil)
	req.Header.Set("X-Padding", strings.Repeat("a", 200<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("status = %d, expected 431", resp.StatusCode)
	}
}

// TestCheckBodyLimited checks that the device check route rejects a body
// over its limit.
func TestCheckBodyLimited(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil)
	body := `{"appId":"` + strings.Repeat("a", 200<<10) + `"}`
	resp, err := http.Post(ts.URL+protocol.CheckPath("mfp"), "application/json", bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("status = %d, expected 400 or 413", resp.StatusCode)
	}
}

// TestFailedLoginsBehindProxy checks that failed logins are counted per
// X-Forwarded-For client only when the peer is a trusted proxy.
func TestFailedLoginsBehindProxy(t *testing.T) {
	s, err := server.New(server.Config{
		DataDir: t.TempDir(), Users: testUsers(t), AuthFailuresPerMinute: 1,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	viaProxy := func(forwardedFor, password string) int {
		req := runtimesRequest(t, "admin", password)
		if forwardedFor != "" {
			req.Header.Set("X-Forwarded-For", forwardedFor)
		}
		return serveFrom(s, "127.0.0.1:5000", req).Code
	}

	if code := viaProxy("192.0.2.1", "wrong"); code != http.StatusUnauthorized {
		t.Fatalf("first failure: status = %d, expected 401", code)
	}
	if code := viaProxy("192.0.2.1", "admin-password"); code != http.StatusTooManyRequests {
		t.Errorf("same client through the proxy: status = %d, expected 429", code)
	}
	// A client cannot escape its count by prepending an address of its
	// own: the proxy appends the real one last.
	if code := viaProxy("198.51.100.7, 192.0.2.1", "admin-password"); code != http.StatusTooManyRequests {
		t.Errorf("spoofed first hop: status = %d, expected 429", code)
	}
	if code := viaProxy("192.0.2.2", "admin-password"); code != http.StatusOK {
		t.Errorf("other client through the same proxy: status = %d, expected 200", code)
	}

	// From an untrusted peer the header is ignored.
	req := runtimesRequest(t, "admin", "wrong")
	req.Header.Set("X-Forwarded-For", "192.0.2.3")
	serveFrom(s, "203.0.113.9:5000", req)
	req = runtimesRequest(t, "admin", "admin-password")
	req.Header.Set("X-Forwarded-For", "192.0.2.4")
	if code := serveFrom(s, "203.0.113.9:5000", req).Code; code != http.StatusTooManyRequests {
		t.Errorf("untrusted peer with another X-Forwarded-For: status = %d, expected 429", code)
	}
}

// TestFailedLoginsIPv6Network checks that the addresses of one IPv6 /64
// network share a count, so that a host cannot rotate through its own
// addresses.
func TestFailedLoginsIPv6Network(t *testing.T) {
	s, err := server.New(server.Config{DataDir: t.TempDir(), Users: testUsers(t), AuthFailuresPerMinute: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	serveFrom(s, "[2001:db8:1:2::1]:4000", runtimesRequest(t, "admin", "wrong"))
	if code := serveFrom(s, "[2001:db8:1:2::99]:4000", runtimesRequest(t, "admin", "admin-password")).Code; code != http.StatusTooManyRequests {
		t.Errorf("same /64: status = %d, expected 429", code)
	}
	if code := serveFrom(s, "[2001:db8:1:3::1]:4000", runtimesRequest(t, "admin", "admin-password")).Code; code != http.StatusOK {
		t.Errorf("other /64: status = %d, expected 200", code)
	}
}

// TestAdminPathsNeverOpen sends every method to admin paths without
// credentials: no answer may be a 2xx success, so that a route added later
// without requireRole fails here.
func TestAdminPathsNeverOpen(t *testing.T) {
	s, err := server.New(server.Config{DataDir: t.TempDir(), Users: testUsers(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	base := "/mfpadmin/management-apis/2.0"
	paths := []string{
		base, base + "/", base + "/runtimes", base + "/runtimes/mfp", base + "/runtimes/mfp/applications",
		base + "/runtimes/mfp/applications/" + appID, base + "/runtimes/mfp/applications/" + appID + "/" + platform,
		base + "/runtimes/mfp/applications/" + appID + "/" + platform + "/" + appVersion,
		base + "/runtimes/mfp/applications/" + appID + "/" + platform + "/" + appVersion + "/web",
		base + "/runtimes/mfp/applications/" + appID + "/" + platform + "/" + appVersion + "/web/delta",
	}
	for _, path := range paths {
		for _, method := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			req := httptest.NewRequest(method, path, strings.NewReader("x"))
			rec := serveFrom(s, "192.0.2.1:4000", req)
			// ServeMux redirects the path without its trailing '/' (307).
			if rec.Code < 300 {
				t.Errorf("%s %s without credentials: status %d", method, path, rec.Code)
			}
		}
	}
}

// TestFailedLoginsLoggedOnce checks that a client over the limit is
// logged once at warning level, not once per rejected request.
func TestFailedLoginsLoggedOnce(t *testing.T) {
	logs := &lockedBuffer{}
	s, err := server.New(server.Config{
		DataDir: t.TempDir(), Users: testUsers(t), AuthFailuresPerMinute: 2,
		Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	for range 20 {
		serveFrom(s, "192.0.2.1:4000", runtimesRequest(t, "admin", "wrong"))
	}
	if n := strings.Count(logs.String(), "too many failed admin logins"); n != 1 {
		t.Errorf("%d warnings about the limit, expected 1:\n%s", n, logs)
	}
	if n := strings.Count(logs.String(), "\n"); n > 3 {
		t.Errorf("%d warning lines for 20 requests, expected at most 3 (two failures, one limit):\n%s", n, logs)
	}
}

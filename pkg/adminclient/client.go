// Package adminclient talks to the admin API of a MobileFirst-style update
// server: it uploads direct-update archives, reads and deletes deployments,
// and lists runtimes and applications.
//
// Every request carries HTTP Basic credentials. Requests that get no
// response or a 5xx status are retried a bounded number of times with
// exponential backoff and jitter. A 4xx status is never retried. Errors
// name the method, the URL (never the password), the status, the server's
// reason and what to do next, and match the sentinel errors of this
// package with errors.Is.
package adminclient

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mfpdev/mfpdev/pkg/protocol"
)

// Defaults of a Client's zero fields.
const (
	DefaultRetries    = 3
	DefaultRetryDelay = 500 * time.Millisecond
	// maxRetryDelay caps the backoff and a server's Retry-After.
	maxRetryDelay = 30 * time.Second
	// maxResponseSize bounds the admin response bodies read, in bytes.
	maxResponseSize = 4 << 20
)

// Client is an admin API client. The zero values of the optional fields
// select the defaults.
type Client struct {
	// BaseURL is the server's URL, for example "http://localhost:9080".
	BaseURL string
	// AdminContext is the admin context root; empty means "mfpadmin".
	AdminContext string
	Login        string
	Password     string
	// HTTPClient sends the requests; nil means http.DefaultClient.
	HTTPClient *http.Client
	// Timeout bounds the wait for the response headers once a request,
	// body included, has been sent. Zero leaves the HTTP client's own
	// timeouts alone.
	Timeout time.Duration
	// Retries is the number of retries after the first attempt: 0 means
	// DefaultRetries, a negative value disables retries.
	Retries int
	// RetryDelay is the first backoff delay, doubled at each retry;
	// 0 means DefaultRetryDelay.
	RetryDelay time.Duration
	// OnRetry, when set, is called before each retry with the number of
	// the attempt that failed (from 1), its error and the delay.
	OnRetry func(attempt int, err error, delay time.Duration)

	buildOnce sync.Once
	built     *http.Client
}

// request is one admin API call.
type request struct {
	method string
	path   string
	// body returns a fresh reader for each attempt; nil sends no body.
	body        func() io.Reader
	size        int64
	contentType string
	// notFoundHint replaces the default advice on a 404.
	notFoundHint string
}

// response is a successful admin response and its raw body.
type response struct {
	admin protocol.AdminResponse
	raw   []byte
}

func (c *Client) retries() int {
	switch {
	case c.Retries < 0:
		return 0
	case c.Retries == 0:
		return DefaultRetries
	}
	return c.Retries
}

func (c *Client) adminContext() string {
	if c.AdminContext == "" {
		return protocol.DefaultAdminContext
	}
	return strings.Trim(c.AdminContext, "/")
}

// httpClient returns the HTTP client built from the Client's fields on
// first use. Later changes to HTTPClient and Timeout are not seen.
func (c *Client) httpClient() *http.Client {
	c.buildOnce.Do(func() { c.built = c.buildHTTPClient() })
	return c.built
}

// buildHTTPClient copies HTTPClient with two changes: a redirect that
// would turn a POST or DELETE into a GET is returned as a response rather
// than followed, and the transport waits at most Timeout for response
// headers.
func (c *Client) buildHTTPClient() *http.Client {
	hc := c.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	clone := *hc

	next := hc.CheckRedirect
	clone.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) > 0 && req.Method != via[0].Method {
			return http.ErrUseLastResponse
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}

	if c.Timeout <= 0 {
		return &clone
	}
	switch t := hc.Transport.(type) {
	case nil:
		transport := http.DefaultTransport.(*http.Transport).Clone()
		transport.ResponseHeaderTimeout = c.Timeout
		clone.Transport = transport
	case *http.Transport:
		transport := t.Clone()
		transport.ResponseHeaderTimeout = c.Timeout
		clone.Transport = transport
	default:
		// NOTE: a custom RoundTripper keeps its own timeouts.
	}
	return &clone
}

// baseURL parses BaseURL and returns it with its user information removed.
func (c *Client) baseURL() (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(c.BaseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("invalid server URL %q: give http:// or https:// and a host", c.BaseURL)
	}
	u.User = nil
	return u, nil
}

// do sends req, retrying network failures and 5xx statuses.
func (c *Client) do(ctx context.Context, req request) (*response, error) {
	base, err := c.baseURL()
	if err != nil {
		return nil, err
	}
	// req.path is already escaped, so it is appended as text.
	target, err := url.Parse(strings.TrimRight(base.String(), "/") + req.path)
	if err != nil {
		return nil, fmt.Errorf("%s %s%s: %w", req.method, redactURL(base), req.path, err)
	}
	hc := c.httpClient()

	attempts := c.retries() + 1
	delay := c.RetryDelay
	if delay <= 0 {
		delay = DefaultRetryDelay
	}
	for attempt := 1; ; attempt++ {
		resp, retryAfter, err := c.attempt(ctx, hc, base, target, req)
		if err == nil {
			return resp, nil
		}
		if !retryable(err) || attempt >= attempts || ctx.Err() != nil {
			if attempt > 1 && retryable(err) {
				err = fmt.Errorf("gave up after %d attempts: %w", attempt, err)
			}
			return nil, err
		}

		wait := jitter(delay)
		if retryAfter > wait {
			wait = min(retryAfter, maxRetryDelay)
		}
		if c.OnRetry != nil {
			c.OnRetry(attempt, err, wait)
		}
		if ctxErr := sleep(ctx, wait); ctxErr != nil {
			return nil, fmt.Errorf("%w while waiting to retry after: %v", ctxErr, err)
		}
		delay = min(delay*2, maxRetryDelay)
	}
}

// attempt sends req once. It returns the server's Retry-After delay along
// with a 5xx error when the server set one.
func (c *Client) attempt(ctx context.Context, hc *http.Client, base, target *url.URL, req request) (*response, time.Duration, error) {
	var body io.Reader
	if req.body != nil {
		body = req.body()
	}
	httpReq, err := http.NewRequestWithContext(ctx, req.method, target.String(), body)
	if err != nil {
		return nil, 0, fmt.Errorf("%s %s: %w", req.method, redactURL(target), err)
	}
	if req.body != nil {
		httpReq.ContentLength = req.size
		httpReq.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(req.body()), nil }
		httpReq.Header.Set("Content-Type", req.contentType)
	}
	httpReq.Header.Set("Accept", "application/json")
	httpReq.SetBasicAuth(c.Login, c.Password)

	resp, err := hc.Do(httpReq)
	if err != nil {
		return nil, 0, c.transportError(ctx, req.method, base, target, err)
	}
	defer resp.Body.Close()

	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseSize))
	if err != nil {
		return nil, 0, &UnreachableError{BaseURL: redactURL(base),
			Err: fmt.Errorf("%s %s: read response: %w", req.method, redactURL(target), err)}
	}
	return c.decode(req, target, resp, raw)
}

// decode turns an HTTP response into a response or an *HTTPError.
func (c *Client) decode(req request, target *url.URL, resp *http.Response, raw []byte) (*response, time.Duration, error) {
	var admin protocol.AdminResponse
	jsonErr := json.Unmarshal(raw, &admin)

	ok2xx := resp.StatusCode >= 200 && resp.StatusCode < 300
	if ok2xx && jsonErr == nil && admin.OK {
		return &response{admin: admin, raw: raw}, 0, nil
	}

	httpErr := &HTTPError{Method: req.method, URL: redactURL(target), StatusCode: resp.StatusCode}
	if jsonErr == nil && admin.Transaction != nil {
		for _, e := range admin.Transaction.Errors {
			if e.Details != "" {
				httpErr.Details = append(httpErr.Details, sanitizeExcerpt([]byte(e.Details), c.Password))
			}
		}
	}
	// An admin response without details has nothing worth quoting.
	if len(httpErr.Details) == 0 && jsonErr != nil {
		httpErr.Excerpt = sanitizeExcerpt(raw, c.Password)
	}
	// The server's details usually say what to do, so a generic hint would
	// only repeat them. A 401 keeps its hint because it names the login.
	if len(httpErr.Details) == 0 || resp.StatusCode == http.StatusUnauthorized {
		httpErr.Hint = c.hint(req, resp, ok2xx, jsonErr)
	}

	var retryAfter time.Duration
	if resp.StatusCode >= 500 {
		retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"))
	}
	return nil, retryAfter, httpErr
}

func (c *Client) hint(req request, resp *http.Response, ok2xx bool, jsonErr error) string {
	status := resp.StatusCode
	switch {
	case status >= 300 && status < 400:
		return fmt.Sprintf("the server redirects to %q: use that address in the server URL", resp.Header.Get("Location"))
	case ok2xx && jsonErr != nil:
		return "the server did not return an admin API response: check the server URL and the admin context root"
	case ok2xx:
		return "the server reported a failure"
	case status == http.StatusUnauthorized:
		return fmt.Sprintf("the server rejected login %q: check the login and password", c.Login)
	case status == http.StatusForbidden:
		return fmt.Sprintf("login %q lacks the deployer or admin role on the server", c.Login)
	case status == http.StatusNotFound && req.notFoundHint != "":
		return req.notFoundHint
	case status == http.StatusNotFound:
		return fmt.Sprintf("check the admin context root %q and the server URL", c.adminContext())
	case status == http.StatusRequestEntityTooLarge:
		return fmt.Sprintf("the %d-byte archive exceeds the server's upload limit: raise the limit on the server or make the archive smaller", req.size)
	case status == http.StatusBadRequest && req.body != nil:
		return "the server rejected the archive: fix what it reports and build the archive again"
	case status == http.StatusBadRequest:
		return "the server rejected the request"
	case status >= 500:
		return "the server failed: see its log"
	}
	return ""
}

// transportError classifies an error from http.Client.Do.
func (c *Client) transportError(ctx context.Context, method string, base, target *url.URL, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("%s %s: %w", method, redactURL(target), ctxErr)
	}

	var certErr *tls.CertificateVerificationError
	var unknownAuthority x509.UnknownAuthorityError
	var hostnameErr x509.HostnameError
	if errors.As(err, &certErr) || errors.As(err, &unknownAuthority) || errors.As(err, &hostnameErr) {
		return fmt.Errorf("%s %s: %w: the server's TLS certificate is not trusted by this machine",
			method, redactURL(target), unwrapURLError(err))
	}
	return &UnreachableError{BaseURL: redactURL(base), Err: unwrapURLError(err)}
}

// unwrapURLError drops the *url.Error layer, whose message repeats the URL.
func unwrapURLError(err error) error {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return urlErr.Err
	}
	return err
}

// retryable reports whether a failed attempt may succeed when repeated:
// no response at all, or a 5xx status.
func retryable(err error) bool {
	var httpErr *HTTPError
	if errors.As(err, &httpErr) {
		return httpErr.StatusCode >= 500
	}
	return errors.Is(err, ErrUnreachable)
}

// jitter returns a random delay between d/2 and d.
func jitter(d time.Duration) time.Duration {
	half := d / 2
	return half + rand.N(half+1)
}

func parseRetryAfter(value string) time.Duration {
	seconds, err := strconv.Atoi(strings.TrimSpace(value))
	if err != nil || seconds < 0 {
		return 0
	}
	return time.Duration(seconds) * time.Second
}

func sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// getJSON sends a GET without a body.
func (c *Client) getJSON(ctx context.Context, path, notFoundHint string) (*response, error) {
	return c.do(ctx, request{method: http.MethodGet, path: path, notFoundHint: notFoundHint})
}

// jsonHasKeys reports whether the object at raw[outer] has every key.
func jsonHasKeys(raw []byte, outer string, keys ...string) bool {
	var doc map[string]json.RawMessage
	if json.Unmarshal(raw, &doc) != nil {
		return false
	}
	var inner map[string]json.RawMessage
	if json.Unmarshal(doc[outer], &inner) != nil {
		return false
	}
	for _, k := range keys {
		if v, ok := inner[k]; !ok || bytes.Equal(v, []byte("null")) {
			return false
		}
	}
	return true
}

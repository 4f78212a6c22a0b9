package client

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/mfpdev/mfpdev/pkg/protocol"
	"github.com/mfpdev/mfpdev/pkg/webres"
)

// Device is one installed app: its web resources folder and the values it
// reports to the update server.
type Device struct {
	// WWW is the folder of the current web resources.
	WWW string
	// AppID, Platform and AppVersion select the deployed web resources.
	AppID      string
	Platform   string
	AppVersion string
	// PluginVersion is the cordova-plugin-mfp version the app was built with.
	PluginVersion string
	// Checksum overrides the checksum the device reports. When nil, it is
	// read from WWW's plugins/cordova-plugin-mfp/worklight/checksum.js.
	Checksum *uint32
	// PublicKey, when set, makes Update reject archives whose signature
	// does not verify with it.
	PublicKey *rsa.PublicKey
	// HTTPClient sends the requests; nil means http.DefaultClient.
	HTTPClient *http.Client
	// ServerURL is the server's base URL; empty means protocol.DefaultServerURL.
	ServerURL string
	// Runtime is the runtime's context root; empty means protocol.DefaultRuntime.
	Runtime string
}

// maxResponseBody bounds the check response and error excerpts read into memory.
const maxResponseBody = 1 << 20

// HTTPError is a response whose status is not the one expected.
type HTTPError struct {
	Method     string
	URL        string
	StatusCode int
	// Body is the start of the response body, for the message.
	Body string
}

func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("%s %s: HTTP %d %s", e.Method, e.URL, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

// Check recovers from an interrupted update if there is one, then requests
// from the server whether an update is available for the device's current
// checksum.
func (d *Device) Check(ctx context.Context) (*protocol.CheckResponse, error) {
	if err := d.validate(); err != nil {
		return nil, err
	}
	st, err := openState(d.WWW)
	if err != nil {
		return nil, err
	}
	lock, err := st.tryLock()
	if err != nil && !errors.Is(err, errLocked) {
		return nil, err
	}
	if lock != nil {
		// Recovery needs the lock; while another update holds it, that
		// update owns the state folder and Check only reads.
		defer lock.unlock()
		if err := st.recover(); err != nil {
			return nil, err
		}
	}
	_, resp, err := d.check(ctx, st)
	return resp, err
}

// validate reports the first missing field.
func (d *Device) validate() error {
	switch {
	case d.WWW == "":
		return errors.New("device: web resources folder is not set")
	case d.AppID == "":
		return errors.New("device: app id is not set")
	case d.Platform == "":
		return errors.New("device: platform is not set")
	case d.AppVersion == "":
		return errors.New("device: app version is not set")
	case d.PluginVersion == "":
		return errors.New("device: plugin version is not set")
	}
	return nil
}

// check sends the check request and returns it with the server's response.
func (d *Device) check(ctx context.Context, st *state) (*protocol.CheckRequest, *protocol.CheckResponse, error) {
	sum, err := d.CurrentChecksum()
	if err != nil {
		return nil, nil, err
	}
	saved, err := st.load()
	if err != nil {
		return nil, nil, err
	}
	req := &protocol.CheckRequest{
		AppID:            d.AppID,
		Platform:         d.Platform,
		AppVersion:       d.AppVersion,
		Checksum:         sum,
		PluginVersion:    d.PluginVersion,
		IntegrityFailure: saved.IntegrityFailure,
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, nil, err
	}

	url := d.serverURL() + protocol.CheckPath(d.runtime())
	httpReq, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, nil, fmt.Errorf("check for updates: %w", err)
	}
	httpReq.Header.Set("Content-Type", "application/json")
	httpReq.Header.Set("Accept", "application/json")
	httpResp, err := d.httpClient().Do(httpReq)
	if err != nil {
		var opErr *net.OpError
		if errors.As(err, &opErr) && opErr.Op == "dial" {
			return nil, nil, fmt.Errorf("check for updates: cannot reach the update server at %s: %w: is the server running, and is its URL right?", d.serverURL(), err)
		}
		return nil, nil, fmt.Errorf("check for updates: %w", err)
	}
	defer httpResp.Body.Close()

	if httpResp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("check for updates: %w", newHTTPError(httpReq, httpResp))
	}
	var resp protocol.CheckResponse
	if err := json.NewDecoder(io.LimitReader(httpResp.Body, maxResponseBody)).Decode(&resp); err != nil {
		return nil, nil, fmt.Errorf("check for updates: POST %s: invalid response: %w", url, err)
	}
	return req, &resp, nil
}

// CurrentChecksum returns the checksum the device reports: the override,
// or the checksum in WWW's checksum.js.
func (d *Device) CurrentChecksum() (uint32, error) {
	if d.Checksum != nil {
		return *d.Checksum, nil
	}
	return readChecksumJS(d.WWW)
}

// readChecksumJS returns the checksum the checksum.js under root carries.
func readChecksumJS(root string) (uint32, error) {
	path := filepath.Join(root, filepath.FromSlash(webres.ChecksumJSPath))
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, fmt.Errorf("read checksum: %s not found, so the folder is not the prepared www of a Cordova app with cordova-plugin-mfp: name such a folder, or give the checksum the device reports (--checksum with mfpdev device)", path)
	}
	if err != nil {
		return 0, fmt.Errorf("read checksum: %w", err)
	}
	sum, err := webres.ParseChecksumJS(b)
	if err != nil {
		return 0, fmt.Errorf("read checksum: %s: %w", path, err)
	}
	return sum, nil
}

func (d *Device) httpClient() *http.Client {
	if d.HTTPClient != nil {
		return d.HTTPClient
	}
	return http.DefaultClient
}

func (d *Device) serverURL() string {
	if d.ServerURL == "" {
		return protocol.DefaultServerURL
	}
	return strings.TrimRight(d.ServerURL, "/")
}

func (d *Device) runtime() string {
	if d.Runtime == "" {
		return protocol.DefaultRuntime
	}
	return strings.Trim(d.Runtime, "/")
}

// newHTTPError reads an excerpt of resp's body into an HTTPError.
func newHTTPError(req *http.Request, resp *http.Response) *HTTPError {
	excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	text := strings.Join(strings.Fields(string(excerpt)), " ")
	u := *req.URL
	u.User = nil
	return &HTTPError{Method: req.Method, URL: u.String(), StatusCode: resp.StatusCode, Body: text}
}

package server

import (
	"encoding/json"
	"net/http"
	"sync"

	"github.com/mfpdev/mfpdev/internal/store"
	"github.com/mfpdev/mfpdev/pkg/protocol"
)

// maxCachedResponses bounds each map of checkResponses. At the bound the
// map is emptied and fills again with the responses in use.
const maxCachedResponses = 10_000

// Header values of every check response, shared by all responses so that
// setting them allocates nothing. Nothing may modify these slices.
var (
	checkContentType  = []string{"application/json; charset=utf-8"}
	checkCacheControl = []string{"no-store"}
)

// checkResponses keeps what check responses derived from deployments
// alone have in common: the encoded JSON of up-to-date responses and update
// offers, and the download links. Every device checks at every app start,
// and most checks get one of a few such responses.
//
// Entries cannot go stale. The encoded JSON is keyed by the whole response
// value, and a link by every field it is built from. The zero value is
// ready to use.
type checkResponses struct {
	mu      sync.RWMutex
	encoded map[protocol.CheckResponse][]byte
	links   map[linkKey]string
}

// linkKey names the full archive of one deployment.
type linkKey struct {
	store.AppKey
	checksum uint32
}

// cacheable reports whether resp depends only on deployments. The other
// responses carry values from the request (the app id of an app version
// without a deployment, the device's plugin version), which any client
// can vary, so they are encoded every time.
func cacheable(resp protocol.CheckResponse) bool {
	return resp.Reason == protocol.ReasonUpToDate || resp.UpdateAvailable
}

// encode returns the JSON of resp, followed by a newline as
// json.Encoder writes it. The caller must not modify the returned bytes.
func (c *checkResponses) encode(resp protocol.CheckResponse) ([]byte, error) {
	if !cacheable(resp) {
		return marshalLine(resp)
	}

	c.mu.RLock()
	b, ok := c.encoded[resp]
	c.mu.RUnlock()
	if ok {
		return b, nil
	}

	b, err := marshalLine(resp)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.encoded == nil || len(c.encoded) >= maxCachedResponses {
		c.encoded = map[protocol.CheckResponse][]byte{}
	}
	c.encoded[resp] = b
	c.mu.Unlock()
	return b, nil
}

// link returns the cached result of build for the full archive of d,
// calling build on a miss.
func (c *checkResponses) link(d store.Deployment, build func() string) string {
	key := linkKey{AppKey: d.AppKey, checksum: d.Checksum}
	c.mu.RLock()
	link, ok := c.links[key]
	c.mu.RUnlock()
	if ok {
		return link
	}

	link = build()
	c.mu.Lock()
	if c.links == nil || len(c.links) >= maxCachedResponses {
		c.links = map[linkKey]string{}
	}
	c.links[key] = link
	c.mu.Unlock()
	return link
}

func marshalLine(resp protocol.CheckResponse) ([]byte, error) {
	b, err := json.Marshal(resp)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// writeCheckResponse writes resp as compact JSON in one Write.
func (s *Server) writeCheckResponse(w http.ResponseWriter, resp protocol.CheckResponse) {
	b, err := s.responses.encode(resp)
	if err != nil {
		// A CheckResponse has only strings, numbers and booleans, so
		// this is a programming error.
		s.log.Error("encode check response failed", "reason", resp.Reason, "err", err)
		http.Error(w, "update check failed: see the server log", http.StatusInternalServerError)
		return
	}

	h := w.Header()
	h["Content-Type"] = checkContentType
	h["Cache-Control"] = checkCacheControl
	w.Write(b)
}

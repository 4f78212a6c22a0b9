package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/mfpdev/mfpdev/internal/store"
	"github.com/mfpdev/mfpdev/pkg/protocol"
	"github.com/mfpdev/mfpdev/pkg/version"
)

// checkBody is protocol.CheckRequest with a pointer for the checksum, so
// that a missing checksum is distinguished from 0. An empty string field
// counts as missing.
type checkBody struct {
	AppID            string  `json:"appId"`
	Platform         string  `json:"platform"`
	AppVersion       string  `json:"appVersion"`
	Checksum         *uint32 `json:"checksum"`
	PluginVersion    string  `json:"pluginVersion"`
	IntegrityFailure bool    `json:"integrityFailure"`
}

// checkBodyBuffers recycles the buffers check request bodies are read
// into, because every device sends one at every app start.
var checkBodyBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// parseCheck decodes a check request and returns an error naming every
// missing field or the invalid one.
func parseCheck(body io.Reader) (protocol.CheckRequest, version.Plugin, error) {
	buf := checkBodyBuffers.Get().(*bytes.Buffer)
	defer checkBodyBuffers.Put(buf)
	buf.Reset()

	var b checkBody
	_, err := buf.ReadFrom(body)
	if err == nil {
		err = json.Unmarshal(buf.Bytes(), &b)
	}
	if err != nil {
		var typeErr *json.UnmarshalTypeError
		var maxBytes *http.MaxBytesError
		switch {
		case errors.As(err, &typeErr):
			return protocol.CheckRequest{}, version.Plugin{}, fmt.Errorf("field %q has an invalid value (%s): want a %s", typeErr.Field, typeErr.Value, typeErr.Type)
		case errors.As(err, &maxBytes):
			return protocol.CheckRequest{}, version.Plugin{}, fmt.Errorf("request body is larger than %d bytes", maxBytes.Limit)
		}
		return protocol.CheckRequest{}, version.Plugin{}, fmt.Errorf("request body is not valid JSON: %v", err)
	}

	var missing []string
	for _, f := range []struct {
		name    string
		missing bool
	}{
		{"appId", b.AppID == ""},
		{"platform", b.Platform == ""},
		{"appVersion", b.AppVersion == ""},
		{"checksum", b.Checksum == nil},
		{"pluginVersion", b.PluginVersion == ""},
	} {
		if f.missing {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return protocol.CheckRequest{}, version.Plugin{}, fmt.Errorf("missing field(s): %s", strings.Join(missing, ", "))
	}

	plugin, err := version.ParsePlugin(b.PluginVersion)
	if err != nil {
		return protocol.CheckRequest{}, version.Plugin{}, fmt.Errorf("field \"pluginVersion\": %v", err)
	}
	req := protocol.CheckRequest{
		AppID: b.AppID, Platform: b.Platform, AppVersion: b.AppVersion,
		Checksum: *b.Checksum, PluginVersion: b.PluginVersion, IntegrityFailure: b.IntegrityFailure,
	}
	return req, plugin, nil
}

// check decides whether a device gets an update and writes the
// protocol.CheckResponse.
func (s *Server) check(w http.ResponseWriter, r *http.Request) {
	runtime := r.PathValue("runtime")
	if !s.hasRuntime(runtime) {
		s.rejectCheck(w, http.StatusNotFound, "unknown-runtime", s.unknownRuntime(runtime), "runtime", runtime)
		return
	}

	req, devicePlugin, err := parseCheck(r.Body)
	if err != nil {
		s.rejectCheck(w, http.StatusBadRequest, "bad-request", "invalid check request: "+err.Error(), "runtime", runtime)
		return
	}

	resp, err := s.decide(r, runtime, req, devicePlugin)
	if err != nil {
		s.log.Error("update check failed", append(appAttrs(runtime, req.AppID, req.Platform, req.AppVersion), "err", err)...)
		s.metrics.checks.WithLabelValues(checkResultRejected, "server-error").Inc()
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "update check failed: see the server log"})
		return
	}

	result := checkResultNoUpdate
	if resp.UpdateAvailable {
		result = checkResultUpdate
	}
	s.metrics.checks.WithLabelValues(result, resp.Reason).Inc()
	// Every device checks at every app start, so outcomes are logged at
	// debug level only: mfpdev_update_checks_total counts them by result
	// and reason. The attributes are built only when debug is enabled.
	if s.log.Enabled(r.Context(), slog.LevelDebug) {
		s.log.Debug("update check", append(appAttrs(runtime, req.AppID, req.Platform, req.AppVersion),
			"result", result, "reason", resp.Reason, "type", resp.Type, "checksum", resp.Checksum,
			"deviceChecksum", req.Checksum, "devicePluginVersion", req.PluginVersion,
			"integrityFailure", req.IntegrityFailure)...)
	}
	s.writeCheckResponse(w, resp)
}

// decide applies the update rules in order: a deployment for exactly this
// app version, a compatible plugin version, then a different checksum (or
// an integrity failure on the device, which forces the full archive).
func (s *Server) decide(r *http.Request, runtime string, req protocol.CheckRequest, devicePlugin version.Plugin) (protocol.CheckResponse, error) {
	key := store.AppKey{Runtime: runtime, AppID: req.AppID, Platform: req.Platform, AppVersion: req.AppVersion}
	d, err := s.meta.Active(r.Context(), key)
	if errors.Is(err, store.ErrNotFound) {
		return protocol.CheckResponse{
			Reason:  protocol.ReasonNoWebResources,
			Message: fmt.Sprintf("no web resources are deployed for %s %s %s", req.AppID, req.Platform, req.AppVersion),
		}, nil
	}
	if err != nil {
		return protocol.CheckResponse{}, err
	}

	deployedPlugin, err := version.ParsePlugin(d.PluginVersion)
	if err != nil {
		return protocol.CheckResponse{}, fmt.Errorf("deployment %d: %w", d.ID, err)
	}
	if !deployedPlugin.Compatible(devicePlugin) {
		return protocol.CheckResponse{
			Reason: protocol.ReasonPluginVersionMismatch,
			Message: fmt.Sprintf("the deployed web resources need cordova-plugin-mfp %s but the device runs %s: the first three numbers must match",
				d.PluginVersion, req.PluginVersion),
			DeployedPluginVersion: d.PluginVersion,
			DevicePluginVersion:   req.PluginVersion,
		}, nil
	}

	if d.Checksum == req.Checksum && !req.IntegrityFailure {
		return protocol.CheckResponse{
			Reason:   protocol.ReasonUpToDate,
			Message:  fmt.Sprintf("the device has the deployed web resources (checksum %d)", d.Checksum),
			Checksum: d.Checksum,
		}, nil
	}

	if delta, ok := s.offerDelta(r.Context(), d, req); ok {
		return delta, nil
	}
	return protocol.CheckResponse{
		UpdateAvailable:             true,
		Reason:                      protocol.ReasonAvailable,
		Checksum:                    d.Checksum,
		PackedSize:                  d.PackedSize,
		UnpackedSize:                d.UnpackedSize,
		DirectUpdateLink:            s.downloadLink(d),
		DirectUpdateProtocolVersion: protocol.ProtocolVersion,
		Type:                        protocol.TypeFull,
		SHA256:                      d.SHA256,
	}, nil
}

// downloadLink returns the link of d's full archive, relative to the
// runtime root, or absolute below Config.DownloadBaseURL.
func (s *Server) downloadLink(d store.Deployment) string {
	return s.responses.link(d, func() string {
		link := protocol.DownloadLink(d.AppID, d.Platform, d.AppVersion, d.Checksum, protocol.TypeFull, 0)
		if s.cfg.DownloadBaseURL == "" {
			return link
		}
		return s.cfg.DownloadBaseURL + "/" + d.Runtime + "/" + link
	})
}

// rejectCheck responds to an invalid check request with a JSON
// {"error": message} body, logs it and counts it.
func (s *Server) rejectCheck(w http.ResponseWriter, status int, reason, message string, attrs ...any) {
	s.metrics.checks.WithLabelValues(checkResultRejected, reason).Inc()
	s.log.Info("update check rejected", append(attrs, "reason", reason, "message", message)...)
	writeJSON(w, status, map[string]string{"error": message})
}

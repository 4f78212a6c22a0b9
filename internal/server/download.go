package server

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/mfpdev/mfpdev/internal/store"
	"github.com/mfpdev/mfpdev/pkg/protocol"
)

// download serves the archive of the deployment with the checksum in the
// path, active or in history. The URL names the content, so responses may
// be cached forever. http.ServeContent handles HEAD, Range (206, 416) and
// If-None-Match / If-Range against the strong ETag.
func (s *Server) download(w http.ResponseWriter, r *http.Request) {
	runtime, appVersion, updateType := r.PathValue("runtime"), r.PathValue("appVersion"), r.PathValue("type")
	appID, platform := r.URL.Query().Get("appId"), r.URL.Query().Get("clientPlatform")
	attrs := append(appAttrs(runtime, appID, platform, appVersion), "type", updateType, "checksum", r.PathValue("checksum"))
	reject := func(status int, reason, message string) {
		s.metrics.downloads.WithLabelValues(typeLabel(updateType), strconv.Itoa(status)).Inc()
		s.log.Info("download rejected", append(attrs, "status", status, "reason", reason)...)
		http.Error(w, message, status)
	}

	if !s.hasRuntime(runtime) {
		reject(http.StatusNotFound, "unknown runtime", s.unknownRuntime(runtime))
		return
	}
	checksum, err := strconv.ParseUint(r.PathValue("checksum"), 10, 32)
	if err != nil {
		reject(http.StatusBadRequest, "invalid checksum", fmt.Sprintf("checksum %q is invalid: want an unsigned 32-bit decimal number", r.PathValue("checksum")))
		return
	}
	switch updateType {
	case protocol.TypeFull:
	case protocol.TypeDelta:
		s.downloadDelta(w, r, uint32(checksum), attrs, reject)
		return
	default:
		reject(http.StatusNotFound, "unknown update type", fmt.Sprintf("update type %q is unknown: use full or delta", updateType))
		return
	}
	if appID == "" || platform == "" {
		reject(http.StatusBadRequest, "missing query parameter", "query parameters appId and clientPlatform are required")
		return
	}

	key := store.AppKey{Runtime: runtime, AppID: appID, Platform: platform, AppVersion: appVersion}
	d, err := s.meta.FindByChecksum(r.Context(), key, uint32(checksum))
	if errors.Is(err, store.ErrNotFound) {
		reject(http.StatusNotFound, "no deployment", fmt.Sprintf("no archive of %s %s %s has checksum %d", appID, platform, appVersion, checksum))
		return
	}
	if err != nil {
		s.log.Error("download failed", append(attrs, "err", err)...)
		reject(http.StatusInternalServerError, "metadata lookup failed", "download failed: see the server log")
		return
	}

	filename := fmt.Sprintf("%s-%s-%s.zip", sanitizeFilename(appID), sanitizeFilename(platform), sanitizeFilename(appVersion))
	if s.cfg.PresignedDownloads {
		s.redirectDownload(w, r, d, filename, updateType, attrs, reject)
		return
	}

	blob, _, err := s.blobs.Open(r.Context(), d.SHA256)
	if err != nil {
		s.log.Error("download failed: archive missing from the blob store", append(attrs, "sha256", d.SHA256, "err", err)...)
		reject(http.StatusInternalServerError, "blob missing", "download failed: see the server log")
		return
	}
	defer blob.Close()

	h := w.Header()
	h.Set("Content-Type", protocol.ZipContentType)
	h.Set("ETag", `"`+d.SHA256+`"`)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, filename))

	sw := &statusWriter{ResponseWriter: w}
	// A zero modification time leaves out Last-Modified: the ETag is the
	// validator, and re-uploading the same bytes must not change it.
	http.ServeContent(sw, r, "", time.Time{}, blob)

	status := sw.status
	if status == 0 {
		status = http.StatusOK
	}
	s.metrics.downloads.WithLabelValues(updateType, strconv.Itoa(status)).Inc()
	s.metrics.bytesServed.Add(float64(sw.bytes))
	s.log.Debug("archive served", append(attrs, "status", status, "bytes", sw.bytes, "sha256", d.SHA256)...)
}

// typeLabel returns the metrics label of an update type from a download
// path: the type itself when it is known, else "unknown", so that clients
// cannot create a metric series per made-up path.
func typeLabel(updateType string) string {
	switch updateType {
	case protocol.TypeFull, protocol.TypeDelta:
		return updateType
	}
	return "unknown"
}

// sanitizeFilename keeps the characters safe inside a quoted
// Content-Disposition filename.
func sanitizeFilename(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}

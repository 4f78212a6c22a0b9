package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/mfpdev/mfpdev/internal/store"
	"github.com/mfpdev/mfpdev/pkg/protocol"
)

// Defaults of the delta settings, used by the server command's flags.
const (
	DefaultDeltaHistory    = 5
	DefaultDeltaMinSavings = 30 // percent
)

// offerDelta returns the delta offer for a device whose checksum is that
// of one of the Config.DeltaHistory deployments before d, when that delta
// is built and at least Config.DeltaMinSavings percent smaller than d's
// full archive. Otherwise it returns false, and starts building the delta
// in the background when it is missing, so that a check never waits for
// a build.
func (s *Server) offerDelta(ctx context.Context, d store.Deployment, req protocol.CheckRequest) (protocol.CheckResponse, bool) {
	if s.cfg.DeltaHistory <= 0 || req.IntegrityFailure {
		return protocol.CheckResponse{}, false
	}
	attrs := append(appAttrs(d.Runtime, d.AppID, d.Platform, d.AppVersion), "checksum", d.Checksum, "deviceChecksum", req.Checksum)

	base, ok, err := s.deltaBase(ctx, d, req.Checksum)
	if err != nil {
		s.log.Warn("delta lookup failed: offering the full archive", append(attrs, "err", err)...)
		return protocol.CheckResponse{}, false
	}
	if !ok {
		return protocol.CheckResponse{}, false
	}
	if d.Signed && s.cfg.Signer == nil {
		s.log.Debug("no delta offered: the deployment is signed and the server has no --signing-key", attrs...)
		return protocol.CheckResponse{}, false
	}

	info, retry := s.deltas.lookup(ctx, s.deltas.keyFor(base, d), d)
	if info == nil {
		if retry {
			s.deltas.start(base, d)
		}
		return protocol.CheckResponse{}, false
	}
	if !s.deltaWorthIt(info) {
		return protocol.CheckResponse{}, false
	}

	return protocol.CheckResponse{
		UpdateAvailable:             true,
		Reason:                      protocol.ReasonAvailable,
		Checksum:                    d.Checksum,
		PackedSize:                  info.PackedSize,
		UnpackedSize:                info.UnpackedSize,
		DirectUpdateLink:            s.deltaLink(d, base.Checksum),
		DirectUpdateProtocolVersion: protocol.ProtocolVersion,
		Type:                        protocol.TypeDelta,
		BaseChecksum:                base.Checksum,
		SHA256:                      info.SHA256,
	}, true
}

// deltaBase returns the newest of the Config.DeltaHistory deployments
// before d whose checksum is checksum.
func (s *Server) deltaBase(ctx context.Context, d store.Deployment, checksum uint32) (store.Deployment, bool, error) {
	if checksum == d.Checksum {
		return store.Deployment{}, false, nil
	}
	history, err := s.meta.History(ctx, d.AppKey)
	if err != nil {
		return store.Deployment{}, false, err
	}

	n := 0
	for _, h := range history {
		if h.ID >= d.ID {
			continue
		}
		if n++; n > s.cfg.DeltaHistory {
			break
		}
		if h.Checksum == checksum {
			return h, true, nil
		}
	}

	return store.Deployment{}, false, nil
}

// deltaWorthIt reports whether a delta saves at least
// Config.DeltaMinSavings percent of the full archive's bytes.
func (s *Server) deltaWorthIt(info *deltaInfo) bool {
	if info.Skipped != "" || info.PackedSize >= info.FullPackedSize {
		return false
	}

	return info.PackedSize*100 <= info.FullPackedSize*int64(100-s.cfg.DeltaMinSavings)
}

// deltaLink returns the link of the delta from baseChecksum to d.
func (s *Server) deltaLink(d store.Deployment, baseChecksum uint32) string {
	link := protocol.DownloadLink(d.AppID, d.Platform, d.AppVersion, d.Checksum, protocol.TypeDelta, baseChecksum)
	if s.cfg.DownloadBaseURL == "" {
		return link
	}

	return s.cfg.DownloadBaseURL + "/" + d.Runtime + "/" + link
}

// downloadDelta serves the delta archive from the "base" query checksum
// to the checksum in the path, with the same headers as a full archive.
// A delta not built yet gets 404, and its build starts, so that a device
// that retries after checking again gets it.
func (s *Server) downloadDelta(w http.ResponseWriter, r *http.Request, checksum uint32, attrs []any, reject func(int, string, string)) {
	if s.cfg.DeltaHistory <= 0 {
		reject(http.StatusNotFound, "deltas disabled", "this server does not serve delta archives: request type full")
		return
	}
	runtime, appVersion := r.PathValue("runtime"), r.PathValue("appVersion")
	appID, platform := r.URL.Query().Get("appId"), r.URL.Query().Get("clientPlatform")
	if appID == "" || platform == "" {
		reject(http.StatusBadRequest, "missing query parameter", "query parameters appId and clientPlatform are required")
		return
	}
	baseChecksum, err := strconv.ParseUint(r.URL.Query().Get("base"), 10, 32)
	if err != nil {
		reject(http.StatusBadRequest, "invalid base checksum", fmt.Sprintf("query parameter base %q is invalid: want the unsigned 32-bit checksum the delta applies to", r.URL.Query().Get("base")))
		return
	}

	key := store.AppKey{Runtime: runtime, AppID: appID, Platform: platform, AppVersion: appVersion}
	target, base, ok := s.deltaDeployments(w, r, key, uint32(checksum), uint32(baseChecksum), attrs, reject)
	if !ok {
		return
	}

	info, retry := s.deltas.lookup(r.Context(), s.deltas.keyFor(base, target), target)
	if info == nil || !s.deltaWorthIt(info) {
		if info == nil && retry && !(target.Signed && s.cfg.Signer == nil) {
			s.deltas.start(base, target)
		}
		reject(http.StatusNotFound, "delta not available", fmt.Sprintf("no delta archive from checksum %d to %d is available: check for updates again", baseChecksum, checksum))
		return
	}

	// NOTE: a redirect does not check that the blob exists, so a delta
	// whose blob was lost keeps its index entry until a download through
	// an instance without --presigned-downloads drops it.
	if s.cfg.PresignedDownloads {
		filename := fmt.Sprintf("%s-%s-%s-delta-%d.zip", sanitizeFilename(target.AppID), sanitizeFilename(target.Platform),
			sanitizeFilename(target.AppVersion), base.Checksum)
		s.redirectDownload(w, r, store.Deployment{SHA256: info.SHA256}, filename, protocol.TypeDelta, attrs, reject)
		return
	}

	blob, err := s.deltas.open(r.Context(), info)
	if err != nil {
		s.log.Error("download failed: delta archive missing from the blob store", append(attrs, "sha256", info.SHA256, "err", err)...)
		s.deltas.forget(r.Context(), s.deltas.keyFor(base, target))
		reject(http.StatusNotFound, "delta missing", "the delta archive is missing: check for updates again")
		return
	}
	defer blob.Close()

	s.serveDelta(w, r, blob, info, target, base, attrs)
}

// deltaDeployments finds the target and base deployments of a delta
// download, or rejects the request.
func (s *Server) deltaDeployments(w http.ResponseWriter, r *http.Request, key store.AppKey, checksum, baseChecksum uint32, attrs []any, reject func(int, string, string)) (target, base store.Deployment, ok bool) {
	target, err := s.meta.FindByChecksum(r.Context(), key, checksum)
	if err == nil {
		base, err = s.meta.FindByChecksum(r.Context(), key, baseChecksum)
	}
	if errors.Is(err, store.ErrNotFound) {
		reject(http.StatusNotFound, "no deployment", fmt.Sprintf("no archives of %s %s %s have checksums %d and %d", key.AppID, key.Platform, key.AppVersion, baseChecksum, checksum))
		return target, base, false
	}
	if err != nil {
		s.log.Error("download failed", append(attrs, "err", err)...)
		reject(http.StatusInternalServerError, "metadata lookup failed", "download failed: see the server log")
		return target, base, false
	}

	return target, base, true
}

// serveDelta writes a delta archive like download writes a full one:
// Range, HEAD and If-None-Match against the strong ETag, cacheable
// forever because the link names both checksums.
func (s *Server) serveDelta(w http.ResponseWriter, r *http.Request, blob io.ReadSeeker, info *deltaInfo, target, base store.Deployment, attrs []any) {
	h := w.Header()
	h.Set("Content-Type", protocol.ZipContentType)
	h.Set("ETag", `"`+info.SHA256+`"`)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%s-%s-delta-%d.zip"`,
		sanitizeFilename(target.AppID), sanitizeFilename(target.Platform), sanitizeFilename(target.AppVersion), base.Checksum))

	sw := &statusWriter{ResponseWriter: w}
	http.ServeContent(sw, r, "", time.Time{}, blob)

	status := sw.status
	if status == 0 {
		status = http.StatusOK
	}
	s.metrics.downloads.WithLabelValues(protocol.TypeDelta, strconv.Itoa(status)).Inc()
	s.metrics.bytesServed.Add(float64(sw.bytes))
	if status == http.StatusOK && sw.bytes == info.PackedSize {
		s.deltas.served.Inc()
		s.deltas.saved.Add(float64(info.FullPackedSize - info.PackedSize))
	}
	s.log.Debug("delta archive served", append(attrs, "status", status, "bytes", sw.bytes, "sha256", info.SHA256,
		"baseChecksum", base.Checksum)...)
}

// logSignedWithoutKey logs at start that signed deployments get full
// archives only when the server has no signing key.
func (s *Server) logSignedWithoutKey(ctx context.Context) {
	if s.cfg.DeltaHistory <= 0 || s.cfg.Signer != nil {
		return
	}

	signed := 0
	for _, rt := range s.cfg.Runtimes {
		apps, err := s.meta.Apps(ctx, rt)
		if err != nil {
			s.log.Warn("list deployments failed", "runtime", rt, "err", err)
			return
		}
		for _, app := range apps {
			for _, v := range app.Versions {
				d, err := s.meta.Active(ctx, store.AppKey{Runtime: rt, AppID: app.AppID, Platform: app.Platform, AppVersion: v})
				if err == nil && d.Signed {
					signed++
				}
			}
		}
	}

	s.log.Info("no --signing-key: deployments of signed archives get full archives only, never deltas",
		"signedDeployments", signed)
}

// openDeltas opens the delta cache, removes the delta folder of earlier
// versions and the leftovers of interrupted builds, and logs whether
// signed deployments can get deltas.
func (s *Server) openDeltas() error {
	deltas, err := newDeltaCache(s)
	if err != nil {
		return err
	}
	s.deltas = deltas

	if err := deltas.cleanup(); err != nil {
		return fmt.Errorf("start server: remove old delta files: %w", err)
	}
	s.logSignedWithoutKey(context.Background())

	return nil
}

// prebuildDeltas starts building, in the background, the deltas from the
// Config.DeltaHistory deployments before d to d, so that devices that
// check soon after an upload already get one. A build that finds every
// build slot taken is left to the first check that needs it.
func (s *Server) prebuildDeltas(ctx context.Context, d store.Deployment) {
	if s.cfg.DeltaHistory <= 0 || (d.Signed && s.cfg.Signer == nil) {
		return
	}
	history, err := s.meta.History(ctx, d.AppKey)
	if err != nil {
		s.log.Warn("delta prebuild skipped: reading the history failed",
			append(appAttrs(d.Runtime, d.AppID, d.Platform, d.AppVersion), "err", err)...)
		return
	}

	// A check offers the delta from the newest deployment with the
	// device's checksum, so only that one per checksum is built.
	seen := map[uint32]bool{d.Checksum: true}
	n := 0
	for _, base := range history {
		if base.ID >= d.ID {
			continue
		}
		if n++; n > s.cfg.DeltaHistory {
			break
		}
		if seen[base.Checksum] {
			continue
		}
		seen[base.Checksum] = true
		if info, retry := s.deltas.lookup(ctx, s.deltas.keyFor(base, d), d); info == nil && retry {
			s.deltas.start(base, d)
		}
	}
}

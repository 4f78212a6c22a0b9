package server

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/mfpdev/mfpdev/internal/store"
	"github.com/mfpdev/mfpdev/pkg/protocol"
)

func toProtocol(d store.Deployment) protocol.Deployment {
	return protocol.Deployment{
		Runtime:         d.Runtime,
		AppID:           d.AppID,
		Platform:        d.Platform,
		AppVersion:      d.AppVersion,
		PluginVersion:   d.PluginVersion,
		PlatformVersion: d.PlatformVersion,
		Checksum:        d.Checksum,
		Size:            d.Size,
		Files:           d.Files,
		UnpackedSize:    d.UnpackedSize,
		PackedSize:      d.PackedSize,
		SHA256:          d.SHA256,
		Signed:          d.Signed,
		DeployedAt:      d.DeployedAt,
		DeployedBy:      d.DeployedBy,
		Active:          d.Active,
	}
}

// webKey returns the app version named by an admin web resources path, or
// writes a 404 and returns ok false when the runtime does not exist.
func (s *Server) webKey(w http.ResponseWriter, r *http.Request, txType string) (store.AppKey, bool) {
	key := store.AppKey{
		Runtime:    r.PathValue("runtime"),
		AppID:      r.PathValue("appId"),
		Platform:   r.PathValue("platform"),
		AppVersion: r.PathValue("version"),
	}
	if !s.hasRuntime(key.Runtime) {
		s.log.Info("admin request rejected", append(appAttrs(key.Runtime, key.AppID, key.Platform, key.AppVersion),
			"method", r.Method, "reason", "unknown runtime")...)
		s.adminError(w, http.StatusNotFound, txType, s.unknownRuntime(key.Runtime))
		return key, false
	}
	return key, true
}

func (s *Server) unknownRuntime(name string) string {
	return fmt.Sprintf("runtime %q not found: this server has %s", name, strings.Join(s.cfg.Runtimes, ", "))
}

// getWeb returns the active deployment of an app version and its history.
func (s *Server) getWeb(w http.ResponseWriter, r *http.Request) {
	key, ok := s.webKey(w, r, txRead)
	if !ok {
		return
	}

	history, err := s.meta.History(r.Context(), key)
	if err != nil {
		s.log.Error("read deployments failed", append(appAttrs(key.Runtime, key.AppID, key.Platform, key.AppVersion), "err", err)...)
		s.adminError(w, http.StatusInternalServerError, txRead, "read deployments failed: see the server log")
		return
	}
	if len(history) == 0 {
		s.adminError(w, http.StatusNotFound, txRead, fmt.Sprintf("no web resources deployed for %s %s %s in runtime %s",
			key.AppID, key.Platform, key.AppVersion, key.Runtime))
		return
	}

	var resp protocol.AdminResponse
	for _, d := range history {
		if d.Active && resp.Deployment == nil {
			p := toProtocol(d)
			resp.Deployment = &p
			continue
		}
		resp.History = append(resp.History, toProtocol(d))
	}
	s.adminOK(w, txRead, resp)
}

// deleteWeb stops offering an app version; its deployments stay as history
// and their archives stay downloadable for devices that already have a link.
func (s *Server) deleteWeb(w http.ResponseWriter, r *http.Request) {
	key, ok := s.webKey(w, r, txDelete)
	if !ok {
		return
	}
	attrs := append(appAttrs(key.Runtime, key.AppID, key.Platform, key.AppVersion), "user", userFrom(r.Context()).Name)

	err := s.meta.Deactivate(r.Context(), key)
	if errors.Is(err, store.ErrNotFound) {
		s.log.Info("delete rejected", append(attrs, "reason", "no active deployment")...)
		s.adminError(w, http.StatusNotFound, txDelete, fmt.Sprintf("no active web resources for %s %s %s in runtime %s",
			key.AppID, key.Platform, key.AppVersion, key.Runtime))
		return
	}
	if err != nil {
		s.log.Error("delete failed", append(attrs, "err", err)...)
		s.adminError(w, http.StatusInternalServerError, txDelete, "delete failed: see the server log")
		return
	}

	s.log.Info("deployment deactivated", attrs...)
	s.adminOK(w, txDelete, protocol.AdminResponse{})
}

func (s *Server) listRuntimes(w http.ResponseWriter, r *http.Request) {
	var resp protocol.AdminResponse
	for _, name := range s.cfg.Runtimes {
		resp.Runtimes = append(resp.Runtimes, protocol.Runtime{Name: name})
	}
	s.adminOK(w, txRead, resp)
}

func (s *Server) listApps(w http.ResponseWriter, r *http.Request) {
	runtime := r.PathValue("runtime")
	if !s.hasRuntime(runtime) {
		s.log.Info("admin request rejected", "method", r.Method, "runtime", runtime, "reason", "unknown runtime")
		s.adminError(w, http.StatusNotFound, txRead, s.unknownRuntime(runtime))
		return
	}

	apps, err := s.meta.Apps(r.Context(), runtime)
	if err != nil {
		s.log.Error("list apps failed", "runtime", runtime, "err", err)
		s.adminError(w, http.StatusInternalServerError, txRead, "list apps failed: see the server log")
		return
	}

	resp := protocol.AdminResponse{Applications: []protocol.Application{}}
	for _, app := range apps {
		resp.Applications = append(resp.Applications, protocol.Application{AppID: app.AppID, Platform: app.Platform, Versions: app.Versions})
	}
	s.adminOK(w, txRead, resp)
}

package server

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/mfpdev/mfpdev/pkg/protocol"
)

// Transaction types of admin responses.
const (
	txUpload = "UPLOAD_ARTIFACT"
	txDelete = "DELETE_ARTIFACT"
	txRead   = "READ"
)

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	admin := "/" + s.cfg.AdminContext + "/management-apis/2.0"
	web := admin + "/runtimes/{runtime}/applications/{appId}/{platform}/{version}/web"

	mux.Handle("POST "+web, s.requireRole(actionUpload, txUpload, s.upload))
	mux.Handle("GET "+web, limitBody(s.requireRole(actionRead, txRead, s.getWeb)))
	mux.Handle("DELETE "+web, limitBody(s.requireRole(actionDelete, txDelete, s.deleteWeb)))
	mux.Handle("GET "+admin+"/runtimes", limitBody(s.requireRole(actionRead, txRead, s.listRuntimes)))
	mux.Handle("GET "+admin+"/runtimes/{runtime}/applications", limitBody(s.requireRole(actionRead, txRead, s.listApps)))
	mux.Handle(admin+"/", limitBody(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.adminError(w, http.StatusNotFound, txRead, "no admin route "+r.Method+" "+r.URL.Path)
	})))

	mux.Handle("POST /{runtime}/api/directupdate/check", limitBody(http.HandlerFunc(s.check)))
	mux.Handle("GET /{runtime}/api/directupdate/{appVersion}/{checksum}/{type}", limitBody(http.HandlerFunc(s.download)))

	mux.Handle("GET /healthz", limitBody(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})))
	mux.Handle("GET /metrics", limitBody(s.metrics.handler()))

	return s.logRequests(mux)
}

// limitBody bounds the request body of routes that expect a small one.
func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxSmallBody)
		next.ServeHTTP(w, r)
	})
}

// statusWriter records the status and body size of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

// ReadFrom passes io.Copy through to the connection's ReadFrom, which
// sends an *os.File with sendfile(2). Without it every download would be
// copied through a user-space buffer.
func (w *statusWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := io.Copy(w.ResponseWriter, r)
	w.bytes += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests logs every request at debug level, without headers (so
// never the Authorization header), and turns a panic into a 500.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("request handler panicked", "method", r.Method, "path", r.URL.Path, "panic", p)
				if sw.status == 0 {
					http.Error(sw, "internal server error", http.StatusInternalServerError)
				}
			}
			// Checked first, because building the attributes allocates even
			// when debug is off.
			if s.log.Enabled(r.Context(), slog.LevelDebug) {
				s.log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", sw.status,
					"bytes", sw.bytes, "duration", time.Since(start).String(), "remote", r.RemoteAddr)
			}
		}()
		next.ServeHTTP(sw, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func newTransactionID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// adminError writes a failed admin response with one error per detail.
func (s *Server) adminError(w http.ResponseWriter, status int, txType string, details ...string) {
	tx := &protocol.Transaction{ID: newTransactionID(), Status: "FAILURE", Type: txType}
	for _, d := range details {
		tx.Errors = append(tx.Errors, protocol.TransactionError{Details: d})
	}
	writeJSON(w, status, protocol.AdminResponse{OK: false, ProductVersion: s.cfg.ProductVersion, Transaction: tx})
}

// adminOK writes a successful admin response; resp's OK, ProductVersion
// and Transaction are filled in.
func (s *Server) adminOK(w http.ResponseWriter, txType string, resp protocol.AdminResponse) {
	resp.OK = true
	resp.ProductVersion = s.cfg.ProductVersion
	resp.Transaction = &protocol.Transaction{ID: newTransactionID(), Status: "SUCCESS", Type: txType}
	writeJSON(w, http.StatusOK, resp)
}

// appAttrs returns the ids of an app version for log lines.
func appAttrs(runtime, appID, platform, appVersion string) []any {
	return []any{slog.String("runtime", runtime), slog.String("appId", appID),
		slog.String("platform", platform), slog.String("appVersion", appVersion)}
}

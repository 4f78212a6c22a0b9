// Package server implements the mfpdev update server: the MobileFirst-style
// admin API that receives direct-update archives, the device API that
// decides whether a device gets an update, and the download route that
// serves archives to devices and caches.
//
// Routes (admin paths are below /{admin}/management-apis/2.0, where {admin}
// is Config.AdminContext):
//
//	POST   /{admin}/…/runtimes/{runtime}/applications/{appId}/{platform}/{version}/web  upload (deployer, admin)
//	GET    /{admin}/…/runtimes/{runtime}/applications/{appId}/{platform}/{version}/web  active deployment and history
//	DELETE /{admin}/…/runtimes/{runtime}/applications/{appId}/{platform}/{version}/web  stop offering that version (admin)
//	GET    /{admin}/…/runtimes                                                          configured runtimes
//	GET    /{admin}/…/runtimes/{runtime}/applications                                   apps with an active deployment
//	POST   /{runtime}/api/directupdate/check                                            device check
//	GET    /{runtime}/api/directupdate/{appVersion}/{checksum}/{type}?appId=&clientPlatform=  download (also HEAD, Range)
//	GET    /healthz, /metrics
//
// Admin responses are protocol.AdminResponse documents, with ok false and
// one transaction error per reason on failure. Device API errors are
// {"error": message} with a 4xx or 5xx status.
//
// Every admin route needs HTTP Basic credentials. Uploads are streamed to a
// temporary file, validated with bundle.Read, and stored blob first, then
// metadata, so a rejected or interrupted upload stores nothing that is
// visible.
package server

import (
	"context"
	"crypto"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mfpdev/mfpdev/internal/store"
	"github.com/mfpdev/mfpdev/pkg/bundle"
	"github.com/mfpdev/mfpdev/pkg/protocol"
)

// Defaults applied by New to zero Config fields.
const (
	DefaultMaxUploadSize   = 512 << 20 // bytes
	DefaultShutdownTimeout = 30 * time.Second
	DefaultProductVersion  = "mfpdev"

	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultBodyTimeout       = 30 * time.Second
)

// HTTP server limits. Uploads and downloads may take long, so there is no
// overall read or write timeout: Config.ReadHeaderTimeout bounds the
// header and Config.BodyTimeout the rate of a request body.
const (
	idleTimeout    = 2 * time.Minute
	maxHeaderBytes = 64 << 10
	// maxSmallBody bounds the body of every request except uploads.
	maxSmallBody = 64 << 10
	// multipartOverhead is the room for part headers and boundaries that a
	// multipart upload gets beyond MaxUploadSize.
	multipartOverhead = 64 << 10
)

// Config configures a Server.
type Config struct {
	// DataDir holds the database, the blob folder and upload temporary
	// files. It is created if missing.
	DataDir string
	// Runtimes are the runtime names devices and uploads may use
	// (default: protocol.DefaultRuntime).
	Runtimes []string
	// AdminContext is the first path segment of the admin API
	// (default: protocol.DefaultAdminContext).
	AdminContext string
	// Users may call the admin API. With none, every admin request gets 401.
	Users []User
	// TrustedKeys, when not empty, makes uploads require an archive signed
	// by one of them.
	TrustedKeys []*rsa.PublicKey
	// MaxUploadSize bounds an uploaded archive in bytes
	// (default DefaultMaxUploadSize).
	MaxUploadSize int64
	// Limits bound the entries of an uploaded archive; zero fields take
	// bundle's defaults.
	Limits bundle.Limits
	// DownloadBaseURL, when set, makes download links absolute: the link is
	// DownloadBaseURL + "/" + runtime + "/api/directupdate/…". Use it when
	// devices download through a CDN or a proxy.
	DownloadBaseURL string
	// ShutdownTimeout bounds how long Serve waits for running requests
	// after its context is cancelled (default DefaultShutdownTimeout).
	ShutdownTimeout time.Duration
	// ProductVersion is reported in every admin response.
	ProductVersion string
	// Logger receives the server's logs (default: discarded).
	Logger *slog.Logger
	// Metadata and Blobs replace the SQLite database and blob folder in
	// DataDir. Set both or neither. The Server does not close them.
	Metadata store.Metadata
	Blobs    store.Blobs
	// Now returns the current time (default time.Now).
	Now func() time.Time

	// DeltaHistory is how many deployments before the active one a delta
	// archive may start from. A device whose checksum is that of one of
	// them gets a delta once it is built; 0 disables deltas.
	DeltaHistory int
	// DeltaMinSavings is how much smaller than the full archive, in
	// percent of its bytes, a delta must be to be offered (0 to 99).
	DeltaMinSavings int
	// Signer signs delta archives of signed deployments. Without it,
	// devices of a signed deployment always get the full archive.
	Signer crypto.Signer

	// AuthFailuresPerMinute is the number of failed admin logins one client
	// address may make per minute. Beyond it the address gets 429 with
	// Retry-After until it recovers one attempt (default
	// DefaultAuthFailuresPerMinute; negative: no limit).
	AuthFailuresPerMinute int
	// TrustedProxies are the addresses of reverse proxies whose
	// X-Forwarded-For header names the client that failed logins are
	// counted under. Without them, every client behind a proxy shares the
	// proxy's count.
	TrustedProxies []netip.Prefix
	// ReadHeaderTimeout bounds reading a request's header
	// (default DefaultReadHeaderTimeout).
	ReadHeaderTimeout time.Duration
	// BodyTimeout bounds the time a client may take to send each 64 KiB
	// of a request body, or to accept each 64 KiB of a response. A body of
	// any size must move at that minimum rate, and a small request body
	// must arrive whole within BodyTimeout (default DefaultBodyTimeout).
	BodyTimeout time.Duration

	// PresignedDownloads makes the download route respond with a redirect
	// to a presigned URL of the blob store, which then serves the bytes of
	// the full or delta archive. Blobs must implement store.Presigner.
	PresignedDownloads bool
	// PresignExpiry is how long a presigned URL stays valid
	// (default DefaultPresignExpiry).
	PresignExpiry time.Duration
}

// Server is an update server. Create it with New, run it with Serve or
// mount Handler, and release it with Close.
type Server struct {
	cfg       Config
	log       *slog.Logger
	meta      store.Metadata
	blobs     store.Blobs
	ownsStore bool
	tmpDir    string
	users     map[string]User
	metrics   *metrics
	handler   http.Handler
	deltas    *deltaCache
	failures  *failureLimiter // nil: no limit
	verified  *verifiedCache
	// responses caches encoded check responses and download links.
	responses checkResponses
}

// New opens the store, removes what interrupted uploads left behind, and
// returns a Server ready to serve.
func New(cfg Config) (*Server, error) {
	cfg, err := withDefaults(cfg)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Logger, users: map[string]User{}, metrics: newMetrics()}
	if cfg.AuthFailuresPerMinute > 0 {
		s.failures = newFailureLimiter(cfg.AuthFailuresPerMinute, cfg.Now)
	}
	s.verified = newVerifiedCache(verifiedTTL, cfg.Now)
	for _, u := range cfg.Users {
		if err := u.validate(); err != nil {
			return nil, fmt.Errorf("start server: %w", err)
		}
		if _, dup := s.users[u.Name]; dup {
			return nil, fmt.Errorf("start server: user %q is defined twice: keep one definition", u.Name)
		}
		s.users[u.Name] = u
	}

	s.tmpDir = filepath.Join(cfg.DataDir, "tmp")
	if err := os.MkdirAll(s.tmpDir, 0o750); err != nil {
		return nil, fmt.Errorf("start server: create data folder: %w", err)
	}
	if err := s.openStore(); err != nil {
		return nil, err
	}
	// Checks read active deployments from memory. Uploads and deletes go
	// through the cache and invalidate it. Writes by other instances
	// sharing a PostgreSQL database invalidate it when they commit
	// (FollowChanges), and with other backends show after at most
	// store.DefaultActiveCacheTTL.
	cached := store.NewCachedMetadata(s.meta, store.DefaultActiveCacheTTL)
	cached.FollowChanges()
	s.meta = cached
	if err := s.cleanup(); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.openDeltas(); err != nil {
		s.Close()
		return nil, err
	}

	s.handler = s.routes()
	return s, nil
}

func withDefaults(cfg Config) (Config, error) {
	if cfg.DataDir == "" {
		return cfg, errors.New("start server: data folder missing: set Config.DataDir")
	}

	if len(cfg.Runtimes) == 0 {
		cfg.Runtimes = []string{protocol.DefaultRuntime}
	}
	if cfg.AdminContext == "" {
		cfg.AdminContext = protocol.DefaultAdminContext
	}
	cfg.AdminContext = strings.Trim(cfg.AdminContext, "/")
	if err := validateSegment("admin context", cfg.AdminContext); err != nil {
		return cfg, fmt.Errorf("start server: %w", err)
	}
	for _, rt := range cfg.Runtimes {
		if err := validateSegment("runtime", rt); err != nil {
			return cfg, fmt.Errorf("start server: %w", err)
		}
		if rt == cfg.AdminContext || rt == "healthz" || rt == "metrics" {
			return cfg, fmt.Errorf("start server: runtime name %q is taken by another route: choose another name", rt)
		}
	}

	if cfg.MaxUploadSize <= 0 {
		cfg.MaxUploadSize = DefaultMaxUploadSize
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = DefaultShutdownTimeout
	}
	if cfg.ProductVersion == "" {
		cfg.ProductVersion = DefaultProductVersion
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.AuthFailuresPerMinute == 0 {
		cfg.AuthFailuresPerMinute = DefaultAuthFailuresPerMinute
	}
	if cfg.ReadHeaderTimeout <= 0 {
		cfg.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if cfg.BodyTimeout <= 0 {
		cfg.BodyTimeout = DefaultBodyTimeout
	}
	if (cfg.Metadata == nil) != (cfg.Blobs == nil) {
		return cfg, errors.New("start server: set both Metadata and Blobs or neither")
	}
	if err := validatePresign(&cfg); err != nil {
		return cfg, err
	}
	cfg.DownloadBaseURL = strings.TrimRight(cfg.DownloadBaseURL, "/")
	return cfg, nil
}

// validateSegment checks a name used as one URL path segment.
func validateSegment(what, name string) error {
	if name == "" {
		return fmt.Errorf("%s is empty", what)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return fmt.Errorf("%s %q contains %q: use letters, digits, '-', '_' and '.'", what, name, r)
		}
	}
	return nil
}

func (s *Server) openStore() error {
	if s.cfg.Metadata != nil {
		s.meta, s.blobs = s.cfg.Metadata, s.cfg.Blobs
		return nil
	}

	meta, err := store.OpenSQLite(context.Background(), filepath.Join(s.cfg.DataDir, "metadata.db"))
	if err != nil {
		return fmt.Errorf("start server: %w", err)
	}
	blobs, err := store.OpenFolder(filepath.Join(s.cfg.DataDir, "blobs"))
	if err != nil {
		meta.Close()
		return fmt.Errorf("start server: %w", err)
	}
	s.meta, s.blobs, s.ownsStore = meta, blobs, true
	return nil
}

// cleanup removes upload temporary files and blobs no deployment
// references. It runs before the server accepts requests.
func (s *Server) cleanup() error {
	entries, err := os.ReadDir(s.tmpDir)
	if err != nil {
		return fmt.Errorf("start server: %w", err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), uploadTempPrefix) {
			if err := os.Remove(filepath.Join(s.tmpDir, e.Name())); err != nil {
				return fmt.Errorf("start server: remove upload leftover: %w", err)
			}
		}
	}

	// Other instances sharing an injected store may have stored a blob
	// whose row is not committed yet, so recent blobs stay there. The
	// store in DataDir belongs to this process alone.
	minAge := unreferencedBlobMinAge
	if s.ownsStore {
		minAge = 0
	}
	removed, err := store.RemoveUnreferencedOlderThan(context.Background(), s.meta, s.blobs, minAge, s.cfg.Now())
	if err != nil {
		return fmt.Errorf("start server: remove unreferenced blobs: %w", err)
	}
	if len(removed) > 0 {
		s.log.Info("removed unreferenced blobs", "count", len(removed))
	}
	return nil
}

// Handler returns the server's routes, for mounting in another server or
// an httptest.Server.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve serves requests on ln until ctx is cancelled, then stops
// accepting connections and waits up to Config.ShutdownTimeout for running
// requests. It returns nil after a complete graceful stop.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.bodyDeadline(s.handler),
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.log.Info("server started", "addr", ln.Addr().String(), "data", s.cfg.DataDir,
		"metadata", backendName(s.meta), "blobs", backendName(s.blobs), "runtimes", s.cfg.Runtimes)

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	select {
	case err := <-served:
		return fmt.Errorf("serve on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}

	s.log.Info("server stopping", "timeout", s.cfg.ShutdownTimeout.String())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		srv.Close()
		s.log.Error("server stopped before running requests finished", "timeout", s.cfg.ShutdownTimeout.String(), "err", err)
		return fmt.Errorf("stop server: requests still running after %s were cut off: raise --shutdown-timeout", s.cfg.ShutdownTimeout)
	}
	<-served
	s.log.Info("server stopped")
	return nil
}

// Close releases the store the Server opened in DataDir.
func (s *Server) Close() error {
	if s.deltas != nil {
		s.deltas.close()
	}
	if !s.ownsStore {
		return nil
	}
	return s.meta.Close()
}

func backendName(v any) string {
	switch v := v.(type) {
	case *store.CachedMetadata:
		return backendName(v.Unwrap())
	case *store.SQLite:
		return "sqlite"
	case *store.Folder:
		return "folder"
	case fmt.Stringer:
		return v.String()
	default:
		return fmt.Sprintf("%T", v)
	}
}

func (s *Server) hasRuntime(name string) bool {
	return slices.Contains(s.cfg.Runtimes, name)
}

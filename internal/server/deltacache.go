package server

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mfpdev/mfpdev/internal/store"
)

// Delta cache settings.
const (
	// deltaBuilders bounds the delta archives built at the same time. A
	// build decompresses the target archive once and compresses the
	// changed files, so it is CPU bound.
	deltaBuilders = 2
	// deltaRetryAfter is the time after a failed build before the next try.
	deltaRetryAfter = 10 * time.Minute
	// deltaFormat names the layout of cached deltas in their index key.
	// A change of the layout or of the diff rules changes it, so the next
	// start deletes the old entries.
	deltaFormat = "d1"
)

// deltaKey names one delta: the SHA-256 of the base and target archives
// and the signing key, so that a new key or new archive bytes never serve
// a stale delta.
type deltaKey struct {
	base, target string
	keyID        string // "unsigned" or the first 16 hex digits of the key's SHA-256
}

func (k deltaKey) name() string {
	return deltaFormat + "-" + k.base + "-" + k.target + "-" + k.keyID + ".json"
}

// deltaInfo is the index entry of one delta, stored as JSON.
type deltaInfo struct {
	// SHA256 is the delta archive's blob key; empty when Skipped is set.
	SHA256       string `json:"sha256,omitempty"`
	PackedSize   int64  `json:"packedSize"`
	UnpackedSize int64  `json:"unpackedSize"`
	// FullPackedSize is the target's full archive size in bytes.
	FullPackedSize int64 `json:"fullPackedSize"`
	// Skipped is the reason no delta archive was kept, such as a delta
	// that could not be smaller than the full archive.
	Skipped string `json:"skipped,omitempty"`
	// MinSavings is the Config.DeltaMinSavings a delta was skipped for
	// missing, so that a server started with another setting builds it
	// again.
	MinSavings int `json:"minSavings,omitempty"`
}

// deltaEntry is the in-memory state of one delta.
type deltaEntry struct {
	building bool
	failedAt time.Time // zero unless the last build failed
	info     *deltaInfo
}

// deltaCache builds delta archives in the background and keeps them in a
// blob folder of their own, DataDir/deltas/blobs, with one index file per
// (base, target, signing key) in DataDir/deltas/index. Everything in it may
// be deleted: a missing delta is built again on demand. The cache is
// local to one server even when Config.Blobs is shared.
type deltaCache struct {
	s        *Server
	indexDir string
	blobs    *store.Folder
	signer   crypto.Signer
	signerID string

	sem    chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	entries map[deltaKey]*deltaEntry

	served   prometheus.Counter
	saved    prometheus.Counter
	builds   *prometheus.CounterVec
	building prometheus.Gauge
}

func newDeltaCache(s *Server) (*deltaCache, error) {
	cfg := s.cfg
	if cfg.DeltaHistory < 0 {
		return nil, fmt.Errorf("start server: delta history %d is invalid: use 0 (no deltas) or more", cfg.DeltaHistory)
	}
	if cfg.DeltaMinSavings < 0 || cfg.DeltaMinSavings >= 100 {
		return nil, fmt.Errorf("start server: delta minimum savings %d%% is invalid: use 0 to 99", cfg.DeltaMinSavings)
	}

	root := filepath.Join(cfg.DataDir, "deltas")
	c := &deltaCache{s: s, indexDir: filepath.Join(root, "index"), signer: cfg.Signer,
		sem: make(chan struct{}, deltaBuilders), entries: make(map[deltaKey]*deltaEntry)}
	if err := os.MkdirAll(c.indexDir, 0o750); err != nil {
		return nil, fmt.Errorf("start server: create delta folder: %w", err)
	}
	blobs, err := store.OpenFolder(filepath.Join(root, "blobs"))
	if err != nil {
		return nil, fmt.Errorf("start server: %w", err)
	}
	c.blobs = blobs

	if c.signer != nil {
		id, err := keyID(c.signer.Public())
		if err != nil {
			return nil, fmt.Errorf("start server: signing key: %w", err)
		}
		c.signerID = id
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.registerMetrics(s.metrics.registry)

	return c, nil
}

func (c *deltaCache) registerMetrics(reg *prometheus.Registry) {
	c.served = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "mfpdev_deltas_served_total",
		Help: "Delta archives sent whole to a client (status 200 responses to GET).",
	})
	c.saved = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "mfpdev_delta_bytes_saved_total",
		Help: "Full archive size minus delta archive size, in bytes, summed over the deltas served.",
	})
	c.builds = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mfpdev_delta_builds_total",
		Help: "Delta builds by result: built, skipped (not smaller than the full archive) or failed.",
	}, []string{"result"})
	c.building = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "mfpdev_delta_builds_running",
		Help: "Delta archives being built now.",
	})
	reg.MustRegister(c.served, c.saved, c.builds, c.building)
}

// keyID returns the first 16 hex digits of the SHA-256 of the DER public key.
func keyID(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(der)

	return hex.EncodeToString(sum[:8]), nil
}

// keyFor returns the cache key of the delta from base to target.
func (c *deltaCache) keyFor(base, target store.Deployment) deltaKey {
	k := deltaKey{base: base.SHA256, target: target.SHA256, keyID: "unsigned"}
	if target.Signed && c.signer != nil {
		k.keyID = c.signerID
	}

	return k
}

// lookup returns the delta's index entry from memory or disk, or nil when
// it is not built yet. retry is true when a build may start now.
func (c *deltaCache) lookup(k deltaKey) (info *deltaInfo, retry bool) {
	c.mu.Lock()
	e := c.entries[k]
	c.mu.Unlock()
	switch {
	case e == nil:
	case e.info != nil:
		return e.info, false
	case e.building:
		return nil, false
	case time.Since(e.failedAt) < deltaRetryAfter:
		return nil, false
	}

	info, err := c.readIndex(k)
	if err != nil || (info.MinSavings != 0 && info.MinSavings != c.s.cfg.DeltaMinSavings) {
		return nil, true
	}
	c.mu.Lock()
	c.entries[k] = &deltaEntry{info: info}
	c.mu.Unlock()

	return info, false
}

func (c *deltaCache) readIndex(k deltaKey) (*deltaInfo, error) {
	b, err := os.ReadFile(filepath.Join(c.indexDir, k.name()))
	if err != nil {
		return nil, err
	}
	var info deltaInfo
	if err := json.Unmarshal(b, &info); err != nil {
		return nil, err
	}
	if info.Skipped == "" {
		rc, _, err := c.blobs.Open(context.Background(), info.SHA256)
		if err != nil {
			return nil, fmt.Errorf("delta index %s: %w", k.name(), err)
		}
		rc.Close()
	}

	return &info, nil
}

// writeIndex stores info as the index file of k, atomically.
func (c *deltaCache) writeIndex(k deltaKey, info *deltaInfo) error {
	b, err := json.Marshal(info)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(c.indexDir, ".index-*.tmp")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(b)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return err
	}

	return os.Rename(tmp.Name(), filepath.Join(c.indexDir, k.name()))
}

// start builds the delta from base to target in the background. It does
// nothing when that build runs already or all builders are busy, so a
// later check starts it.
func (c *deltaCache) start(base, target store.Deployment) {
	k := c.keyFor(base, target)
	select {
	case c.sem <- struct{}{}:
	default:
		return
	}

	c.mu.Lock()
	if e := c.entries[k]; e != nil && (e.building || e.info != nil) {
		c.mu.Unlock()
		<-c.sem
		return
	}
	c.entries[k] = &deltaEntry{building: true}
	c.wg.Add(1)
	c.mu.Unlock()

	go func() {
		defer c.wg.Done()
		defer func() { <-c.sem }()
		c.building.Inc()
		defer c.building.Dec()

		c.run(k, base, target)
	}()
}

// run builds one delta and records the outcome. A failure is logged and
// leaves devices on full archives; it never reaches a request.
func (c *deltaCache) run(k deltaKey, base, target store.Deployment) {
	attrs := append(appAttrs(target.Runtime, target.AppID, target.Platform, target.AppVersion),
		"baseChecksum", base.Checksum, "checksum", target.Checksum)
	began := time.Now()

	info, err := c.buildSafely(k, base, target)
	if err == nil {
		err = c.writeIndex(k, info)
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.entries[k] = &deltaEntry{failedAt: time.Now()}
		c.builds.WithLabelValues("failed").Inc()
		if c.ctx.Err() == nil {
			c.s.log.Error("delta build failed: devices get the full archive", append(attrs, "err", err)...)
		}
		return
	}

	c.entries[k] = &deltaEntry{info: info}
	if info.Skipped != "" {
		c.builds.WithLabelValues("skipped").Inc()
		c.s.log.Info("delta not kept: devices get the full archive", append(attrs, "reason", info.Skipped)...)
		return
	}
	c.builds.WithLabelValues("built").Inc()
	c.s.log.Info("delta built", append(attrs, "packedSize", info.PackedSize, "fullPackedSize", info.FullPackedSize,
		"sha256", info.SHA256, "duration", time.Since(began).String())...)
}

// forget drops the entry of k, so that the next lookup reads the index
// again or starts a build.
func (c *deltaCache) forget(k deltaKey) {
	c.mu.Lock()
	delete(c.entries, k)
	c.mu.Unlock()
	os.Remove(filepath.Join(c.indexDir, k.name()))
}

// buildSafely runs build and turns a panic into an error, because a
// build runs outside any request and a panic there would stop the server.
func (c *deltaCache) buildSafely(k deltaKey, base, target store.Deployment) (info *deltaInfo, err error) {
	defer func() {
		if p := recover(); p != nil {
			info, err = nil, fmt.Errorf("delta build panicked: %v", p)
		}
	}()

	return c.build(c.ctx, k, base, target)
}

// close stops running builds and waits for them.
func (c *deltaCache) close() {
	c.cancel()
	c.wg.Wait()
}

// wait blocks until no build runs. Tests use it.
func (c *deltaCache) wait() { c.wg.Wait() }

// cleanup deletes index entries whose base or target archive no
// deployment references any more, the delta blobs no index entry
// references, and the leftovers of interrupted builds. It runs at start.
func (c *deltaCache) cleanup(ctx context.Context) error {
	if err := c.blobs.RemoveTemp(ctx); err != nil {
		return err
	}
	referenced, err := c.s.meta.BlobKeys(ctx)
	if err != nil {
		return err
	}

	entries, err := os.ReadDir(c.indexDir)
	if err != nil {
		return err
	}
	keep := make(map[string]bool)
	for _, e := range entries {
		path := filepath.Join(c.indexDir, e.Name())
		parts := strings.Split(strings.TrimSuffix(e.Name(), ".json"), "-")
		if len(parts) != 4 || parts[0] != deltaFormat || !referenced[parts[1]] || !referenced[parts[2]] {
			if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			continue
		}
		var info deltaInfo
		if b, err := os.ReadFile(path); err == nil && json.Unmarshal(b, &info) == nil {
			keep[info.SHA256] = true
		}
	}

	keys, err := c.blobs.List(ctx)
	if err != nil {
		return err
	}
	for _, key := range keys {
		if !keep[key] {
			if err := c.blobs.Delete(ctx, key); err != nil {
				return err
			}
		}
	}

	return nil
}

// open opens a stored delta archive.
func (c *deltaCache) open(ctx context.Context, info *deltaInfo) (io.ReadSeekCloser, error) {
	rc, _, err := c.blobs.Open(ctx, info.SHA256)
	return rc, err
}

// signerPublicKey returns the RSA public key of the signing key.
func (c *deltaCache) signerPublicKey() (*rsa.PublicKey, error) {
	pub, ok := c.signer.Public().(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("signing key is a %T, not an RSA key", c.signer.Public())
	}

	return pub, nil
}

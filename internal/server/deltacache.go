package server

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
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
	// deltaFormat names the layout of deltas in their index key. A change
	// of the layout or of the diff rules changes it, so that every delta is
	// built again. Entries of an old format stay until their deployments
	// are deleted.
	deltaFormat = "d1"
	// deltaRecordTimeout bounds the write of a build's outcome to the
	// delta index.
	deltaRecordTimeout = 30 * time.Second
	// deltaWorkPrefix starts the names of build work folders in the
	// server's temporary folder.
	deltaWorkPrefix = "delta-build-"
)

// deltaInfo is the part of one delta index entry the server uses.
type deltaInfo struct {
	// SHA256 is the delta archive's blob key, empty when Skipped is set.
	SHA256       string
	PackedSize   int64
	UnpackedSize int64
	// FullPackedSize is the target's full archive size in bytes.
	FullPackedSize int64
	// Skipped is the reason no delta archive was kept, such as a delta
	// that could not be smaller than the full archive.
	Skipped string
	// MinSavings is the Config.DeltaMinSavings a delta was skipped for
	// missing, so that a server started with another setting builds it
	// again.
	MinSavings int
}

// deltaEntry is the in-memory state of one delta.
type deltaEntry struct {
	building bool
	failedAt time.Time // zero unless the last build failed
	info     *deltaInfo
}

// deltaCache builds delta archives in the background, stores them in
// Config.Blobs and records each outcome in the delta index of
// Config.Metadata, so that every server instance sharing the store serves
// a delta any of them built. The in-memory entries are copies of index
// entries plus the builds running in this process, safe to lose.
type deltaCache struct {
	s        *Server
	workDir  string
	signer   crypto.Signer
	signerID string

	sem    chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	entries map[store.DeltaKey]*deltaEntry

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

	c := &deltaCache{s: s, workDir: s.tmpDir, signer: cfg.Signer,
		sem: make(chan struct{}, deltaBuilders), entries: make(map[store.DeltaKey]*deltaEntry)}
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

// keyFor returns the delta index key of the delta from base to target.
func (c *deltaCache) keyFor(base, target store.Deployment) store.DeltaKey {
	k := store.DeltaKey{AppKey: target.AppKey, BaseSHA256: base.SHA256, TargetSHA256: target.SHA256,
		KeyID: "unsigned", Format: deltaFormat}
	if target.Signed && c.signer != nil {
		k.KeyID = c.signerID
	}

	return k
}

// lookup returns the delta's index entry from memory or the delta index,
// or nil when it is not built yet. retry is true when a build may start
// now: no instance has built the delta, or its last build failed more
// than deltaRetryAfter ago.
func (c *deltaCache) lookup(ctx context.Context, k store.DeltaKey, target store.Deployment) (info *deltaInfo, retry bool) {
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

	b, err := c.s.meta.DeltaBuild(ctx, k)
	if errors.Is(err, store.ErrNotFound) {
		return nil, true
	}
	if err != nil {
		c.s.log.Warn("delta index lookup failed: offering the full archive", "delta", k.String(), "err", err)
		return nil, false
	}
	switch b.State {
	case store.DeltaFailed:
		return nil, time.Since(b.UpdatedAt) >= deltaRetryAfter
	case store.DeltaSkipped:
		if b.MinSavings != 0 && b.MinSavings != c.s.cfg.DeltaMinSavings {
			return nil, true
		}
	}

	info = &deltaInfo{SHA256: b.SHA256, PackedSize: b.PackedSize, UnpackedSize: b.UnpackedSize,
		FullPackedSize: target.PackedSize, MinSavings: b.MinSavings}
	if b.State == store.DeltaSkipped {
		info.Skipped = b.Reason
	}
	c.mu.Lock()
	c.entries[k] = &deltaEntry{info: info}
	c.mu.Unlock()

	return info, false
}

// record stores the outcome of a build in the delta index. A failure
// caused by the server stopping is not recorded.
func (c *deltaCache) record(k store.DeltaKey, base, target store.Deployment, info *deltaInfo, buildErr error) error {
	b := store.DeltaBuild{DeltaKey: k, BaseChecksum: base.Checksum, TargetChecksum: target.Checksum}
	switch {
	case buildErr != nil:
		if c.ctx.Err() != nil {
			return nil
		}
		b.State, b.Reason = store.DeltaFailed, buildErr.Error()
	case info.Skipped != "":
		b.State, b.Reason, b.MinSavings = store.DeltaSkipped, info.Skipped, info.MinSavings
	default:
		b.State, b.SHA256, b.PackedSize, b.UnpackedSize = store.DeltaBuilt, info.SHA256, info.PackedSize, info.UnpackedSize
	}

	// The build may have been cancelled, so the write gets a context of
	// its own.
	ctx, cancel := context.WithTimeout(context.Background(), deltaRecordTimeout)
	defer cancel()
	return c.s.meta.PutDeltaBuild(ctx, &b)
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
func (c *deltaCache) run(k store.DeltaKey, base, target store.Deployment) {
	attrs := append(appAttrs(target.Runtime, target.AppID, target.Platform, target.AppVersion),
		"baseChecksum", base.Checksum, "checksum", target.Checksum)
	began := time.Now()

	info, err := c.buildSafely(k, base, target)
	if err == nil {
		err = c.record(k, base, target, info, nil)
	} else if rerr := c.record(k, base, target, nil, err); rerr != nil {
		c.s.log.Warn("recording the failed delta build failed", append(attrs, "err", rerr)...)
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

// forget drops the entry of k from memory and from the delta index, so
// that the next check builds the delta again.
func (c *deltaCache) forget(ctx context.Context, k store.DeltaKey) {
	c.mu.Lock()
	delete(c.entries, k)
	c.mu.Unlock()
	if err := c.s.meta.DeleteDeltaBuild(ctx, k); err != nil {
		c.s.log.Warn("removing a delta index entry failed", "delta", k.String(), "err", err)
	}
}

// buildSafely runs build and turns a panic into an error, because a
// build runs outside any request and a panic there would stop the server.
func (c *deltaCache) buildSafely(k store.DeltaKey, base, target store.Deployment) (info *deltaInfo, err error) {
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

// cleanup removes the delta folder that earlier versions kept in
// DataDir and the work folders of builds that a crash interrupted. The
// delta index and blobs are cleaned with the deployments by
// store.RemoveUnreferenced.
func (c *deltaCache) cleanup() error {
	if err := os.RemoveAll(filepath.Join(c.s.cfg.DataDir, "deltas")); err != nil {
		return err
	}
	entries, err := os.ReadDir(c.workDir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), deltaWorkPrefix) {
			if err := os.RemoveAll(filepath.Join(c.workDir, e.Name())); err != nil {
				return err
			}
		}
	}

	return nil
}

// open opens a stored delta archive.
func (c *deltaCache) open(ctx context.Context, info *deltaInfo) (io.ReadSeekCloser, error) {
	rc, _, err := c.s.blobs.Open(ctx, info.SHA256)
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

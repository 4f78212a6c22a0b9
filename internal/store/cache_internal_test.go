package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// countingMetadata counts the Active calls that reach the real database.
type countingMetadata struct {
	Metadata
	active atomic.Int64
}

func (m *countingMetadata) Active(ctx context.Context, key AppKey) (Deployment, error) {
	m.active.Add(1)
	return m.Metadata.Active(ctx, key)
}

// newCacheFixture returns a CachedMetadata over a fresh SQLite database,
// the database itself (a second writer, like another server instance),
// and a clock the test moves.
func newCacheFixture(t *testing.T) (*CachedMetadata, *countingMetadata, *SQLite, *time.Time) {
	t.Helper()
	db, err := OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "metadata.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })

	counting := &countingMetadata{Metadata: db}
	cache := NewCachedMetadata(counting, time.Second)
	now := time.Unix(1700000000, 0)
	cache.now = func() time.Time { return now }
	return cache, counting, db, &now
}

var cacheKey = AppKey{Runtime: "mfp", AppID: "com.example.app", Platform: "android", AppVersion: "1.0.0"}

func cacheDeployment(checksum uint32) *Deployment {
	return &Deployment{AppKey: cacheKey, PluginVersion: "8.0.2024082705", Checksum: checksum,
		SHA256: "aa00000000000000000000000000000000000000000000000000000000000000", DeployedAt: time.Unix(1700000000, 0)}
}

func TestCachedActiveReadsDatabaseOnce(t *testing.T) {
	cache, counting, _, _ := newCacheFixture(t)
	ctx := context.Background()
	if err := cache.Insert(ctx, cacheDeployment(1)); err != nil {
		t.Fatal(err)
	}

	for range 5 {
		d, err := cache.Active(ctx, cacheKey)
		if err != nil {
			t.Fatal(err)
		}
		if d.Checksum != 1 {
			t.Fatalf("checksum = %d, want 1", d.Checksum)
		}
	}
	if n := counting.active.Load(); n != 1 {
		t.Errorf("database reads = %d, want 1", n)
	}
}

func TestCachedActiveCachesNotFound(t *testing.T) {
	cache, counting, _, _ := newCacheFixture(t)
	ctx := context.Background()

	for range 3 {
		if _, err := cache.Active(ctx, cacheKey); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Active: %v, want ErrNotFound", err)
		}
	}
	if n := counting.active.Load(); n != 1 {
		t.Errorf("database reads = %d, want 1", n)
	}
}

func TestCachedActiveSeesInsertAtOnce(t *testing.T) {
	cache, _, _, _ := newCacheFixture(t)
	ctx := context.Background()
	if _, err := cache.Active(ctx, cacheKey); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Active before insert: %v, want ErrNotFound", err)
	}

	for checksum := uint32(1); checksum <= 3; checksum++ {
		if err := cache.Insert(ctx, cacheDeployment(checksum)); err != nil {
			t.Fatal(err)
		}
		d, err := cache.Active(ctx, cacheKey)
		if err != nil {
			t.Fatal(err)
		}
		if d.Checksum != checksum {
			t.Errorf("after insert %d: checksum = %d", checksum, d.Checksum)
		}
	}
}

func TestCachedActiveSeesDeactivateAndDelete(t *testing.T) {
	cache, _, _, _ := newCacheFixture(t)
	ctx := context.Background()
	d := cacheDeployment(7)
	if err := cache.Insert(ctx, d); err != nil {
		t.Fatal(err)
	}
	if _, err := cache.Active(ctx, cacheKey); err != nil {
		t.Fatal(err)
	}

	if err := cache.Deactivate(ctx, cacheKey); err != nil {
		t.Fatal(err)
	}
	if _, err := cache.Active(ctx, cacheKey); !errors.Is(err, ErrNotFound) {
		t.Errorf("Active after Deactivate: %v, want ErrNotFound", err)
	}

	d2 := cacheDeployment(8)
	if err := cache.Insert(ctx, d2); err != nil {
		t.Fatal(err)
	}
	if _, err := cache.Active(ctx, cacheKey); err != nil {
		t.Fatal(err)
	}
	if err := cache.Delete(ctx, d2.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := cache.Active(ctx, cacheKey); !errors.Is(err, ErrNotFound) {
		t.Errorf("Active after Delete: %v, want ErrNotFound", err)
	}
}

func TestCachedActiveExpiresOtherWriters(t *testing.T) {
	cache, _, db, now := newCacheFixture(t)
	ctx := context.Background()
	if err := cache.Insert(ctx, cacheDeployment(1)); err != nil {
		t.Fatal(err)
	}
	if _, err := cache.Active(ctx, cacheKey); err != nil {
		t.Fatal(err)
	}

	// Another instance sharing the database uploads a new version.
	if err := db.Insert(ctx, cacheDeployment(2)); err != nil {
		t.Fatal(err)
	}
	d, err := cache.Active(ctx, cacheKey)
	if err != nil {
		t.Fatal(err)
	}
	if d.Checksum != 1 {
		t.Errorf("within the TTL: checksum = %d, want the cached 1", d.Checksum)
	}

	*now = now.Add(time.Second)
	d, err = cache.Active(ctx, cacheKey)
	if err != nil {
		t.Fatal(err)
	}
	if d.Checksum != 2 {
		t.Errorf("after the TTL: checksum = %d, want 2", d.Checksum)
	}
}

func TestCachedActiveDropsLookupRacingInsert(t *testing.T) {
	cache, _, db, _ := newCacheFixture(t)
	ctx := context.Background()
	if err := db.Insert(ctx, cacheDeployment(1)); err != nil {
		t.Fatal(err)
	}

	// A lookup reads the old row, then an insert through the cache
	// commits before the lookup stores what it read.
	cache.mu.RLock()
	generation := cache.generation
	cache.mu.RUnlock()
	if err := cache.Insert(ctx, cacheDeployment(2)); err != nil {
		t.Fatal(err)
	}
	cache.mu.Lock()
	stale := cache.generation == generation
	cache.mu.Unlock()
	if stale {
		t.Fatal("Insert did not advance the cache generation: a racing lookup could store the old row")
	}

	d, err := cache.Active(ctx, cacheKey)
	if err != nil {
		t.Fatal(err)
	}
	if d.Checksum != 2 {
		t.Errorf("checksum = %d, want 2", d.Checksum)
	}
}

func TestCachedActiveBoundsKeys(t *testing.T) {
	cache, _, _, _ := newCacheFixture(t)
	ctx := context.Background()

	for i := range maxCachedKeys + 10 {
		key := cacheKey
		key.AppVersion = "1.0." + strconv.Itoa(i)
		if _, err := cache.Active(ctx, key); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Active %s: %v", key, err)
		}
	}
	cache.mu.RLock()
	n := len(cache.entries)
	cache.mu.RUnlock()
	if n > maxCachedKeys {
		t.Errorf("cached keys = %d, want at most %d", n, maxCachedKeys)
	}
}

// countingHistory counts the History calls that reach the real database.
type countingHistory struct {
	Metadata
	history atomic.Int64
}

func (m *countingHistory) History(ctx context.Context, key AppKey) ([]Deployment, error) {
	m.history.Add(1)
	return m.Metadata.History(ctx, key)
}

func TestCachedHistorySeesInsertAtOnce(t *testing.T) {
	db, err := OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "metadata.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	counting := &countingHistory{Metadata: db}
	cache := NewCachedMetadata(counting, time.Minute)
	ctx := context.Background()

	for checksum := uint32(1); checksum <= 3; checksum++ {
		if err := cache.Insert(ctx, cacheDeployment(checksum)); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			history, err := cache.History(ctx, cacheKey)
			if err != nil {
				t.Fatal(err)
			}
			if len(history) != int(checksum) {
				t.Fatalf("after insert %d: %d deployments in history, want %d", checksum, len(history), checksum)
			}
			if history[0].Checksum != checksum {
				t.Errorf("after insert %d: newest checksum = %d", checksum, history[0].Checksum)
			}
		}
	}
	if n := counting.history.Load(); n != 3 {
		t.Errorf("database reads = %d, want 3 (one per insert)", n)
	}
}

func TestCachedActiveNeverOlderThanLastInsert(t *testing.T) {
	cache, _, _, _ := newCacheFixture(t)
	cache.now = time.Now
	ctx := context.Background()
	if err := cache.Insert(ctx, cacheDeployment(1)); err != nil {
		t.Fatal(err)
	}

	// Readers record the last checksum whose Insert had returned before
	// their lookup started; the lookup must not return an older one.
	var committed atomic.Uint32
	committed.Store(1)
	done := make(chan struct{})
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			for i := 0; ; i++ {
				select {
				case <-done:
					errs <- nil
					return
				default:
				}
				want := committed.Load()
				d, err := cache.Active(ctx, cacheKey)
				if err != nil {
					errs <- err
					return
				}
				if d.Checksum < want {
					errs <- fmt.Errorf("lookup %d returned checksum %d after the insert of %d returned", i, d.Checksum, want)
					return
				}
			}
		}()
	}

	for checksum := uint32(2); checksum <= 30; checksum++ {
		if err := cache.Insert(ctx, cacheDeployment(checksum)); err != nil {
			t.Fatal(err)
		}
		committed.Store(checksum)
	}
	close(done)
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

package store

import (
	"context"
	"errors"
	"sync"
	"time"
)

// DefaultActiveCacheTTL is how long CachedMetadata keeps an active
// deployment it read. Writes through the same CachedMetadata invalidate
// their entries at once. The TTL bounds how long a write by another
// process sharing the database (another server instance) stays unseen.
const DefaultActiveCacheTTL = time.Second

// maxCachedKeys bounds the number of app versions CachedMetadata keeps.
// Device checks name any app id they like, so lookups of app versions
// that have no deployment are cached too and must not grow the map
// without bound. At the bound the whole cache is dropped.
const maxCachedKeys = 10_000

// CachedMetadata is a Metadata that keeps the results of Active and History
// in memory, so that device checks do not query the database. Losing the
// cache loses nothing: every entry is a copy of rows.
//
// Insert, Deactivate and Delete called on the CachedMetadata drop the
// cached entries they may change before returning, so a check that starts
// after an upload or delete returned gets the new state. Writes that reach
// the database some other way are seen after at most the TTL.
type CachedMetadata struct {
	Metadata
	ttl time.Duration
	now func() time.Time

	mu        sync.RWMutex
	entries   map[AppKey]activeEntry
	histories map[AppKey]historyEntry
	// generation increases with every invalidation. A lookup that started
	// before an invalidation does not store its possibly stale result.
	generation uint64
}

type activeEntry struct {
	deployment Deployment
	found      bool
	expires    time.Time
}

type historyEntry struct {
	list    []Deployment
	expires time.Time
}

// NewCachedMetadata wraps meta with a cache of active deployments whose
// entries live at most ttl (DefaultActiveCacheTTL when ttl <= 0).
func NewCachedMetadata(meta Metadata, ttl time.Duration) *CachedMetadata {
	if ttl <= 0 {
		ttl = DefaultActiveCacheTTL
	}
	return &CachedMetadata{Metadata: meta, ttl: ttl, now: time.Now,
		entries: map[AppKey]activeEntry{}, histories: map[AppKey]historyEntry{}}
}

// Active returns the active deployment of key from the cache, or reads it
// from the wrapped Metadata and caches the result, ErrNotFound included.
func (c *CachedMetadata) Active(ctx context.Context, key AppKey) (Deployment, error) {
	now := c.now()
	c.mu.RLock()
	e, ok := c.entries[key]
	generation := c.generation
	c.mu.RUnlock()
	if ok && now.Before(e.expires) {
		if !e.found {
			return Deployment{}, ErrNotFound
		}
		return e.deployment, nil
	}

	d, err := c.Metadata.Active(ctx, key)
	found := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return d, err
	}

	c.mu.Lock()
	if c.generation == generation {
		if len(c.entries) >= maxCachedKeys {
			clear(c.entries)
		}
		c.entries[key] = activeEntry{deployment: d, found: found, expires: now.Add(c.ttl)}
	}
	c.mu.Unlock()
	return d, err
}

// History returns every deployment of key, newest first, from the cache or
// from the wrapped Metadata. Callers share the returned slice and must not
// modify it.
func (c *CachedMetadata) History(ctx context.Context, key AppKey) ([]Deployment, error) {
	now := c.now()
	c.mu.RLock()
	e, ok := c.histories[key]
	generation := c.generation
	c.mu.RUnlock()
	if ok && now.Before(e.expires) {
		return e.list, nil
	}

	list, err := c.Metadata.History(ctx, key)
	if err != nil {
		return nil, err
	}

	c.mu.Lock()
	if c.generation == generation {
		if len(c.histories) >= maxCachedKeys {
			clear(c.histories)
		}
		c.histories[key] = historyEntry{list: list, expires: now.Add(c.ttl)}
	}
	c.mu.Unlock()
	return list, nil
}

// Insert stores d and drops the cached entries of d.AppKey.
func (c *CachedMetadata) Insert(ctx context.Context, d *Deployment) error {
	defer c.invalidate(d.AppKey)
	return c.Metadata.Insert(ctx, d)
}

// Deactivate stops offering key and drops its cached entries.
func (c *CachedMetadata) Deactivate(ctx context.Context, key AppKey) error {
	defer c.invalidate(key)
	return c.Metadata.Deactivate(ctx, key)
}

// Delete removes deployment id and drops the whole cache, because the
// id alone does not name the app version.
func (c *CachedMetadata) Delete(ctx context.Context, id int64) error {
	defer c.invalidateAll()
	return c.Metadata.Delete(ctx, id)
}

// Unwrap returns the wrapped Metadata.
func (c *CachedMetadata) Unwrap() Metadata { return c.Metadata }

func (c *CachedMetadata) invalidate(key AppKey) {
	c.mu.Lock()
	c.generation++
	delete(c.entries, key)
	delete(c.histories, key)
	c.mu.Unlock()
}

func (c *CachedMetadata) invalidateAll() {
	c.mu.Lock()
	c.generation++
	clear(c.entries)
	clear(c.histories)
	c.mu.Unlock()
}

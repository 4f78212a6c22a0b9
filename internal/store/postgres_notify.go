package store

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// deploymentsChannel is the PostgreSQL NOTIFY channel on which writers
// announce the app version they changed. The payload is the JSON of an
// AppKey, or empty when any app version may have changed.
const deploymentsChannel = "mfpdev_deployments"

// maxNotifyPayload stays below PostgreSQL's limit of 8000 bytes for a
// NOTIFY payload; longer keys are announced as an empty payload.
const maxNotifyPayload = 7900

// listenRetryDelay is the pause before the listener connects again after
// its connection failed.
const listenRetryDelay = time.Second

// changeFeed delivers the changes that any process sharing the database
// announces, to the functions registered with Postgres.OnChange.
type changeFeed struct {
	mu          sync.Mutex
	subscribers []func(key *AppKey)
	cancel      context.CancelFunc
	done        chan struct{}
}

// notifyChange announces a change of key, or of any key when key is nil,
// inside tx, so that listeners get it once tx commits.
func notifyChange(ctx context.Context, tx pgx.Tx, key *AppKey) error {
	payload := ""
	if key != nil {
		b, err := json.Marshal(key)
		if err != nil {
			return err
		}
		if len(b) <= maxNotifyPayload {
			payload = string(b)
		}
	}
	_, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, deploymentsChannel, payload)
	return err
}

// OnChange registers fn to be called with the app version that a write by
// any process sharing the database changed, or with nil when any app
// version may have changed. That includes the time after the listening
// connection was lost and made again. fn runs on the listener's goroutine
// and must not block. The listener starts with the first OnChange and
// stops at Close.
func (p *Postgres) OnChange(fn func(key *AppKey)) {
	p.changes.mu.Lock()
	defer p.changes.mu.Unlock()
	p.changes.subscribers = append(p.changes.subscribers, fn)
	if p.changes.cancel != nil {
		return
	}

	ctx, cancel := context.WithCancel(context.Background())
	p.changes.cancel = cancel
	p.changes.done = make(chan struct{})
	go func() {
		defer close(p.changes.done)
		p.listen(ctx)
	}()
}

// stopListening stops the listener, if one runs, and waits for it.
func (p *Postgres) stopListening() {
	p.changes.mu.Lock()
	cancel, done := p.changes.cancel, p.changes.done
	p.changes.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

func (p *Postgres) deliver(key *AppKey) {
	p.changes.mu.Lock()
	subscribers := p.changes.subscribers
	p.changes.mu.Unlock()
	for _, fn := range subscribers {
		fn(key)
	}
}

// listen holds one connection outside the pool that LISTENs on
// deploymentsChannel, and connects again after a failure until ctx ends.
func (p *Postgres) listen(ctx context.Context) {
	for ctx.Err() == nil {
		p.listenOnce(ctx)

		// Changes made while no connection listened are unknown.
		p.deliver(nil)
		select {
		case <-ctx.Done():
		case <-time.After(listenRetryDelay):
		}
	}
}

func (p *Postgres) listenOnce(ctx context.Context) {
	conn, err := pgx.ConnectConfig(ctx, p.pool.Config().ConnConfig.Copy())
	if err != nil {
		return
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+deploymentsChannel); err != nil {
		return
	}
	// Writes committed before LISTEN took effect were not announced.
	p.deliver(nil)

	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return
		}
		if n.Payload == "" {
			p.deliver(nil)
			continue
		}
		var key AppKey
		if err := json.Unmarshal([]byte(n.Payload), &key); err != nil {
			p.deliver(nil)
			continue
		}
		p.deliver(&key)
	}
}

// changeNotifier is a Metadata that reports writes by other processes.
type changeNotifier interface {
	OnChange(fn func(key *AppKey))
}

// FollowChanges makes c drop cached entries as soon as the wrapped
// Metadata reports a write by another process sharing the database, so
// that they are not served until the TTL ends. Only PostgreSQL reports
// such writes; with other backends FollowChanges does nothing.
func (c *CachedMetadata) FollowChanges() {
	notifier, ok := c.Metadata.(changeNotifier)
	if !ok {
		return
	}
	notifier.OnChange(func(key *AppKey) {
		if key == nil {
			c.invalidateAll()
			return
		}
		c.invalidate(*key)
	})
}

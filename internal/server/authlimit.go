package server

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"math"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// DefaultAuthFailuresPerMinute is the number of failed admin logins one
// client address may make per minute before it gets 429 responses.
const DefaultAuthFailuresPerMinute = 10

// maxTrackedClients bounds the memory of the failure limiter. When it is
// full, a new address evicts the entries that have recovered completely.
// NOTE: if none has recovered, the new address is not tracked and may fail
// without limit until room frees up, each try still costing a bcrypt
// comparison.
const maxTrackedClients = 100_000

// failureLimiter counts failed logins per client address with a token
// bucket: a client starts with perMinute tokens, each failure takes one,
// and tokens come back at perMinute per minute.
type failureLimiter struct {
	perMinute int
	now       func() time.Time

	mu      sync.Mutex
	clients map[string]*bucket
}

type bucket struct {
	tokens  float64
	updated time.Time
}

func newFailureLimiter(perMinute int, now func() time.Time) *failureLimiter {
	return &failureLimiter{perMinute: perMinute, now: now, clients: make(map[string]*bucket)}
}

// refill brings b up to date and returns its tokens.
func (l *failureLimiter) refill(b *bucket, now time.Time) float64 {
	elapsed := now.Sub(b.updated).Minutes()
	if elapsed > 0 {
		b.tokens = math.Min(float64(l.perMinute), b.tokens+elapsed*float64(l.perMinute))
		b.updated = now
	}
	return b.tokens
}

// retryAfter returns how long client must wait before its next login
// attempt, or 0 when it may try now.
func (l *failureLimiter) retryAfter(client string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()

	b := l.clients[client]
	if b == nil {
		return 0
	}
	tokens := l.refill(b, l.now())
	if tokens >= 1 {
		return 0
	}

	missing := 1 - tokens
	return time.Duration(missing / float64(l.perMinute) * float64(time.Minute))
}

// fail takes one token from client and reports whether that used the
// last one, so the caller logs once when a client goes over the limit.
func (l *failureLimiter) fail(client string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()

	now := l.now()
	b := l.clients[client]
	if b == nil {
		if len(l.clients) >= maxTrackedClients && !l.evictRecovered(now) {
			return false
		}
		b = &bucket{tokens: float64(l.perMinute), updated: now}
		l.clients[client] = b
	}
	before := l.refill(b, now)
	b.tokens = math.Max(0, b.tokens-1)
	return before >= 1 && b.tokens < 1
}

// evictRecovered deletes the clients whose bucket is full again and
// reports whether any was deleted.
func (l *failureLimiter) evictRecovered(now time.Time) bool {
	evicted := false
	for client, b := range l.clients {
		if l.refill(b, now) >= float64(l.perMinute) {
			delete(l.clients, client)
			evicted = true
		}
	}
	return evicted
}

// clientAddress returns the address failed logins are counted under: the
// request's peer, or, when the peer is one of Config.TrustedProxies, the
// last X-Forwarded-For address that is not a trusted proxy. Forwarding
// headers from other peers are ignored because any client can set them.
// An IPv6 address counts as its /64 network, which one host usually owns
// whole.
func (s *Server) clientAddress(r *http.Request) string {
	return clientKey(s.forwardedClient(r))
}

func clientKey(addr netip.Addr) string {
	if addr.Is6() {
		prefix, err := addr.Prefix(64)
		if err == nil {
			return prefix.String()
		}
	}
	return addr.String()
}

func (s *Server) forwardedClient(r *http.Request) netip.Addr {
	peer := peerAddress(r.RemoteAddr)
	if !s.trustedProxy(peer) {
		return peer
	}

	// Proxies append the address they received the request from, so the
	// client is the rightmost entry that is not one of our proxies.
	values := r.Header.Values("X-Forwarded-For")
	for i := len(values) - 1; i >= 0; i-- {
		hops := strings.Split(values[i], ",")
		for j := len(hops) - 1; j >= 0; j-- {
			hop, err := netip.ParseAddr(strings.TrimSpace(hops[j]))
			if err != nil {
				return peer
			}
			hop = hop.Unmap()
			if !s.trustedProxy(hop) {
				return hop
			}
		}
	}
	return peer
}

func (s *Server) trustedProxy(addr netip.Addr) bool {
	for _, prefix := range s.cfg.TrustedProxies {
		if prefix.Contains(addr) {
			return true
		}
	}
	return false
}

// peerAddress returns the IP address of a RemoteAddr ("host:port").
func peerAddress(remoteAddr string) netip.Addr {
	addrPort, err := netip.ParseAddrPort(remoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return addrPort.Addr().Unmap()
}

// verifiedCache remembers credentials that bcrypt accepted, for ttl, so
// that a client sending the same Basic credentials on every request pays
// the bcrypt cost (about 100 ms at the default cost) once per ttl. Keys
// are HMAC-SHA256 of the user name, the password and the stored hash,
// under a key drawn at start: the cache holds no password, and losing it
// only costs a bcrypt comparison.
type verifiedCache struct {
	ttl time.Duration
	now func() time.Time
	key []byte

	mu      sync.Mutex
	entries map[[sha256.Size]byte]time.Time // expiry
}

// maxVerifiedEntries bounds the cache: when full, it is emptied.
const maxVerifiedEntries = 1024

// verifiedTTL is how long accepted credentials are remembered.
const verifiedTTL = time.Minute

func newVerifiedCache(ttl time.Duration, now func() time.Time) *verifiedCache {
	key := make([]byte, 32)
	rand.Read(key)
	return &verifiedCache{ttl: ttl, now: now, key: key, entries: make(map[[sha256.Size]byte]time.Time)}
}

func (c *verifiedCache) sum(name, password string, hash []byte) [sha256.Size]byte {
	mac := hmac.New(sha256.New, c.key)
	for _, field := range [][]byte{[]byte(name), []byte(password), hash} {
		var size [8]byte
		n := len(field)
		for i := range size {
			size[i] = byte(n >> (8 * i))
		}
		mac.Write(size[:])
		mac.Write(field)
	}

	var out [sha256.Size]byte
	copy(out[:], mac.Sum(nil))
	return out
}

// contains reports whether these credentials were accepted less than ttl ago.
func (c *verifiedCache) contains(name, password string, hash []byte) bool {
	key := c.sum(name, password, hash)

	c.mu.Lock()
	defer c.mu.Unlock()
	expiry, ok := c.entries[key]
	if ok && c.now().Before(expiry) {
		return true
	}
	delete(c.entries, key)
	return false
}

// add remembers accepted credentials.
func (c *verifiedCache) add(name, password string, hash []byte) {
	key := c.sum(name, password, hash)

	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= maxVerifiedEntries {
		clear(c.entries)
	}
	c.entries[key] = c.now().Add(c.ttl)
}

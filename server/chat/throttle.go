package chat

import (
	"net/netip"
	"sync"
	"time"

	"github.com/chatd/chatd/auth"
	"github.com/chatd/chatd/server"
)

// maxThrottleKeys bounds each throttle map. Past it, idle entries (full
// buckets) are swept; if the map is still full, new keys go unthrottled
// rather than grow memory without bound (the per-connection limits still
// apply).
const maxThrottleKeys = 100_000

// loginThrottle limits login attempts per source address, and failed
// logins per account name, across connections.
//
// An attempt for a name reserves one failure from two buckets before the
// backend is asked: the name's bucket for this address
// (chat.login.account_failures per account_window) and the name's bucket
// over all addresses (account_failures_total). A login that did not fail
// on its merits (accepted, backend broken, server busy) gives both back.
// Reserving first means a burst of attempts sent at once cannot slip past
// the limit while the first ones are still being checked; the per-address
// bucket means one address cannot lock a name out for everyone.
//
// Its methods are safe for concurrent use; each takes one short lock.
type loginThrottle struct {
	addresses keyedBuckets // attempts per address
	pairs     keyedBuckets // failures per name and address
	names     keyedBuckets // failures per name
}

func newLoginThrottle(addrRate float64, addrBurst, failures, failuresTotal int, window time.Duration) *loginThrottle {
	per := window.Seconds()
	return &loginThrottle{
		addresses: newKeyedBuckets(addrRate, float64(addrBurst)),
		pairs:     newKeyedBuckets(float64(failures)/per, float64(failures)),
		names:     newKeyedBuckets(float64(failuresTotal)/per, float64(failuresTotal)),
	}
}

// allowAddress takes one login attempt from addr's bucket.
func (t *loginThrottle) allowAddress(addr netip.Addr) bool {
	return t.addresses.take(addressKey(addr), time.Now())
}

// reserve takes one failure for name from addr before an attempt, and
// returns the account key to settle it with, "" when the name is no
// account (invalid names; the name rules refuse them anyway). ok is false
// when the name has no failures left: the attempt must be refused.
func (t *loginThrottle) reserve(name string, addr netip.Addr) (account string, ok bool) {
	key := auth.NameKey(name)
	if key == "" {
		return "", true
	}
	now := time.Now()
	pair := key + "\x00" + addressKey(addr)
	if !t.pairs.take(pair, now) {
		return "", false
	}
	if !t.names.take(key, now) {
		t.pairs.give(pair)
		return "", false
	}
	return key, true
}

// release gives back what reserve took, for an attempt that did not fail
// on its merits.
func (t *loginThrottle) release(account string, addr netip.Addr) {
	if account == "" {
		return
	}
	t.pairs.give(account + "\x00" + addressKey(addr))
	t.names.give(account)
}

func (t *loginThrottle) sweep(now time.Time) {
	t.addresses.sweep(now)
	t.pairs.sweep(now)
	t.names.sweep(now)
}

// addressKey groups addresses as connection admission does
// (server.ClientAddress).
func addressKey(a netip.Addr) string { return server.ClientAddress(a).String() }

// keyedBuckets is a token bucket per key: rate tokens per second up to
// burst. A key with a full bucket is the same as no key, so full buckets
// are dropped by sweeps. mu guards m and every bucket.
type keyedBuckets struct {
	rate, burst float64
	mu          sync.Mutex
	m           map[string]*bucket
}

// bucket holds tokens as of last (unix nanoseconds).
type bucket struct {
	tokens float64
	last   int64
}

func newKeyedBuckets(rate, burst float64) keyedBuckets {
	return keyedBuckets{rate: rate, burst: burst, m: map[string]*bucket{}}
}

// refillLocked brings b up to now.
func (k *keyedBuckets) refillLocked(b *bucket, now int64) {
	if now > b.last {
		b.tokens = min(k.burst, b.tokens+float64(now-b.last)/1e9*k.rate)
		b.last = now
	}
}

// take takes one token for key, reporting whether there was one.
func (k *keyedBuckets) take(key string, at time.Time) bool {
	now := at.UnixNano()
	k.mu.Lock()
	defer k.mu.Unlock()
	b := k.m[key]
	if b == nil {
		if len(k.m) >= maxThrottleKeys {
			k.sweepLocked(now)
			if len(k.m) >= maxThrottleKeys {
				return true // full of active keys: unthrottled, bounded memory
			}
		}
		b = &bucket{tokens: k.burst, last: now}
		k.m[key] = b
	}
	k.refillLocked(b, now)
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// give returns one token to key's bucket.
func (k *keyedBuckets) give(key string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if b := k.m[key]; b != nil {
		b.tokens = min(k.burst, b.tokens+1)
	}
}

// sweep drops the keys whose bucket is full again: forgetting them
// changes nothing.
func (k *keyedBuckets) sweep(at time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.sweepLocked(at.UnixNano())
}

func (k *keyedBuckets) sweepLocked(now int64) {
	for key, b := range k.m {
		if k.refillLocked(b, now); b.tokens >= k.burst {
			delete(k.m, key)
		}
	}
}

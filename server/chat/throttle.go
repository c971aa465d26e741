package chat

import (
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/chatd/chatd/auth"
)

// maxThrottleKeys bounds each throttle map. Past it, idle entries (full
// buckets) are swept; if the map is still full, new keys go unthrottled
// rather than grow memory without bound (the per-connection limits still
// apply).
const maxThrottleKeys = 100_000

// loginThrottle limits login attempts per source address and failed logins
// per account name, across connections. Its methods are safe for
// concurrent use; each takes one short lock.
type loginThrottle struct {
	addresses keyedLimiter
	accounts  keyedLimiter
}

func newLoginThrottle(addrRate float64, addrBurst, failures int, window time.Duration) *loginThrottle {
	return &loginThrottle{
		addresses: keyedLimiter{limit: rate.Limit(addrRate), burst: addrBurst, m: map[string]*rate.Limiter{}},
		accounts:  keyedLimiter{limit: rate.Limit(float64(failures) / window.Seconds()), burst: failures, m: map[string]*rate.Limiter{}},
	}
}

// allowAddress takes one login attempt from addr's bucket.
func (t *loginThrottle) allowAddress(addr netip.Addr) bool {
	return t.addresses.allow(addressKey(addr), time.Now())
}

// accountOpen reports whether name may try to log in: it has failures
// left in its bucket. It takes nothing; accountFailed does.
func (t *loginThrottle) accountOpen(name string) bool {
	key := auth.NameKey(name)
	return key == "" || t.accounts.tokens(key, time.Now()) >= 1
}

// accountFailed takes one failure from name's bucket. An invalid name
// (empty key) is no account: its failures cost nothing here, the name
// rules refuse it anyway.
func (t *loginThrottle) accountFailed(name string) {
	if key := auth.NameKey(name); key != "" {
		t.accounts.allow(key, time.Now())
	}
}

// addressKey groups addresses the way a client controls them: an IPv4
// address, or an IPv6 /64 (one host's usual allocation).
func addressKey(a netip.Addr) string {
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// keyedLimiter is a token bucket per key. mu guards m and sweeps.
type keyedLimiter struct {
	limit rate.Limit
	burst int
	mu    sync.Mutex
	m     map[string]*rate.Limiter
}

func (k *keyedLimiter) allow(key string, now time.Time) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	l := k.getLocked(key, now)
	if l == nil {
		return true
	}
	return l.AllowN(now, 1)
}

func (k *keyedLimiter) tokens(key string, now time.Time) float64 {
	k.mu.Lock()
	defer k.mu.Unlock()
	if l := k.m[key]; l != nil {
		return l.TokensAt(now)
	}
	return float64(k.burst)
}

// getLocked returns key's limiter, creating it; nil when the map is full
// of active keys.
func (k *keyedLimiter) getLocked(key string, now time.Time) *rate.Limiter {
	if l := k.m[key]; l != nil {
		return l
	}
	if len(k.m) >= maxThrottleKeys {
		k.sweepLocked(now)
		if len(k.m) >= maxThrottleKeys {
			return nil
		}
	}
	l := rate.NewLimiter(k.limit, k.burst)
	k.m[key] = l
	return l
}

// sweepLocked drops the keys whose bucket is full again: forgetting them
// changes nothing.
func (k *keyedLimiter) sweepLocked(now time.Time) {
	for key, l := range k.m {
		if l.TokensAt(now) >= float64(k.burst) {
			delete(k.m, key)
		}
	}
}

// sweep is sweepLocked for the periodic janitor.
func (k *keyedLimiter) sweep(now time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.sweepLocked(now)
}

package throttle

import (
	"net/netip"
	"sync"
	"time"

	"github.com/chatd/chatd/auth"
)

// maxKeys bounds each family of buckets (doc.go, Bounds).
const maxKeys = 100_000

// sweepEvery is how often a family drops its idle keys on its own.
const sweepEvery = time.Minute

// Config sets the buckets. chatd fills it from chat.login (address_rate,
// address_burst, account_failures, account_failures_total,
// account_window), whose defaults Default returns.
type Config struct {
	// AddressRate and AddressBurst are a token bucket on login attempts
	// per source address. Defaults 20 and 100.
	AddressRate  float64
	AddressBurst int
	// AccountFailures failed logins for one name from one address are
	// allowed per AccountWindow. Defaults 10 and one minute.
	AccountFailures int
	AccountWindow   time.Duration
	// AccountFailuresTotal failed logins for one name are allowed per
	// AccountWindow over all addresses together. Default 100.
	AccountFailuresTotal int
}

// Default returns the defaults, those of chat.login.
func Default() Config {
	return Config{AddressRate: 20, AddressBurst: 100, AccountFailures: 10,
		AccountWindow: time.Minute, AccountFailuresTotal: 100}
}

// Throttle limits login attempts per address and failed logins per name.
// It is safe for concurrent use (doc.go).
type Throttle struct {
	addresses buckets // attempts per address
	pairs     buckets // failures per name and address
	names     buckets // failures per name
	now       func() time.Time
}

// New returns a Throttle with cfg's buckets.
func New(cfg Config) *Throttle {
	per := cfg.AccountWindow.Seconds()
	return &Throttle{
		addresses: newBuckets(cfg.AddressRate, float64(cfg.AddressBurst)),
		pairs:     newBuckets(float64(cfg.AccountFailures)/per, float64(cfg.AccountFailures)),
		names:     newBuckets(float64(cfg.AccountFailuresTotal)/per, float64(cfg.AccountFailuresTotal)),
		now:       time.Now,
	}
}

// SetConfig changes the buckets' rates and sizes to cfg's (chatd calls it
// on SIGHUP). Each key keeps its bucket: a lowered size caps the tokens
// left at the bucket's next use, a raised one lets it refill further.
func (t *Throttle) SetConfig(cfg Config) {
	per := cfg.AccountWindow.Seconds()
	t.addresses.set(cfg.AddressRate, float64(cfg.AddressBurst))
	t.pairs.set(float64(cfg.AccountFailures)/per, float64(cfg.AccountFailures))
	t.names.set(float64(cfg.AccountFailuresTotal)/per, float64(cfg.AccountFailuresTotal))
}

// AllowAddress takes one login attempt from addr's bucket, reporting
// whether there was one. Call it for every attempt, before Reserve.
func (t *Throttle) AllowAddress(addr netip.Addr) bool {
	return t.addresses.take(addressKey(addr), t.now())
}

// Reserve takes one failure for name from addr before the backend is
// asked, and returns the account key to settle it with: "" when the name
// is no account (auth.NameKey is empty; the name rules refuse it anyway).
// ok is false when the name has no failures left, for addr or in total:
// the attempt must be refused without asking the backend.
func (t *Throttle) Reserve(name string, addr netip.Addr) (account string, ok bool) {
	key := auth.NameKey(name)
	if key == "" {
		return "", true
	}
	now := t.now()
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

// Release gives back what Reserve took, for an attempt that did not fail
// on its merits: accepted, a broken backend, a busy server. account is
// what Reserve returned ("" does nothing); addr must be the same.
func (t *Throttle) Release(account string, addr netip.Addr) {
	if account == "" {
		return
	}
	t.pairs.give(account + "\x00" + addressKey(addr))
	t.names.give(account)
}

// Sweep drops the keys whose buckets are full again as of now. It is
// optional: each family also sweeps itself once a minute.
func (t *Throttle) Sweep(now time.Time) {
	t.addresses.sweep(now)
	t.pairs.sweep(now)
	t.names.sweep(now)
}

// addressKey groups addresses as connection admission does
// (server.ClientAddress): IPv4 addresses alone, IPv6 by /64.
func addressKey(a netip.Addr) string {
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}

// buckets is a token bucket per key: rate tokens per second up to burst.
// A key with a full bucket is the same as no key, so full buckets are
// dropped by sweeps. mu guards rate, burst (SetConfig), m, nextSweep and
// every bucket.
type buckets struct {
	rate, burst float64
	mu          sync.Mutex
	m           map[string]*bucket
	nextSweep   int64 // unix nanoseconds
}

// bucket holds tokens as of last (unix nanoseconds).
type bucket struct {
	tokens float64
	last   int64
}

func newBuckets(rate, burst float64) buckets {
	return buckets{rate: rate, burst: burst, m: map[string]*bucket{}}
}

func (k *buckets) set(rate, burst float64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.rate, k.burst = rate, burst
}

// refillLocked brings b up to now, within the size in force (which
// SetConfig may have lowered since b was last used).
func (k *buckets) refillLocked(b *bucket, now int64) {
	if now > b.last {
		b.tokens += float64(now-b.last) / 1e9 * k.rate
		b.last = now
	}
	b.tokens = min(k.burst, b.tokens)
}

// take takes one token for key, reporting whether there was one.
func (k *buckets) take(key string, at time.Time) bool {
	now := at.UnixNano()
	k.mu.Lock()
	defer k.mu.Unlock()
	if now >= k.nextSweep {
		k.sweepLocked(now)
	}
	b := k.m[key]
	if b == nil {
		if len(k.m) >= maxKeys {
			k.sweepLocked(now)
			if len(k.m) >= maxKeys {
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

// give returns one token to key's bucket. A bucket full again is
// forgotten at once (a new one starts full): a successful login leaves
// nothing behind, so a server full of logged-in users holds no bucket for
// them.
func (k *buckets) give(key string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if b := k.m[key]; b != nil {
		if b.tokens = min(k.burst, b.tokens+1); b.tokens >= k.burst {
			delete(k.m, key)
		}
	}
}

// sweep drops the keys whose bucket is full again: forgetting them
// changes nothing.
func (k *buckets) sweep(at time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.sweepLocked(at.UnixNano())
}

func (k *buckets) sweepLocked(now int64) {
	k.nextSweep = now + int64(sweepEvery)
	for key, b := range k.m {
		if k.refillLocked(b, now); b.tokens >= k.burst {
			delete(k.m, key)
		}
	}
}

package throttle

import (
	"net/netip"
	"sync"
	"testing"
	"time"
)

// clock is a settable clock for a Throttle under test.
type clock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newTest(cfg Config) (*Throttle, *clock) {
	c := &clock{t: time.Unix(1_000_000, 0)}
	t := New(cfg)
	t.now = c.now
	return t, c
}

var (
	addrA = netip.MustParseAddr("192.0.2.1")
	addrB = netip.MustParseAddr("192.0.2.2")
)

func TestAllowAddress(t *testing.T) {
	cfg := Default()
	cfg.AddressRate, cfg.AddressBurst = 1, 3
	th, c := newTest(cfg)
	for i := range 3 {
		if !th.AllowAddress(addrA) {
			t.Fatalf("attempt %d refused within the burst", i+1)
		}
	}
	if th.AllowAddress(addrA) {
		t.Fatal("attempt past the burst allowed")
	}
	if !th.AllowAddress(addrB) {
		t.Fatal("another address was refused")
	}
	c.add(time.Second)
	if !th.AllowAddress(addrA) {
		t.Fatal("refused after a refill")
	}
}

func TestAddressGroups(t *testing.T) {
	cases := []struct {
		name string
		a, b string
		same bool
	}{
		{"ipv4 mapped", "192.0.2.1", "::ffff:192.0.2.1", true},
		{"ipv4 neighbours", "192.0.2.1", "192.0.2.2", false},
		{"ipv6 same /64", "2001:db8::1", "2001:db8::ffff:1", true},
		{"ipv6 other /64", "2001:db8::1", "2001:db8:0:1::1", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Default()
			cfg.AddressBurst = 1
			th, _ := newTest(cfg)
			th.AllowAddress(netip.MustParseAddr(tc.a))
			if got := !th.AllowAddress(netip.MustParseAddr(tc.b)); got != tc.same {
				t.Fatalf("shared a bucket: %v, want %v", got, tc.same)
			}
		})
	}
}

func TestReserveRelease(t *testing.T) {
	cfg := Default()
	cfg.AccountFailures, cfg.AccountFailuresTotal, cfg.AccountWindow = 2, 3, time.Minute
	th, c := newTest(cfg)
	for i := range 2 {
		if _, ok := th.Reserve("alice", addrA); !ok {
			t.Fatalf("failure %d refused", i+1)
		}
	}
	if _, ok := th.Reserve("Alice", addrA); ok {
		t.Fatal("a third failure from one address allowed (names are keyed by auth.NameKey)")
	}
	// Released attempts cost nothing.
	for range 5 {
		acct, ok := th.Reserve("bob", addrA)
		if !ok || acct == "" {
			t.Fatalf("bob: %q %v", acct, ok)
		}
		th.Release(acct, addrA)
	}
	// The total bucket: one more from B, then none from anywhere.
	if _, ok := th.Reserve("alice", addrB); !ok {
		t.Fatal("another address refused before the total")
	}
	if _, ok := th.Reserve("alice", netip.MustParseAddr("198.51.100.7")); ok {
		t.Fatal("past account_failures_total allowed")
	}
	// A refusal by the total gives its per-address failure back.
	c.add(cfg.AccountWindow / 3) // one total failure back
	if _, ok := th.Reserve("alice", netip.MustParseAddr("198.51.100.7")); !ok {
		t.Fatal("refused after the total refilled")
	}
	if acct, ok := th.Reserve("", addrA); acct != "" || !ok {
		t.Fatalf("no name: %q %v", acct, ok)
	}
}

func TestSweep(t *testing.T) {
	th, c := newTest(Default())
	acct, _ := th.Reserve("alice", addrA)
	th.AllowAddress(addrA)
	if acct == "" || len(th.pairs.m) != 1 || len(th.addresses.m) != 1 {
		t.Fatal("nothing kept")
	}
	th.Sweep(c.now())
	if len(th.pairs.m) != 1 {
		t.Fatal("a key with a used token swept")
	}
	c.add(time.Hour)
	th.AllowAddress(addrB) // sweeps addresses on its own after a minute
	if len(th.addresses.m) != 1 {
		t.Fatalf("%d address keys, want only the new one", len(th.addresses.m))
	}
	th.Sweep(c.now())
	if len(th.pairs.m) != 0 || len(th.names.m) != 0 {
		t.Fatal("full buckets kept")
	}
}

// TestReleaseForgetsFullBuckets: a reservation given back leaves no
// bucket behind (a logged-in user costs the throttle nothing), and one
// not given back stays counted.
func TestReleaseForgetsFullBuckets(t *testing.T) {
	th, _ := newTest(Default())
	acct, _ := th.Reserve("alice", addrA)
	th.Release(acct, addrA)
	if len(th.pairs.m) != 0 || len(th.names.m) != 0 {
		t.Fatalf("%d pair and %d name buckets kept after a release", len(th.pairs.m), len(th.names.m))
	}
	th.Reserve("bob", addrA) // a failure: kept
	acct, _ = th.Reserve("bob", addrA)
	th.Release(acct, addrA)
	if len(th.pairs.m) != 1 || len(th.names.m) != 1 {
		t.Fatalf("%d pair and %d name buckets, want bob's failure kept", len(th.pairs.m), len(th.names.m))
	}
}

func TestConcurrent(t *testing.T) {
	cfg := Default()
	cfg.AccountFailures, cfg.AccountFailuresTotal = 5, 5
	th := New(cfg)
	var wg sync.WaitGroup
	var mu sync.Mutex
	got := 0
	for range 50 {
		wg.Go(func() {
			if _, ok := th.Reserve("alice", addrA); ok {
				mu.Lock()
				got++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if got != 5 {
		t.Fatalf("%d reservations, want 5", got)
	}
}

// TestSetConfig: a lowered burst caps a bucket already drawn on, a new
// rate refills at the new pace, and the failure buckets change too.
func TestSetConfig(t *testing.T) {
	cfg := Default()
	cfg.AddressRate, cfg.AddressBurst = 1, 10
	th, c := newTest(cfg)
	for range 2 {
		th.AllowAddress(addrA) // 8 left
	}
	cfg.AddressRate, cfg.AddressBurst = 0.001, 2
	cfg.AccountFailures = 1
	th.SetConfig(cfg)
	for i := range 2 {
		if !th.AllowAddress(addrA) {
			t.Fatalf("attempt %d refused within the new burst", i+1)
		}
	}
	if th.AllowAddress(addrA) {
		t.Fatal("attempt past the new burst allowed")
	}
	if !th.AllowAddress(addrB) {
		t.Fatal("a new address was refused")
	}
	c.add(time.Second) // 1 token at the old rate; 0.001 at the new
	if th.AllowAddress(addrA) {
		t.Fatal("refilled at the old rate")
	}
	if _, ok := th.Reserve("alice", addrA); !ok {
		t.Fatal("first failure refused")
	}
	if _, ok := th.Reserve("alice", addrA); ok {
		t.Fatal("second failure allowed past account_failures 1")
	}
}

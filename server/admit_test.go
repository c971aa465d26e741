package server

import (
	"net/netip"
	"runtime"
	"testing"
	"time"
)

func TestKeyOf(t *testing.T) {
	key := func(s string) addrKey { return keyOf(netip.MustParseAddrPort(s)) }
	same := [][2]string{
		{"192.0.2.1:1000", "192.0.2.1:2000"},                                 // ports do not matter
		{"192.0.2.1:1", "[::ffff:192.0.2.1]:2"},                              // IPv4-mapped is IPv4
		{"[2001:db8:1:2:aaaa::1]:1", "[2001:db8:1:2:ffff:ffff:ffff:ffff]:2"}, // one /64
	}
	for _, p := range same {
		if key(p[0]) != key(p[1]) {
			t.Errorf("%s and %s: different keys, want one", p[0], p[1])
		}
	}
	different := [][2]string{
		{"192.0.2.1:1", "192.0.2.2:1"},
		{"[2001:db8:1:2::1]:1", "[2001:db8:1:3::1]:1"}, // neighbouring /64s
		{"[::1]:1", "0.0.0.1:1"},                       // ::/64 is not IPv4
		{"[::]:1", "0.0.0.0:1"},
	}
	for _, p := range different {
		if key(p[0]) == key(p[1]) {
			t.Errorf("%s and %s: one key, want different ones", p[0], p[1])
		}
	}
}

func testAdmission(mutate func(*Connections), maxHandshakes int) *admission {
	c := DefaultConfig().Connections
	if mutate != nil {
		mutate(&c)
	}
	return newAdmission(c, maxHandshakes)
}

// TestAdmissionRate: the bucket allows burst connections at once, then one
// per interval; a refusal takes no token and says how long to wait.
func TestAdmissionRate(t *testing.T) {
	a := testAdmission(func(c *Connections) { c.RatePerAddress = 10; c.BurstPerAddress = 3 }, 100)
	k := keyOf(netip.MustParseAddrPort("192.0.2.1:1"))
	now := time.Now().UnixNano()
	for i := 0; i < 3; i++ {
		if v, _ := a.admit(k, now); v != admitted {
			t.Fatalf("connection %d of the burst: verdict %d", i+1, v)
		}
	}
	for i := 0; i < 3; i++ { // refusals do not push the wait further
		if v, wait := a.admit(k, now); v != refuseAddrRate || wait != 100*time.Millisecond {
			t.Fatalf("past the burst: verdict %d, wait %v; want rate, 100ms", v, wait)
		}
	}
	if v, _ := a.admit(k, now+int64(100*time.Millisecond)); v != admitted {
		t.Fatalf("one interval later: verdict %d", v)
	}
}

// TestAdmissionCounts: each limit refuses at its count, in the order
// address-before-server, and releases restore capacity.
func TestAdmissionCounts(t *testing.T) {
	a := testAdmission(func(c *Connections) {
		c.MaxTotal = 4
		c.MaxPerAddress = 3
		c.MaxHandshakesPerAddress = 2
	}, 2)
	k1 := keyOf(netip.MustParseAddrPort("192.0.2.1:1"))
	k2 := keyOf(netip.MustParseAddrPort("192.0.2.2:1"))
	now := time.Now().UnixNano()
	admit := func(k addrKey, want verdict) {
		t.Helper()
		if v, _ := a.admit(k, now); v != want {
			t.Fatalf("verdict %d, want %d", v, want)
		}
	}
	admit(k1, admitted)
	admit(k1, admitted)
	admit(k1, refuseAddrHandshakes)
	a.endHandshake(k1) // upgraded
	admit(k1, admitted)
	admit(k2, refuseHandshakes) // 2 handshakes in progress in all
	a.endHandshake(k1)
	a.endHandshake(k1)
	admit(k1, refuseAddrConns)
	admit(k2, admitted)
	admit(k2, refuseTotal)
	a.release(k1, now)
	admit(k2, admitted)
}

// TestAdmissionForgets: an address with no connection is forgotten once
// its bucket is full again, at release or by the sweeper.
func TestAdmissionForgets(t *testing.T) {
	a := testAdmission(func(c *Connections) { c.RatePerAddress = 10; c.BurstPerAddress = 5 }, 100)
	k := keyOf(netip.MustParseAddrPort("192.0.2.1:1"))
	now := time.Now().UnixNano()
	a.admit(k, now)
	a.endHandshake(k)
	a.release(k, now+int64(time.Second)) // bucket full again by then
	if n := a.entries(); n != 0 {
		t.Fatalf("%d entries after the last release with a full bucket", n)
	}
	a.admit(k, now)
	a.endHandshake(k)
	a.release(k, now) // bucket still refilling: queued
	if n := a.entries(); n != 1 {
		t.Fatalf("%d entries, want 1 while the bucket refills", n)
	}
	a.sweep(now + int64(50*time.Millisecond))
	if n := a.entries(); n != 1 {
		t.Fatalf("%d entries, want 1 before the bucket is full", n)
	}
	a.sweep(now + int64(100*time.Millisecond))
	if n := a.entries(); n != 0 || len(a.idle) != 0 {
		t.Fatalf("%d entries, %d queued after the bucket filled", n, len(a.idle))
	}
}

// TestAdmissionMemory measures admission's cost per address with an open
// connection (one client per address: the worst case per connection).
func TestAdmissionMemory(t *testing.T) {
	const n = 100_000
	a := testAdmission(nil, n)
	keys := make([]addrKey, n)
	for i := range keys {
		keys[i] = keyOf(netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 1))
	}
	var before, after runtime.MemStats
	// Twice: sync.Pool victims survive one GC, and freeing them between
	// the two readings would make the difference negative.
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&before)
	now := time.Now().UnixNano()
	for _, k := range keys {
		if v, _ := a.admit(k, now); v != admitted {
			t.Fatalf("verdict %d", v)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / n // signed: other garbage may be freed too
	t.Logf("%.0f bytes of heap per address with a connection", per)
	if per > 128 {
		t.Errorf("%.0f bytes per address, want at most 128", per)
	}
	runtime.KeepAlive(a)
}

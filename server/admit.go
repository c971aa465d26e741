package server

import (
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Admission decides, for each accepted socket and before anything is read
// from it, whether chatd takes it on (server.connections and
// server.handshake.max_concurrent). A refused socket is answered with a
// one-line HTTP 503 or 429 and lingers until the client has read it (see
// linger.go); it never becomes a Conn, so refusing costs no goroutine, no
// actor and no buffer, and the accept loop never stops accepting.
//
// # Addresses
//
// Per-address limits key on the client's IPv4 address, or on the /64
// prefix of its IPv6 address (an IPv6 host is routinely given a whole /64,
// so per-/128 limits would be no limit at all). IPv4-mapped IPv6 addresses
// count as IPv4.
//
// # Bounds and memory
//
// The state is one map entry per address that has an open connection or a
// token bucket not yet full again (at most burst_per_address /
// rate_per_address seconds after its last new connection): 16 bytes of key
// and 24 of value, nothing per connection. An address whose last connection
// closes is deleted at once if its bucket is full, else queued and deleted
// by the sweeper when it is. So the map holds at most max_total entries with
// connections, plus the addresses seen in the last burst/rate seconds.
//
// # Concurrency
//
// The accept loop admits; actors release (upgrade, teardown); the sweeper
// expires idle entries; Server.Reconfigure replaces the limits (setLimits).
// mu guards everything but the refusal counters, which are atomics read by
// the sweeper's log.
type admission struct {
	mu              sync.Mutex
	admissionLimits       // reconfigure.go
	total           int32 // open connections, handshakes included
	handshakes      int32 // of which still in the handshake
	addrs           map[addrKey]addrState
	idle            []idleAddr // addresses with no connection, oldest first

	refused [numVerdicts]atomic.Uint64 // since the last report, by verdict
}

// addrKey is a client address as admission counts it: an IPv4 address in
// IPv4-mapped form, or an IPv6 /64 prefix followed by zeros.
type addrKey [16]byte

func keyOf(ap netip.AddrPort) addrKey {
	return addrKey(ClientAddress(ap.Addr()).Addr().As16())
}

// ClientAddress is what chatd counts a client's per-address limits by
// (connections here, logins in the chat layer): its IPv4 address (an
// IPv4-mapped IPv6 address counts as IPv4), or the /64 prefix of its IPv6
// address, since an IPv6 host is routinely given a whole /64.
func ClientAddress(a netip.Addr) netip.Prefix {
	a = a.Unmap()
	if a.Is4() {
		return netip.PrefixFrom(a, 32)
	}
	p, _ := a.Prefix(64)
	return p
}

// addrState is one address's share. The bucket is a GCRA (generic cell
// rate algorithm) token bucket: tat is the time at which it is full again;
// a new connection is allowed while tat - now <= tolerance - interval, and
// moves tat one interval on.
type addrState struct {
	conns      int32 // open connections, handshakes included
	handshakes int32 // of which still in the handshake
	tat        int64 // unix nanoseconds
	queued     bool  // in admission.idle
}

type idleAddr struct {
	key addrKey
	at  int64 // when its bucket will be full (tat when queued)
}

// verdict is admission's answer for one socket.
type verdict uint8

const (
	admitted verdict = iota
	refuseTotal
	refuseHandshakes
	refuseAddrConns
	refuseAddrHandshakes
	refuseAddrRate
	numVerdicts
)

// answer is the HTTP refusal of a verdict: status, reason phrase, the
// one-line body, and Retry-After (0: none) in seconds for fixed waits.
func (v verdict) answer() (code int, status, body string, retryAfter int) {
	switch v {
	case refuseTotal:
		return 503, "Service Unavailable", "server full: too many connections, try again later\n", 0
	case refuseHandshakes:
		return 503, "Service Unavailable", "server busy: too many handshakes in progress, try again shortly\n", 1
	case refuseAddrConns:
		return 429, "Too Many Requests", "too many connections from your address\n", 0
	case refuseAddrHandshakes:
		return 429, "Too Many Requests", "too many handshakes in progress from your address, try again shortly\n", 1
	case refuseAddrRate:
		return 429, "Too Many Requests", "too many new connections from your address, slow down\n", 1
	}
	return 0, "", "", 0
}

// limitKey names the setting behind a verdict, for logs.
func (v verdict) limitKey() string {
	return [...]string{"", "server.connections.max_total", "server.handshake.max_concurrent",
		"server.connections.max_per_address", "server.connections.max_handshakes_per_address",
		"server.connections.rate_per_address"}[v]
}

func newAdmission(c Connections, maxHandshakes int) *admission {
	return &admission{
		admissionLimits: newAdmissionLimits(c, maxHandshakes),
		addrs:           make(map[addrKey]addrState),
	}
}

// admit decides for a new socket from k at now. When admitted, the socket
// holds one connection and one handshake of k until release and
// endHandshake. wait is how long a refused client should wait, when known
// (the rate limit).
func (a *admission) admit(k addrKey, now int64) (v verdict, wait time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	st := a.addrs[k]
	tat := max(st.tat, now)
	switch {
	case tat+a.interval-now > a.tolerance:
		v, wait = refuseAddrRate, time.Duration(tat+a.interval-now-a.tolerance)
	case st.conns >= a.maxPerAddr:
		v = refuseAddrConns
	case st.handshakes >= a.maxHandshakesPerAddr:
		v = refuseAddrHandshakes
	case a.total >= a.maxTotal:
		v = refuseTotal
	case a.handshakes >= a.maxHandshakes:
		v = refuseHandshakes
	}
	if v != refuseAddrRate {
		st.tat = tat + a.interval // every other attempt takes a token
	}
	if v == admitted {
		st.conns++
		st.handshakes++
		a.total++
		a.handshakes++
	} else {
		a.refused[v].Add(1)
	}
	a.storeLocked(k, st, now)
	return v, wait
}

// endHandshake records that an admitted socket from k left the handshake
// (upgraded, or ended).
func (a *admission) endHandshake(k addrKey) {
	a.mu.Lock()
	defer a.mu.Unlock()
	st := a.addrs[k]
	st.handshakes--
	a.handshakes--
	a.addrs[k] = st
}

// release records the end of an admitted socket from k, whose handshake
// has already ended.
func (a *admission) release(k addrKey, now int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	st := a.addrs[k]
	st.conns--
	a.total--
	a.storeLocked(k, st, now)
}

// storeLocked saves st, or forgets k when it holds nothing: no connection
// and a full bucket. An address with no connection but a bucket still
// refilling is queued for the sweeper.
func (a *admission) storeLocked(k addrKey, st addrState, now int64) {
	switch {
	case st.conns > 0:
	case st.tat <= now:
		delete(a.addrs, k)
		return
	case !st.queued:
		st.queued = true
		a.idle = append(a.idle, idleAddr{key: k, at: st.tat})
	}
	a.addrs[k] = st
}

// sweep forgets the queued addresses that still have no connection and
// whose bucket is full by now; one whose bucket was drawn on again is
// queued again.
func (a *admission) sweep(now int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for len(a.idle) > 0 && a.idle[0].at <= now {
		k := a.idle[0].key
		a.idle = a.idle[1:]
		st, ok := a.addrs[k]
		if !ok {
			continue
		}
		st.queued = false
		a.storeLocked(k, st, now)
	}
	if len(a.idle) == 0 {
		a.idle = nil // let a burst's backing array go
	}
}

// entries reports how many addresses admission holds state for.
func (a *admission) entries() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.addrs)
}

// takeRefused returns and resets the refusal counts by verdict.
func (a *admission) takeRefused() (counts [numVerdicts]uint64, any bool) {
	for v := range counts {
		counts[v] = a.refused[v].Swap(0)
		any = any || counts[v] > 0
	}
	return counts, any
}

// refusal formats the HTTP answer for v into buf. wait, when positive,
// overrides the verdict's Retry-After (rounded up to whole seconds).
func refusal(buf []byte, v verdict, wait time.Duration) []byte {
	code, status, body, retry := v.answer()
	if wait > 0 {
		retry = int((wait + time.Second - 1) / time.Second)
	}
	buf = append(buf, "HTTP/1.1 "...)
	buf = strconv.AppendInt(buf, int64(code), 10)
	buf = append(buf, ' ')
	buf = append(buf, status...)
	buf = append(buf, "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: "...)
	buf = strconv.AppendInt(buf, int64(len(body)), 10)
	buf = append(buf, "\r\nConnection: close\r\n"...)
	if retry > 0 {
		buf = append(buf, "Retry-After: "...)
		buf = strconv.AppendInt(buf, int64(retry), 10)
		buf = append(buf, "\r\n"...)
	}
	buf = append(buf, "\r\n"...)
	return append(buf, body...)
}

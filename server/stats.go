package server

import (
	"slices"
	"strconv"
	"sync/atomic"
	"time"
)

// Counters for metrics. The server counts and never exports: Stats takes a
// snapshot, which an admin listener turns into Prometheus metrics at scrape
// time (package admin). So this package depends on no metrics library, and
// the hot path pays one uncontended atomic add per event:
//
//   - bytes and messages in and out are counted per event loop (loopStats),
//     by the loop's own goroutine, and summed by Stats;
//   - connections, handshakes and closes are counted once per connection,
//     on shared atomics (serverStats);
//   - an endpoint's opened and closed counts live in its endpointStats,
//     found once per connection at the upgrade (Conn.eps), not per message.
//
// Label values are bounded: endpoints are the registered paths, reasons
// are this file's constants, and close codes are counted by number but
// reported only for the codes chatd and its endpoints send (KnownCloseCodes);
// codes a peer made up are summed as "other".

// loopStats are one event loop's traffic counters, written by the loop's
// goroutine (atomics so that Stats may read them from another), and by
// the TLS handshake goroutines of the connections the loop will own
// (bytes of the handshake). For TLS connections bytes are the socket's,
// ciphertext.
type loopStats struct {
	bytesIn, bytesOut atomic.Uint64
	// msgsIn and msgsOut count data messages by endpoint (endpointStats.idx).
	msgsIn, msgsOut [maxEndpointStats]atomic.Uint64
}

// maxEndpointStats bounds the endpoints whose messages are counted apart;
// endpoints registered past it share the last slot ("other").
const maxEndpointStats = 32

// Handshake failure reasons (HandshakeFailures' keys).
const (
	hsMalformed = iota
	hsTooLarge
	hsNotFound
	hsNotUpgrade
	hsOrigin
	hsRejected
	hsTimeout
	hsPeerGone
	hsTLS
	numHandshakeFailures
)

var handshakeFailureNames = [numHandshakeFailures]string{
	"malformed_request", "header_too_large", "not_found", "not_websocket",
	"origin_not_allowed", "bad_upgrade", "timeout", "peer_gone", "tls",
}

// refusalNames names admission's verdicts (Refused's keys).
var refusalNames = [numVerdicts]string{
	"", "max_total", "max_handshakes", "address_connections", "address_handshakes", "address_rate",
}

// maxCountedCode bounds the close codes counted one by one; codes from it
// on (none is valid on the wire) count as "other".
const maxCountedCode = 5000

// serverStats are the counters shared by every loop. Each is updated once
// per connection, not per message.
type serverStats struct {
	accepted   atomic.Uint64
	refused    [numVerdicts]atomic.Uint64
	handshakes [numHandshakeFailures]atomic.Uint64
	closes     [maxCountedCode]atomic.Uint64 // by close code; [0]: other
	// known are the close codes reported by number; set before Serve.
	known []StatusCode
}

// endpointStats counts the connections upgraded on one registered path.
type endpointStats struct {
	label          string
	idx            int // its slot in loopStats' message counts
	opened, closed atomic.Uint64
}

// handshakeFailed counts a handshake that did not end in an upgrade.
func (s *Server) handshakeFailed(reason int) { s.stats.handshakes[reason].Add(1) }

// countOut counts a data frame sent on c (an upgraded connection).
func (c *Conn) countOut() {
	if c.eps != nil {
		c.loop.st.msgsOut[c.eps.idx].Add(1)
	}
}

// closedWith counts the close of an upgraded connection.
func (s *Server) closedWith(code StatusCode) {
	i := int(code)
	if i >= maxCountedCode {
		i = 0
	}
	s.stats.closes[i].Add(1)
}

// endpointStatsFor returns the counters of a registered path (or prefix,
// labelled with a trailing "*"), made on first use; called before Serve.
func (s *Server) endpointStatsFor(label string) *endpointStats {
	s.epMu.Lock()
	defer s.epMu.Unlock()
	if s.epStats == nil {
		s.epStats = map[string]*endpointStats{}
	}
	if st, ok := s.epStats[label]; ok {
		return st
	}
	st := &endpointStats{label: label, idx: min(len(s.epStats), maxEndpointStats-1)}
	s.epStats[label] = st
	return st
}

// serverCloseCodes are the codes package server itself sends or reports.
var serverCloseCodes = []StatusCode{
	StatusNormalClosure, StatusGoingAway, StatusProtocolError, StatusUnsupportedData,
	StatusNoStatusRcvd, StatusAbnormalClosure, StatusInvalidPayload, StatusPolicyViolation,
	StatusMessageTooBig, StatusInternalError, CloseFrameTimeout, ClosePongTimeout, CloseSlowConsumer,
}

// KnownCloseCodes adds codes the endpoints send (chat's 40xx, the bridge's)
// to those Stats reports by number; every other code a connection closed
// with is reported as "other", so a peer cannot create label values. Call
// it before Serve.
func (s *Server) KnownCloseCodes(codes ...StatusCode) {
	s.stats.known = append(s.stats.known, codes...)
}

// Stats is a snapshot of the server's counters since New. Counters only
// grow; gauges (OpenByEndpoint, Handshaking, Lingering) are the current
// values.
type Stats struct {
	// Accepted counts sockets admission took on; Refused, those it
	// answered 503 or 429, by the limit (max_total, max_handshakes,
	// address_connections, address_handshakes, address_rate).
	Accepted uint64
	Refused  map[string]uint64
	// HandshakeFailures counts admitted sockets that never upgraded, by
	// reason (malformed_request, header_too_large, not_found,
	// not_websocket, origin_not_allowed, bad_upgrade, timeout, peer_gone,
	// tls: the TLS handshake failed, plaintext to a TLS port included).
	// Plain HTTP answers (/healthz, the page's files) are not failures.
	HandshakeFailures map[string]uint64
	// Endpoints are the connections upgraded and closed per registered
	// path ("/ws/*" for a prefix), sorted by path.
	Endpoints []EndpointStats
	// Closes counts closed WebSocket connections by close code: a known
	// code's number ("4008"), or "other".
	Closes map[string]uint64
	// Traffic: bytes read and written on every socket (handshakes and
	// frame headers included).
	BytesIn, BytesOut uint64
	// Open is the number of sockets the server holds (handshakes
	// included); Lingering, answered sockets waiting for the client to
	// hang up.
	Open int
	// Loops are each event loop's counters.
	Loops []LoopStats
}

// EndpointStats are one path's connections.
// MessagesIn counts the data messages its connections received and
// MessagesOut the data frames they were sent (control frames excluded).
// Endpoints past the 31st registered share their message counts, which
// each of them reports.
type EndpointStats struct {
	Path                    string
	Opened, Closed          uint64
	MessagesIn, MessagesOut uint64
}

// LoopStats are one event loop's counters since it started: Wakes
// (callbacks run), Wakeups (wake-ups by other goroutines through its
// eventfd), Tasks (functions run for other goroutines), and Busy, the time
// spent running callbacks rather than waiting in epoll_wait.
type LoopStats struct {
	Wakes, Wakeups, Tasks uint64
	Busy                  time.Duration
}

// Stats returns a snapshot of the counters. It is safe to call at any
// time from any goroutine, also while routes are being registered; it
// takes the registry's lock and the routes' counters' lock once each.
func (s *Server) Stats() Stats {
	st := Stats{
		Accepted:          s.stats.accepted.Load(),
		Refused:           make(map[string]uint64, numVerdicts-1),
		HandshakeFailures: make(map[string]uint64, numHandshakeFailures),
		Closes:            map[string]uint64{},
		Open:              s.reg.len() + int(s.tlsHandshaking.Load()),
	}
	for v := verdict(1); v < numVerdicts; v++ {
		st.Refused[refusalNames[v]] = s.stats.refused[v].Load()
	}
	for i, name := range handshakeFailureNames {
		st.HandshakeFailures[name] = s.stats.handshakes[i].Load()
	}
	var in, out [maxEndpointStats]uint64
	for _, l := range s.loops {
		for i := range in {
			in[i] += l.st.msgsIn[i].Load()
			out[i] += l.st.msgsOut[i].Load()
		}
	}
	s.epMu.Lock()
	defer s.epMu.Unlock()
	for _, ep := range s.epStats {
		st.Endpoints = append(st.Endpoints, EndpointStats{Path: ep.label, Opened: ep.opened.Load(), Closed: ep.closed.Load(),
			MessagesIn: in[ep.idx], MessagesOut: out[ep.idx]})
	}
	slices.SortFunc(st.Endpoints, func(a, b EndpointStats) int {
		if a.Path < b.Path {
			return -1
		}
		if a.Path > b.Path {
			return 1
		}
		return 0
	})
	known := make(map[StatusCode]bool, len(serverCloseCodes)+len(s.stats.known))
	for _, c := range serverCloseCodes {
		known[c] = true
	}
	for _, c := range s.stats.known {
		known[c] = true
	}
	var other uint64
	for code := range s.stats.closes {
		n := s.stats.closes[code].Load()
		switch {
		case code != 0 && known[StatusCode(code)]:
			st.Closes[strconv.Itoa(code)] = n
		default:
			other += n
		}
	}
	st.Closes["other"] = other
	for _, l := range s.loops {
		st.BytesIn += l.st.bytesIn.Load()
		st.BytesOut += l.st.bytesOut.Load()
		ls := l.Loop.Stats()
		st.Loops = append(st.Loops, LoopStats{Wakes: ls.Wakes, Wakeups: ls.Wakeups, Tasks: ls.Tasks, Busy: ls.Busy})
	}
	return st
}

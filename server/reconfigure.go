package server

import (
	"fmt"
	"math"
	"time"

	"github.com/gobwas/ws"
)

// Reconfiguring a running server.
//
// A running server takes on some of its settings again (Reconfigure); the
// rest are fixed by New. What it takes on is held in two places:
//
//   - liveSettings, an immutable snapshot behind an atomic pointer
//     (Server.live). Event loops, the poller and the sweeper load it where
//     they use a value, so each use sees one whole snapshot, never half of
//     an old one and half of a new one (max_message_bytes and
//     write_budget_bytes, validated together, change together).
//   - admission's limits, which admission reads under its own mutex; a
//     reconfiguration takes that mutex to change them.
//
// Nothing a connection already holds is resized: its actor queue
// (limits.queue_size), its loop and its compressor are chosen once.

// liveSettings are the settings a running server reads at each use, swapped
// whole by Reconfigure. Immutable once stored.
type liveSettings struct {
	upgrader         ws.Upgrader // allowed_origins; copied by each handshake
	maxMessageBytes  int         // limits.max_message_bytes
	writeBudgetBytes int         // limits.write_budget_bytes
	closingReadBytes int         // limits.closing_read_bytes
	maxHeaderBytes   int         // handshake.max_header_bytes
	compressMinSize  int         // compression.min_size
	timeouts         timeouts
}

func newLiveSettings(cfg Config) *liveSettings {
	return &liveSettings{
		upgrader:         newUpgrader(cfg.AllowedOrigins),
		maxMessageBytes:  cfg.Limits.MaxMessageBytes,
		writeBudgetBytes: cfg.Limits.WriteBudgetBytes,
		closingReadBytes: cfg.Limits.ClosingReadBytes,
		maxHeaderBytes:   cfg.Handshake.MaxHeaderBytes,
		compressMinSize:  cfg.Compression.MinSize,
		timeouts: timeouts{
			partial:   cfg.Limits.PartialFrameTimeout,
			ping:      cfg.Keepalive.PingInterval,
			pong:      cfg.Keepalive.PongTimeout,
			close:     cfg.CloseTimeout,
			handshake: cfg.Handshake.Timeout,
		},
	}
}

// settings returns the snapshot in force. Safe on any goroutine.
func (s *Server) settings() *liveSettings { return s.live.Load() }

// Reconfigure makes the server use the settings of cfg that a running
// server can change, and ignores the others (the listener, event_loops,
// echo, limits.queue_size, compression.enabled and level, shutdown_timeout
// keep the values New was given). cfg must
// be valid as a whole; an invalid one changes nothing.
//
// When each setting takes effect:
//
//   - connections.max_total, max_per_address, max_handshakes_per_address,
//     rate_per_address, burst_per_address and handshake.max_concurrent:
//     for the next socket admitted. Connections already open are counted
//     but never closed for being over a lowered limit.
//   - handshake.max_header_bytes: for every request head still being read,
//     at its next read.
//   - allowed_origins: for every upgrade request read after it.
//   - connections.max_lingering: for the next answered socket that
//     lingers; past a lowered cap it evicts the oldest, one per new one,
//     and the others end as usual, within close_timeout.
//   - compression.min_size: for every message sent after it, on
//     connections that negotiated compression.
//   - handshake.timeout, limits.partial_frame_timeout, keepalive.*,
//     close_timeout: at the sweeper's next pass, for every connection
//     (deadlines are counted from when the wait began, not from the
//     reconfiguration).
//   - limits.max_message_bytes: for every message begun after it, on open
//     connections as on new ones; a message already partly received is
//     held to the limit it began under.
//   - limits.write_budget_bytes: at each connection's next write; one whose
//     pending output is already over a lowered budget is then closed as a
//     slow consumer (4008).
//   - limits.closing_read_bytes: at the next read of a closing or
//     lingering socket.
//
// Reconfigure is safe for concurrent use with everything else; concurrent
// calls are serialised.
func (s *Server) Reconfigure(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("invalid config:\n%w", err)
	}
	s.reconfigureMu.Lock()
	defer s.reconfigureMu.Unlock()
	s.adm.setLimits(cfg.Connections, cfg.Handshake.MaxConcurrent)
	s.lingers.setMax(cfg.Connections.MaxLingering)
	s.live.Store(newLiveSettings(cfg))
	s.log.Debug("server reconfigured")
	return nil
}

// admissionLimits are admission's settings, derived from its config.
type admissionLimits struct {
	maxTotal, maxPerAddr, maxHandshakesPerAddr, maxHandshakes int32
	interval                                                  int64 // nanoseconds per token (1 / rate_per_address)
	tolerance                                                 int64 // interval * burst_per_address: how far ahead tat may run
}

func newAdmissionLimits(c Connections, maxHandshakes int) admissionLimits {
	interval := float64(time.Second) / c.RatePerAddress
	tolerance := interval * float64(c.BurstPerAddress)
	const maxNs = math.MaxInt64 / 4 // headroom for now + tolerance
	return admissionLimits{
		maxTotal:             int32(c.MaxTotal),
		maxPerAddr:           int32(c.MaxPerAddress),
		maxHandshakesPerAddr: int32(c.MaxHandshakesPerAddress),
		maxHandshakes:        int32(min(maxHandshakes, math.MaxInt32)),
		interval:             int64(max(min(interval, maxNs), 1)),
		tolerance:            int64(max(min(tolerance, maxNs), 1)),
	}
}

// setLimits replaces admission's limits. The counts and token buckets are
// kept: a bucket's state is the time it is full again, which stays
// meaningful under a new rate.
func (a *admission) setLimits(c Connections, maxHandshakes int) {
	l := newAdmissionLimits(c, maxHandshakes)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.admissionLimits = l
}

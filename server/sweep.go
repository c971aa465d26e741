package server

import (
	"time"

	"go.uber.org/zap"
)

// sweepInterval is how often the sweeper looks at every connection: a
// quarter of the shortest timeout, between 10 ms and 1 s. Timeouts therefore
// fire up to one interval late.
func sweepInterval(cfg timeouts) time.Duration {
	d := time.Second
	for _, t := range []time.Duration{cfg.partial, cfg.ping, cfg.pong, cfg.close, cfg.handshake} {
		d = min(d, t/4)
	}
	return max(d, 10*time.Millisecond)
}

type timeouts struct {
	partial, ping, pong, close, handshake time.Duration
}

// refusedReportEvery is the least time between two "connections refused"
// warnings: a flood of refusals is summed, not logged one by one.
const refusedReportEvery = 10 * time.Second

// sweepLoop runs until stop is closed. Besides the connections' timeouts it
// closes lingering sockets past close_timeout, forgets idle addresses whose
// bucket is full, and reports refusals. Each pass uses the timeouts in
// force (Reconfigure), and the ticker follows them.
func (s *Server) sweepLoop(stop <-chan struct{}) {
	every := sweepInterval(s.settings().timeouts)
	t := time.NewTicker(every)
	defer t.Stop()
	var conns []*Conn
	var reported time.Time
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			ns := now.UnixNano()
			tm := s.settings().timeouts
			if d := sweepInterval(tm); d != every {
				every = d
				t.Reset(every)
			}
			conns = s.reg.snapshot(conns[:0])
			for _, c := range conns {
				s.sweep(c, ns, tm)
			}
			clear(conns)
			s.lingers.expire(ns - int64(tm.close))
			s.adm.sweep(ns)
			for _, l := range s.loops {
				l.Post(l.trimBuffers)
			}
			if now.Sub(reported) >= refusedReportEvery {
				if s.reportRefused() {
					reported = now
				}
			}
		}
	}
}

// reportRefused logs the connections refused since the last report, by the
// limit that refused them, and reports whether there were any.
func (s *Server) reportRefused() bool {
	counts, any := s.adm.takeRefused()
	if !any {
		return false
	}
	fields := make([]zap.Field, 0, numVerdicts)
	for v := admitted + 1; v < numVerdicts; v++ {
		if counts[v] > 0 {
			fields = append(fields, zap.Uint64(v.limitKey(), counts[v]))
		}
	}
	s.log.Warn("connections refused over limits", fields...)
	return true
}

// sweep posts the timeouts t that are due for c. Each kind is posted once.
func (s *Server) sweep(c *Conn, now int64, t timeouts) {
	if c.closed.Load() {
		return
	}
	if !c.upgraded.Load() {
		if now-c.opened > int64(t.handshake) && c.abortSent.CompareAndSwap(false, true) {
			s.handshakeFailed(hsTimeout)
			c.postSystem(event{kind: evAbort, reason: "handshake timeout"})
		}
		return
	}
	if cs := c.closingSince.Load(); cs != 0 {
		if now-cs > int64(t.close) && c.abortSent.CompareAndSwap(false, true) {
			c.postSystem(event{kind: evAbort, reason: reasonCloseTimeout})
		}
		return
	}
	if c.paused.Load() {
		// The server, not the peer, is behind: no frame or pong timeout.
		// A connection its session paused (PauseReading) may stay so
		// for long, and its peer's going is not read: it is still
		// pinged every ping_interval, without a pong timeout (the pong
		// waits unread), so that a write to a peer that has gone
		// fails and ends it.
		if c.sessPaused.Load() {
			ping := c.pingSent.Load()
			if (ping == 0 && now-c.lastRead.Load() > int64(t.ping)) || (ping != 0 && now-ping > int64(t.ping)) {
				if c.pingSent.CompareAndSwap(ping, now) {
					c.postSystem(event{kind: evKeepalive})
				}
			}
		}
		return
	}
	if ps := c.partialSince.Load(); ps != 0 && now-ps > int64(t.partial) {
		if c.timeoutSent.CompareAndSwap(false, true) {
			c.postSystem(event{kind: evClose, code: CloseFrameTimeout, reason: reasonIncomplete})
		}
		return
	}
	ping := c.pingSent.Load()
	switch {
	case ping == 0:
		if now-c.lastRead.Load() > int64(t.ping) && c.pingSent.CompareAndSwap(0, now) {
			c.postSystem(event{kind: evKeepalive})
		}
	case now-ping > int64(t.pong):
		if c.timeoutSent.CompareAndSwap(false, true) {
			c.postSystem(event{kind: evAbort, code: ClosePongTimeout, reason: "pong timeout"})
		}
	}
}

package server

import "time"

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

// sweepLoop runs until stop is closed.
func (s *Server) sweepLoop(stop <-chan struct{}) {
	t := time.NewTicker(sweepInterval(s.timeouts))
	defer t.Stop()
	var conns []*Conn
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			conns = s.reg.snapshot(conns[:0])
			for _, c := range conns {
				s.sweep(c, now.UnixNano())
			}
			clear(conns)
		}
	}
}

// sweep posts the timeouts that are due for c. Each kind is posted once.
func (s *Server) sweep(c *Conn, now int64) {
	if c.closed.Load() {
		return
	}
	t := s.timeouts
	if !c.upgraded.Load() {
		if now-c.opened > int64(t.handshake) && c.abortSent.CompareAndSwap(false, true) {
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
		return
	}
	if ps := c.partialSince.Load(); ps != 0 && now-ps > int64(t.partial) {
		if c.timeoutSent.CompareAndSwap(false, true) {
			c.postSystem(event{kind: evClose, code: CloseFrameTimeout, reason: "frame incomplete for too long"})
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

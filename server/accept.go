package server

import (
	"errors"
	"net"
	"time"

	"go.uber.org/zap"
)

// Accept back-off bounds, as in net/http.
const (
	acceptBackoffMin = 5 * time.Millisecond
	acceptBackoffMax = time.Second
)

// acceptLoop accepts until the listener is closed. A handshake slot is taken
// before each Accept, so at most handshake.max_concurrent handshakes run and
// further clients wait in the kernel's accept queue.
func (s *Server) acceptLoop(ln net.Listener) error {
	var backoff time.Duration
	for {
		s.handshakes <- struct{}{}
		nc, err := ln.Accept()
		if err != nil {
			<-s.handshakes
			if errors.Is(err, net.ErrClosed) || s.closing.Load() {
				return nil
			}
			// Out of fds, aborted connections and the like pass; back off so
			// a persistent failure does not spin.
			backoff = min(max(2*backoff, acceptBackoffMin), acceptBackoffMax)
			s.log.Warn("accept failed; backing off", zap.Error(err), zap.Duration("backoff", backoff))
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		s.sys.Go(func() {
			defer func() { <-s.handshakes }()
			s.handshake(nc)
		})
	}
}

// trackHandshake records nc so Shutdown can cut its handshake short; it
// reports false when shutdown has begun.
func (s *Server) trackHandshake(nc net.Conn) bool {
	s.hsMu.Lock()
	defer s.hsMu.Unlock()
	if s.closing.Load() {
		return false
	}
	s.hsConns[nc] = struct{}{}
	return true
}

func (s *Server) untrackHandshake(nc net.Conn) {
	s.hsMu.Lock()
	defer s.hsMu.Unlock()
	delete(s.hsConns, nc)
}

// abortHandshakes makes every handshake in progress fail now.
func (s *Server) abortHandshakes() {
	s.hsMu.Lock()
	defer s.hsMu.Unlock()
	past := time.Unix(1, 0)
	for nc := range s.hsConns {
		_ = nc.SetDeadline(past)
	}
}

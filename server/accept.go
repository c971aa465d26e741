package server

import (
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sys/unix"

	"github.com/chatd/chatd/actor"
	"github.com/chatd/chatd/server/internal/evloop"
	"github.com/chatd/chatd/server/internal/poll"
)

// Accept back-off bounds, as in net/http.
const (
	acceptBackoffMin = 5 * time.Millisecond
	acceptBackoffMax = time.Second
)

// acceptLoop accepts until Shutdown. It never stops accepting for a
// limit: admission answers a socket over one (503 or 429) and accepting
// goes on, so one client cannot lock everyone else out (and /healthz keeps
// answering) however many sockets it opens.
//
// Connections are accepted with accept4 on the listener's fd, which the
// poller watches, so they never become net.Conns. Shutdown stops this loop
// before it closes the listener, so the fd is valid throughout.
func (s *Server) acceptLoop(ln net.Listener) error {
	sc, ok := ln.(syscall.Conn)
	if !ok {
		return fmt.Errorf("listener %T has no file descriptor", ln)
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return fmt.Errorf("listener fd: %w", err)
	}
	lfd := -1
	if err := raw.Control(func(fd uintptr) { lfd = int(fd) }); err != nil {
		return fmt.Errorf("listener fd: %w", err)
	}
	readable := make(chan struct{}, 1)
	w, err := s.poller.Add(lfd, func(poll.Ready) {
		select {
		case readable <- struct{}{}:
		default:
		}
	})
	if err != nil {
		return err
	}
	defer w.Remove()
	var backoff time.Duration
	var answer []byte // a refusal's response, reused
	for {
		select {
		case <-s.stopAccept:
			return nil
		default:
		}
		fd, sa, err := unix.Accept4(lfd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		switch {
		case err == nil:
			backoff = 0
			remote := addrPort(sa)
			k := keyOf(remote)
			v, wait := s.adm.admit(k, nowNano())
			if v != admitted {
				s.stats.refused[v].Add(1)
				answer = refusal(answer[:0], v, wait)
				s.refuse(fd, remote, v, answer)
				continue
			}
			s.stats.accepted.Add(1)
			if s.tls != nil {
				s.startTLS(fd, remote, k)
				continue
			}
			if err := s.startConn(fd, remote, k); err != nil {
				s.adm.endHandshake(k)
				s.adm.release(k, nowNano())
				_ = unix.Close(fd)
				s.log.Warn("start connection", zap.Error(err))
			}
		case err == unix.EAGAIN:
			if err := w.ArmRead(); err != nil {
				return err
			}
			select {
			case <-readable:
			case <-s.stopAccept:
				return nil
			}
		case err == unix.ECONNABORTED || err == unix.EINTR:
			// The client gave up while queued.
		default:
			// Out of fds and the like pass; back off so a persistent
			// failure does not spin.
			backoff = min(max(2*backoff, acceptBackoffMin), acceptBackoffMax)
			s.log.Warn("accept failed; backing off", zap.Error(err), zap.Duration("backoff", backoff))
			select {
			case <-time.After(backoff):
			case <-s.stopAccept:
				return nil
			}
		}
	}
}

// refuse answers a socket admission turned down, before reading anything
// from it, and hands it to the linger set so the client reads the answer
// rather than a reset. The answer is a few hundred bytes into an empty
// send buffer, so one non-blocking write takes it; if it does not, the
// socket is closed.
func (s *Server) refuse(fd int, remote netip.AddrPort, v verdict, answer []byte) {
	if ce := s.log.Check(zap.DebugLevel, "connection refused"); ce != nil {
		code, _, _, _ := v.answer()
		ce.Write(zap.Stringer("remote", remote), zap.Int("status", code), zap.String("limit", v.limitKey()))
	}
	if s.tls != nil {
		// A plaintext answer means nothing to a TLS client: it reads EOF.
		s.lingers.linger(fd)
		return
	}
	n, err := unix.Write(fd, answer)
	if err != nil || n != len(answer) {
		_ = unix.Close(fd)
		return
	}
	s.lingers.linger(fd)
}

// startConn registers an admitted socket: a Conn in the handshake state,
// owned by one event loop. The Conn holds admission's handshake until the
// upgrade or its end, and its connection until teardown; on an error the
// caller gives both back.
func (s *Server) startConn(fd int, remote netip.AddrPort, k addrKey) error {
	// Small frames go out at once; the write path already coalesces.
	_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	s.startConnOn(s.pickLoop(), fd, remote, k, nowNano(), nil)
	return nil
}

// startConnOn is startConn on loop l, for a socket accepted at opened; t
// is its TLS state once the TLS handshake is done (nil: plain).
func (s *Server) startConnOn(l *loop, fd int, remote netip.AddrPort, k addrKey, opened int64, t *tlsConn) {
	c := &Conn{
		id:     s.nextID.Add(1),
		srv:    s,
		sock:   sock{fd: fd},
		remote: remote,
		opened: opened,
		tls:    t,
	}
	if t != nil {
		t.sock = &c.sock
	}
	c.hsSlot.Store(true)
	c.lastRead.Store(c.opened)
	c.loop = l
	c.actor = actor.Spawn[event](l.sys, (*connActor)(c), s.cfg.Limits.QueueSize)
	// Registered on the loop itself, so that nothing else for c (the
	// sweeper's and Shutdown's posts run there too) comes before it.
	l.Post(func() { s.register(c, k) })
}

// register runs on c's loop: it adds c to the registry and its socket to
// the loop's epoll set, once, for input, for the connection's life.
func (s *Server) register(c *Conn, k addrKey) {
	if !s.reg.add(c) { // shutdown began
		s.unstart(c, k)
		return
	}
	c.interest = interestRead
	if err := c.loop.Add(c.sock.fd, evloop.Read, (*connEvents)(c)); err != nil {
		s.log.Warn("start connection", zap.Error(err))
		s.reg.remove(c)
		s.unstart(c, k)
		return
	}
	if c.tls != nil {
		// crypto/tls may already hold the request, read with the
		// handshake's last flight: epoll would not report it.
		c.kickTLS()
	}
}

// unstart undoes startConn for a connection that never ran.
func (s *Server) unstart(c *Conn, k addrKey) {
	c.closed.Store(true)
	c.actor.Stop()
	c.hsSlot.Store(false)
	s.adm.endHandshake(k)
	s.adm.release(k, nowNano())
	_ = unix.Close(c.sock.fd)
}

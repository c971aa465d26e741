package server

import (
	"fmt"
	"net"
	"syscall"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sys/unix"

	"github.com/chatd/chatd/actor"
	"github.com/chatd/chatd/server/internal/poll"
)

// Accept back-off bounds, as in net/http.
const (
	acceptBackoffMin = 5 * time.Millisecond
	acceptBackoffMax = time.Second
)

// acceptLoop accepts until Shutdown. A handshake slot is taken before each
// accept, so at most handshake.max_concurrent handshakes are in progress and
// further clients wait in the kernel's accept queue.
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
	for {
		select {
		case s.handshakes <- struct{}{}:
		case <-s.stopAccept:
			return nil
		}
		fd, sa, err := unix.Accept4(lfd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		switch {
		case err == nil:
			backoff = 0
			if err := s.startConn(fd, sa); err != nil {
				<-s.handshakes
				_ = unix.Close(fd)
				s.log.Warn("start connection", zap.Error(err))
			}
			continue
		case err == unix.EAGAIN:
			<-s.handshakes
			if err := w.ArmRead(); err != nil {
				return err
			}
			select {
			case <-readable:
			case <-s.stopAccept:
				return nil
			}
		case err == unix.ECONNABORTED || err == unix.EINTR:
			<-s.handshakes // the client gave up while queued
		default:
			<-s.handshakes
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

// startConn registers an accepted socket: a Conn in the handshake state,
// watched by the poller. It owns a handshake slot until the upgrade or the
// end of the connection.
func (s *Server) startConn(fd int, sa unix.Sockaddr) error {
	// Small frames go out at once; the write path already coalesces.
	_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	c := &Conn{
		id:     s.nextID.Add(1),
		srv:    s,
		sock:   sock{fd: fd},
		remote: addrPort(sa),
		opened: nowNano(),
	}
	c.hsSlot.Store(true)
	c.dec.MaxMessage = s.cfg.Limits.MaxMessageBytes
	c.lastRead.Store(c.opened)
	c.actor = actor.Spawn[event](s.sys, c, s.cfg.Limits.MailboxSize, actor.WithOnStop(c.stopped))
	w, err := s.poller.Add(fd, func(r poll.Ready) { s.ready(c, r) })
	if err != nil {
		c.actor.Stop()
		return err
	}
	c.watch = w
	if !s.reg.add(c) { // shutdown began
		_ = w.Remove()
		c.actor.Stop()
		c.hsSlot.Store(false)
		<-s.handshakes
		_ = unix.Close(fd)
		return nil
	}
	c.rearmHandshake()
	return nil
}

// ready runs on the epoll goroutine: reads go to the I/O workers, writability
// to the connection's actor.
func (s *Server) ready(c *Conn, r poll.Ready) {
	if r.Read {
		s.work <- c
	}
	if r.Write {
		c.postSystem(event{kind: evWritable})
	}
}

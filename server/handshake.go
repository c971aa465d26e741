package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"time"

	"github.com/gobwas/ws"
	"go.uber.org/zap"

	"github.com/chatd/chatd/actor"
	"github.com/chatd/chatd/server/internal/poll"
	"github.com/chatd/chatd/server/internal/wsframe"
)

// errHeadTooLarge: the request head exceeded handshake.max_header_bytes.
var errHeadTooLarge = errors.New("request head too large")

// handshake reads the request head, routes it and, for a WebSocket
// endpoint, upgrades the connection and hands it to the poller. It runs on
// its own goroutine under the handshake deadline and semaphore.
func (s *Server) handshake(nc net.Conn) {
	if !s.trackHandshake(nc) {
		nc.Close()
		return
	}
	defer s.untrackHandshake(nc)
	log := s.log.With(zap.Stringer("remote", nc.RemoteAddr()))
	_ = nc.SetDeadline(time.Now().Add(s.cfg.Handshake.Timeout))
	head, rest, err := readHead(nc, s.cfg.Handshake.MaxHeaderBytes)
	if err != nil {
		if errors.Is(err, errHeadTooLarge) {
			writeHTTP(nc, 431, "Request Header Fields Too Large", "request head larger than the server accepts\n", "")
		}
		log.Debug("handshake failed", zap.Error(err))
		nc.Close()
		return
	}
	req, err := parseHead(head)
	if err != nil {
		writeHTTP(nc, 400, "Bad Request", "malformed HTTP request\n", "")
		nc.Close()
		return
	}
	if req.path == "/healthz" {
		writeHTTP(nc, 200, "OK", "ok\n", "")
		nc.Close()
		return
	}
	ep, ok := s.routes[req.path]
	if !ok {
		writeHTTP(nc, 404, "Not Found", "no such endpoint: "+req.path+"\n", "")
		nc.Close()
		return
	}
	if !req.upgrade {
		writeHTTP(nc, 426, "Upgrade Required",
			req.path+" is a WebSocket endpoint: connect with a WebSocket client (ws://host"+req.path+").\n",
			"Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n")
		nc.Close()
		return
	}
	rw := struct {
		io.Reader
		io.Writer
	}{bytes.NewReader(head), nc}
	if _, err := s.upgrader.Upgrade(rw); err != nil {
		log.Debug("upgrade rejected", zap.Error(err))
		nc.Close()
		return
	}
	_ = nc.SetDeadline(time.Time{})
	if err := s.register(nc, req.path, ep, rest); err != nil {
		log.Warn("register connection", zap.Error(err))
		nc.Close()
	}
}

// readHead reads until the end of the request head. It returns the head and
// any bytes the client sent after it.
func readHead(nc net.Conn, limit int) (head, rest []byte, err error) {
	buf := make([]byte, 0, 1024)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := nc.Read(buf[len(buf):min(cap(buf), limit)])
		buf = buf[:len(buf)+n]
		if end := endOfHead(buf); end >= 0 {
			return buf[:end], buf[end:], nil
		}
		if len(buf) >= limit {
			return nil, nil, errHeadTooLarge
		}
		if err != nil {
			return nil, nil, fmt.Errorf("read request head: %w", err)
		}
	}
}

// writeHTTP writes a complete plain-text response. Errors are ignored: the
// connection is closed right after.
func writeHTTP(nc net.Conn, code int, status, body, extraHeaders string) {
	resp := fmt.Sprintf("HTTP/1.1 %d %s\r\n%sContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		code, status, extraHeaders, len(body), body)
	_, _ = io.WriteString(nc, resp)
}

// newUpgrader returns the Upgrader shared by all handshakes. It rejects an
// Origin outside the allow-list with 403; an empty list allows any origin.
func newUpgrader(allowed []string) ws.Upgrader {
	u := ws.Upgrader{}
	if len(allowed) == 0 {
		return u
	}
	set := make(map[string]struct{}, len(allowed))
	for _, o := range allowed {
		set[strings.ToLower(o)] = struct{}{}
	}
	u.OnHeader = func(key, value []byte) error {
		if !strings.EqualFold(string(key), "Origin") {
			return nil
		}
		if _, ok := set[strings.ToLower(string(value))]; !ok {
			return ws.RejectConnectionError(ws.RejectionStatus(403), ws.RejectionReason("origin not allowed"))
		}
		return nil
	}
	return u
}

// register turns an upgraded socket into a Conn watched by the poller.
// early holds bytes the client sent right after its request head.
func (s *Server) register(nc net.Conn, path string, ep Endpoint, early []byte) error {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return fmt.Errorf("%T has no raw fd", nc)
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return fmt.Errorf("raw conn: %w", err)
	}
	c := &Conn{
		id:     s.nextID.Add(1),
		srv:    s,
		ep:     ep,
		path:   path,
		nc:     nc,
		raw:    raw,
		opened: nowNano(),
	}
	c.dec.MaxMessage = s.cfg.Limits.MaxMessageBytes
	if ap, err := netip.ParseAddrPort(nc.RemoteAddr().String()); err == nil {
		c.remote = ap
	}
	c.lastRead.Store(c.opened)
	var fd int
	if err := raw.Control(func(f uintptr) { fd = int(f) }); err != nil {
		return fmt.Errorf("raw fd: %w", err)
	}
	c.actor = actor.Spawn[event](s.sys, c, s.cfg.Limits.MailboxSize, actor.WithOnStop(c.stopped))
	c.watch, err = s.poller.Add(fd, func(r poll.Ready) { s.ready(c, r) })
	if err != nil {
		c.actor.Stop()
		return err
	}
	if !s.reg.add(c) {
		// Shutdown began during the handshake.
		_ = c.watch.Remove()
		c.actor.Stop()
		_ = nc.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = nc.Write(goingAwayFrame)
		nc.Close()
		return nil
	}
	c.Logger().Info("connection opened")
	c.postSystem(event{kind: evOpen})
	if len(early) > 0 && !c.consume(early) {
		return nil
	}
	c.rearm()
	return nil
}

// goingAwayFrame is sent to a client whose handshake finished after shutdown
// began.
var goingAwayFrame = wsframe.AppendClose(nil, ws.StatusGoingAway, "server shutting down")

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

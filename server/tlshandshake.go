package server

import (
	"crypto/tls"
	"errors"
	"io"
	"net/netip"
	"strconv"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sys/unix"

	"github.com/chatd/chatd/server/internal/poll"
)

// The TLS handshake runs on a goroutine of its own, started by the accept
// loop for each admitted socket and ended by the handshake: crypto/tls
// cannot resume a handshake after an error, so it cannot be driven by
// "would block" like the reads after it. The goroutine blocks on a channel
// (not in a syscall): the server's one-shot poller reports the socket's
// readiness, and a timer bounds the whole handshake by
// server.handshake.timeout, counted from accept. Admission counts the
// socket as a handshake from accept, so handshake.max_concurrent and
// connections.max_handshakes_per_address bound these goroutines: a client
// that sends half a ClientHello and goes silent holds one goroutine (about
// 8 KiB of stack) for at most handshake.timeout.
//
// Once the handshake is done the socket becomes a Conn on its loop, in the
// handshake state, exactly as a plain socket does at accept, with the
// tls.Conn attached; the HTTP request head and everything after are read
// on the loop, and an idle TLS connection holds no goroutine.

// errHandshakeTimeout ends a handshake past server.handshake.timeout.
var errHandshakeTimeout = errors.New("tls handshake timeout")

// tlsWait makes a handshake's socket operations blocking.
type tlsWait struct {
	w     *poll.Watch
	ch    chan struct{} // readiness, from the poller's goroutine
	timer *time.Timer   // the handshake's deadline
	stop  <-chan struct{}
}

// ready waits until the socket is readable (or writable) or the handshake
// must end.
func (tw *tlsWait) ready(write bool) error {
	arm := tw.w.ArmRead
	if write {
		arm = tw.w.ArmWrite
	}
	if err := arm(); err != nil {
		return err
	}
	select {
	case <-tw.ch:
		return nil
	case <-tw.timer.C:
		return errHandshakeTimeout
	case <-tw.stop:
		return errSockClosed
	}
}

// startTLS hands an admitted socket to a handshake goroutine.
func (s *Server) startTLS(fd int, remote netip.AddrPort, k addrKey) {
	opened := nowNano()
	_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	s.tlsHandshaking.Add(1)
	s.sys.Go(func() {
		defer s.tlsHandshaking.Add(-1)
		s.handshakeTLS(fd, remote, k, opened)
	})
}

// handshakeTLS runs the TLS handshake of fd, then registers the
// connection on its loop, or ends it.
func (s *Server) handshakeTLS(fd int, remote netip.AddrPort, k addrKey, opened int64) {
	l := s.pickLoop()
	tw := &tlsWait{ch: make(chan struct{}, 1), stop: s.stopAccept,
		timer: time.NewTimer(time.Duration(opened + int64(s.settings().timeouts.handshake) - nowNano()))}
	defer tw.timer.Stop()
	t := &tlsConn{sock: &sock{fd: fd}, st: &l.st, remote: remote, wait: tw}
	w, err := s.poller.Add(fd, func(poll.Ready) {
		select {
		case tw.ch <- struct{}{}:
		default:
		}
	})
	if err == nil {
		tw.w = w
		t.tc = tls.Server(t, s.tls.cur.Load())
		err = t.tc.Handshake()
		_ = w.Remove()
	}
	t.wait = nil
	if err != nil {
		s.tlsFailed(fd, remote, k, err)
		return
	}
	if ce := s.log.Check(zap.DebugLevel, "tls handshake done"); ce != nil {
		st := t.tc.ConnectionState()
		ce.Write(zap.Stringer("remote", remote), zap.String("version", tls.VersionName(st.Version)),
			zap.String("cipher", tls.CipherSuiteName(st.CipherSuite)), zap.Int("client_certs", len(st.PeerCertificates)))
	}
	s.startConnOn(l, fd, remote, k, opened, t)
}

// tlsFailed ends a socket whose handshake failed: counted by reason,
// answered 400 when it was plain HTTP (as net/http does), and closed or,
// when chatd wrote something (an alert, the 400), lingering so that the
// client reads it rather than a reset.
func (s *Server) tlsFailed(fd int, remote netip.AddrPort, k addrKey, err error) {
	s.adm.endHandshake(k)
	s.adm.release(k, nowNano())
	reason, linger := hsTLS, true
	var rhe tls.RecordHeaderError
	switch {
	case errors.Is(err, errHandshakeTimeout):
		reason, linger = hsTimeout, false
	case errors.Is(err, errSockClosed):
		reason, linger = hsPeerGone, false // shutdown
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || // a hang-up inside a record
		errors.Is(err, unix.ECONNRESET) || errors.Is(err, unix.EPIPE):
		reason, linger = hsPeerGone, false
	case errors.As(err, &rhe) && rhe.Conn != nil && looksLikeHTTP(rhe.RecordHeader[:]):
		const body = "Client sent an HTTP request to an HTTPS server.\n"
		answer := "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " +
			strconv.Itoa(len(body)) + "\r\nConnection: close\r\n\r\n" + body
		_, _ = unix.Write(fd, []byte(answer))
	}
	s.handshakeFailed(reason)
	if ce := s.log.Check(zap.DebugLevel, "tls handshake failed"); ce != nil {
		ce.Write(zap.Stringer("remote", remote), zap.String("reason", handshakeFailureNames[reason]), zap.Error(err))
	}
	if linger {
		s.lingers.linger(fd)
		return
	}
	_ = unix.Close(fd)
}

// looksLikeHTTP reports whether a TLS record header is the start of a
// plaintext HTTP request (net/http's test).
func looksLikeHTTP(hdr []byte) bool {
	switch string(hdr) {
	case "GET /", "HEAD ", "POST ", "PUT /", "OPTIO":
		return true
	}
	return false
}

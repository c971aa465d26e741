package wstest

import (
	"bufio"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// testServer accepts WebSocket connections on 127.0.0.1 and hands each one,
// after the upgrade, to serve on its own goroutine. Cleanup closes the
// listener and every connection and waits for all goroutines.
type testServer struct {
	url string

	ln net.Listener
	wg sync.WaitGroup

	mu     sync.Mutex // guards conns and closed
	conns  map[net.Conn]struct{}
	closed bool
}

func startServer(tb testing.TB, serve func(conn net.Conn, br *bufio.Reader)) *testServer {
	tb.Helper()
	return startUpgrader(tb, ws.Upgrader{}, serve)
}

// startUpgrader is startServer with u's handshake.
func startUpgrader(tb testing.TB, u ws.Upgrader, serve func(conn net.Conn, br *bufio.Reader)) *testServer {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s := &testServer{url: "ws://" + ln.Addr().String() + "/echo", ln: ln, conns: map[net.Conn]struct{}{}}
	tb.Cleanup(s.close)
	s.wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			if !s.track(conn) {
				conn.Close()
				return
			}
			s.wg.Go(func() {
				defer s.untrack(conn)
				conn.SetDeadline(time.Now().Add(5 * time.Second))
				// u.Upgrade reads the request through a buffer of its own
				// and drops it; that is fine because a client must wait for
				// the response before it sends frames (RFC 6455 4.1).
				if _, err := u.Upgrade(conn); err != nil {
					return
				}
				conn.SetDeadline(time.Time{})
				serve(conn, bufio.NewReader(conn))
			})
		}
	})
	return s
}

func (s *testServer) track(conn net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[conn] = struct{}{}
	return true
}

func (s *testServer) untrack(conn net.Conn) {
	s.mu.Lock()
	delete(s.conns, conn)
	s.mu.Unlock()
	conn.Close()
}

func (s *testServer) close() {
	s.ln.Close()
	s.mu.Lock()
	s.closed = true
	for conn := range s.conns {
		conn.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// startEcho runs the reference echo server: gobwas/ws's wsutil.Reader with
// its header checks, a message size limit and UTF-8 checks at message end,
// pings answered, close codes checked and echoed, violations closed with
// 1002, 1007 or 1009 followed by a lingering wait for the client's close.
// It is independent of chatd, so that wstest is known to work before it is
// pointed at chatd.
func startEcho(tb testing.TB, limit int64) *testServer {
	return startServer(tb, func(conn net.Conn, br *bufio.Reader) {
		echo(conn, br, limit)
	})
}

// errClosed ends the echo loop after a completed closing handshake.
var errClosed = errors.New("closed")

func echo(conn net.Conn, br *bufio.Reader, limit int64) {
	control := func(h ws.Header, r io.Reader) error {
		p, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		switch h.OpCode {
		case ws.OpPing:
			return ws.WriteFrame(conn, ws.NewPongFrame(p))
		case ws.OpClose:
			code, reason := ws.ParseCloseFrameData(p)
			switch {
			case len(p) == 0:
				ws.WriteFrame(conn, ws.NewCloseFrame(nil))
			case len(p) == 1 || ws.CheckCloseFrameData(code, reason) != nil || code >= 5000:
				// The client has sent its close: no need to wait for it.
				ws.WriteFrame(conn, ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusProtocolError, "")))
			default:
				ws.WriteFrame(conn, ws.NewCloseFrame(ws.NewCloseFrameBody(code, "")))
			}
			return errClosed
		}
		return nil
	}
	rd := &wsutil.Reader{
		Source:         br,
		State:          ws.StateServerSide,
		CheckUTF8:      true,
		MaxMessageSize: limit,
		OnIntermediate: control,
	}
	// pending is the unread payload of a frame whose header was rejected,
	// skipped while lingering to stay aligned on frame boundaries.
	var pending int64
	err := func() error {
		for {
			h, err := rd.NextFrame()
			if err != nil {
				pending = h.Length
				return err
			}
			if h.OpCode.IsControl() {
				if err := control(h, rd); err != nil {
					return err
				}
				continue
			}
			p, err := io.ReadAll(rd)
			if err != nil {
				return err
			}
			if err := ws.WriteFrame(conn, ws.NewFrame(h.OpCode, true, p)); err != nil {
				return err
			}
		}
	}()
	var code ws.StatusCode
	var perr ws.ProtocolError
	switch {
	case errors.Is(err, errClosed):
		return
	case errors.Is(err, wsutil.ErrMessageTooLarge):
		code = ws.StatusMessageTooBig
	case errors.Is(err, wsutil.ErrInvalidUTF8):
		code = ws.StatusInvalidFramePayloadData
	case errors.As(err, &perr):
		code = ws.StatusProtocolError
	default:
		return
	}
	ws.WriteFrame(conn, ws.NewCloseFrame(ws.NewCloseFrameBody(code, "")))
	// Linger until the client answers with its close (or goes away), so
	// that unread input does not turn our close into a reset.
	conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.CopyN(io.Discard, br, pending); err != nil {
		return
	}
	for {
		h, err := ws.ReadHeader(br)
		if err != nil {
			return
		}
		if _, err := io.CopyN(io.Discard, br, h.Length); err != nil || h.OpCode == ws.OpClose {
			return
		}
	}
}

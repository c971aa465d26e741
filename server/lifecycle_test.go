package server_test

import (
	"context"
	"errors"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/chatd/chatd/server/config"
	"github.com/chatd/chatd/server/internal/testserver"
)

// dialSmallWindow dials with a small receive buffer, so a client that does
// not read stops the server's writes after little data.
func dialSmallWindow(t *testing.T, url string) net.Conn {
	t.Helper()
	d := ws.Dialer{NetDial: func(ctx context.Context, network, addr string) (net.Conn, error) {
		nd := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 16<<10)
			})
			return errors.Join(err, serr)
		}}
		return nd.DialContext(ctx, network, addr)
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, _, err := d.Dial(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestSlowConsumer: a client that never reads while the server echoes a
// flood to it is closed with 4008; another client is unaffected.
func TestSlowConsumer(t *testing.T) {
	ts := testserver.Start(t, func(c *config.Server) {
		c.Limits.WriteBudgetBytes = 256 << 10
		c.CloseTimeout = 10 * time.Second
	})
	slow := dialSmallWindow(t, ts.URL("/echo"))
	other := dialWS(t, ts.URL("/echo"))

	payload := make([]byte, 16<<10)
	frame := append(maskedHeader(ws.OpBinary, true, len(payload)), payload...)
	_ = slow.SetWriteDeadline(time.Now().Add(20 * time.Second))
	sent := 0
	for !hasCode(ts.ClosingCodes(), 4008) {
		if _, err := slow.Write(frame); err != nil {
			t.Fatalf("flood write after %d bytes: %v", sent, err)
		}
		sent += len(frame)
		if sent > 256<<20 {
			t.Fatalf("no slow-consumer close after %d MiB", sent>>20)
		}
		if sent%(1<<20) == 0 {
			echoOnce(t, other, "unaffected") // others keep being served meanwhile
		}
	}
	t.Logf("slow consumer closed after the client sent %d KiB", sent>>10)
	echoOnce(t, other, "still unaffected")
	// The slow client finally reads: the echoes that fit, then close 4008.
	if code := readCloseCode(t, slow, 10*time.Second); code != 4008 {
		t.Fatalf("close code = %d, want 4008", code)
	}
}

// TestKeepalive: a client that answers pings stays; one that never answers
// is closed after ping_interval + pong_timeout.
func TestKeepalive(t *testing.T) {
	ts := testserver.Start(t, func(c *config.Server) {
		c.Keepalive.PingInterval = 100 * time.Millisecond
		c.Keepalive.PongTimeout = 200 * time.Millisecond
	})
	live := dialWS(t, ts.URL("/echo"))
	dead := dialWS(t, ts.URL("/echo"))

	// The live client answers every ping it gets for a while.
	pings := 0
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		_ = live.SetReadDeadline(deadline)
		f, err := ws.ReadFrame(live)
		if err != nil {
			break
		}
		if f.Header.OpCode == ws.OpPing {
			pings++
			if err := wsutil.WriteClientMessage(live, ws.OpPong, f.Payload); err != nil {
				t.Fatal(err)
			}
		}
	}
	if pings < 2 {
		t.Fatalf("got %d pings in 1s with a 100ms interval", pings)
	}
	echoOnce(t, live, "alive after pings")

	// The dead client got a ping, never answered, and was closed with 4003.
	_ = dead.SetReadDeadline(time.Now().Add(5 * time.Second))
	f, err := ws.ReadFrame(dead)
	if err != nil || f.Header.OpCode != ws.OpPing {
		t.Fatalf("first frame = %v, %v; want a ping", f.Header.OpCode, err)
	}
	if code := readCloseCode(t, dead, 5*time.Second); code != 4003 {
		t.Fatalf("close code = %d, want 4003", code)
	}
	expectEOF(t, dead, 5*time.Second)
}

// TestCloseHandshake: the server answers a client close with the same code
// and closes the TCP connection.
func TestCloseHandshake(t *testing.T) {
	ts := testserver.Start(t, nil)
	c := dialWS(t, ts.URL("/echo"))
	if err := wsutil.WriteClientMessage(c, ws.OpClose, ws.NewCloseFrameBody(1000, "bye")); err != nil {
		t.Fatal(err)
	}
	if code := readCloseCode(t, c, 5*time.Second); code != 1000 {
		t.Fatalf("close reply = %d, want 1000", code)
	}
	expectEOF(t, c, 5*time.Second)
	waitFor(t, 5*time.Second, "close logged", func() bool { return hasCode(ts.CloseCodes(), 1000) })
	e := ts.Logs.FilterMessage("connection closed").All()[0].ContextMap()
	if e["reason"] != "bye" {
		t.Errorf("logged reason = %v, want bye", e["reason"])
	}
}

// TestShutdown: Shutdown sends 1001 to every connection and waits for them;
// a client that never answers is cut off after close_timeout.
func TestShutdown(t *testing.T) {
	ts := testserver.Start(t, func(c *config.Server) { c.CloseTimeout = 300 * time.Millisecond })
	polite := dialWS(t, ts.URL("/echo"))
	mute := dialWS(t, ts.URL("/echo"))
	echoOnce(t, polite, "before")
	echoOnce(t, mute, "before")

	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		done <- ts.Srv.Shutdown(ctx)
	}()
	if code := readCloseCode(t, polite, 5*time.Second); code != 1001 {
		t.Fatalf("close = %d, want 1001", code)
	}
	_ = wsutil.WriteClientMessage(polite, ws.OpClose, ws.NewCloseFrameBody(1001, ""))
	if code := readCloseCode(t, mute, 5*time.Second); code != 1001 {
		t.Fatalf("close = %d, want 1001", code)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("shutdown did not return")
	}
	expectEOF(t, polite, time.Second)
	expectEOF(t, mute, time.Second)
	if _, err := net.Dial("tcp", ts.Addr); err == nil {
		t.Fatal("still accepting after shutdown")
	}
}

// TestCloseThenHalfClose: a client that sends a message and a close frame
// and half-closes TCP at once still gets the echo and the close reply: the
// end of input is queued behind what came before it.
func TestCloseThenHalfClose(t *testing.T) {
	ts := testserver.Start(t, nil)
	c := dialWS(t, ts.URL("/echo"))
	var b []byte
	b = append(b, maskedHeader(ws.OpText, true, 4)...)
	b = append(b, "last"...)
	body := ws.NewCloseFrameBody(1000, "done")
	b = append(b, maskedHeader(ws.OpClose, true, len(body))...)
	b = append(b, body...)
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if got, err := wsutil.ReadServerText(c); err != nil || string(got) != "last" {
		t.Fatalf("echo = %q, %v", got, err)
	}
	if code := readCloseCode(t, c, 5*time.Second); code != 1000 {
		t.Fatalf("close reply = %d, want 1000", code)
	}
	expectEOF(t, c, 5*time.Second)
}

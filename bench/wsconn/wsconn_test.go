package wsconn

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestSources(t *testing.T) {
	s := Sources{First: netip.MustParseAddr("127.0.0.2"), PerSource: 15000}
	cases := []struct {
		i    int
		want string
	}{{0, "127.0.0.2"}, {14999, "127.0.0.2"}, {15000, "127.0.0.3"}, {15000 * 254, "127.0.1.0"}}
	for _, tc := range cases {
		got, err := s.Addr(tc.i)
		if err != nil || got.String() != tc.want {
			t.Errorf("Addr(%d) = %v %v, want %s", tc.i, got, err, tc.want)
		}
	}
	edge := Sources{First: netip.MustParseAddr("127.255.255.255"), PerSource: 1}
	if _, err := edge.Addr(1); err == nil {
		t.Error("left 127.0.0.0/8 without an error")
	}
}

func TestClassify(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{&CloseError{Code: 4008}, "closed: 4008"},
		{ws.StatusError(404), "handshake: HTTP 404"},
		{&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, "connect: refused"},
		{&net.OpError{Op: "dial", Err: syscall.EADDRNOTAVAIL}, "connect: no free source port"},
		{io.EOF, "eof"},
		{errors.New("boom"), "other: boom"},
	}
	for _, tc := range cases {
		if got := Classify(tc.err); got != tc.want {
			t.Errorf("Classify(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
	if CloseCode(&CloseError{Code: 1001}) != 1001 || CloseCode(io.EOF) != 1006 || CloseCode(nil) != 0 {
		t.Error("CloseCode")
	}
}

// echoServer is a tiny RFC 6455 server: it echoes, sends a ping first, and
// closes with 4000 when it receives "bye".
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		if _, err := ws.Upgrade(c); err != nil {
			return
		}
		_ = ws.WriteFrame(c, ws.NewPingFrame([]byte("p")))
		for {
			msg, op, err := wsutil.ReadClientData(c)
			if err != nil {
				return
			}
			if string(msg) == "bye" {
				_ = ws.WriteFrame(c, ws.NewCloseFrame(ws.NewCloseFrameBody(4000, "bye")))
				_, _ = io.Copy(io.Discard, c)
				return
			}
			// Fragment the echo to exercise reassembly.
			half := len(msg) / 2
			_ = ws.WriteFrame(c, ws.NewFrame(op, false, msg[:half]))
			_ = ws.WriteFrame(c, ws.NewFrame(ws.OpContinuation, true, msg[half:]))
		}
	}()
	return ln.Addr().String()
}

func TestConn(t *testing.T) {
	addr := echoServer(t)
	d := &Dialer{URL: "ws://" + addr + "/echo", Sources: Sources{First: netip.MustParseAddr("127.0.0.2")}, Timeout: 5 * time.Second}
	c, err := d.Dial(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !strings.HasPrefix(c.LocalAddr().String(), "127.0.0.2:") {
		t.Errorf("local address %v, want 127.0.0.2", c.LocalAddr())
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for _, msg := range []string{"hello", strings.Repeat("x", 70000)} {
		if err := c.WriteText([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		op, got, err := c.Read() // the server's ping is answered on the way
		if err != nil || op != ws.OpText || string(got) != msg {
			t.Fatalf("echo of %d bytes: %v %d bytes %v", len(msg), op, len(got), err)
		}
	}
	if err := c.WriteText([]byte("bye")); err != nil {
		t.Fatal(err)
	}
	_, _, err = c.Read()
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Code != 4000 || ce.Reason != "bye" {
		t.Fatalf("close: %v", err)
	}
}

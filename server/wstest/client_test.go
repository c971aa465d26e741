package wstest

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

func TestDialOptions(t *testing.T) {
	t.Parallel()
	type seen struct{ xTest, xRaw, remote string }
	got := make(chan seen, 1)
	u := ws.Upgrader{
		Protocol: func(p []byte) bool { return string(p) == "chat.v1" },
	}
	var s seen // written by the one connection's upgrade, then sent
	u.OnHeader = func(key, value []byte) error {
		switch string(key) {
		case "X-Test":
			s.xTest = string(value)
		case "X-Raw":
			s.xRaw = string(value)
		}
		return nil
	}
	srv := startUpgrader(t, u, func(conn net.Conn, br *bufio.Reader) {
		s.remote = conn.RemoteAddr().(*net.TCPAddr).IP.String()
		got <- s
		br.ReadByte() // until the client goes
	})
	c := Dial(t, srv.url,
		WithProtocols("mqtt", "chat.v1"),
		WithHeader(http.Header{"X-Test": {"v1"}}),
		WithRawHeader("X-Raw: raw\r\n"),
		WithLocalAddr(netip.MustParseAddr("127.0.0.3")),
		WithReceiveBuffer(4096))
	want := seen{xTest: "v1", xRaw: "raw", remote: "127.0.0.3"}
	if s := <-got; s != want {
		t.Errorf("server saw %+v, want %+v", s, want)
	}
	if p := c.Protocol(); p != "chat.v1" {
		t.Errorf("Protocol() = %q, want chat.v1", p)
	}
	raw, err := c.NetConn().(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var rcvbuf int
	var serr error
	if err := raw.Control(func(fd uintptr) {
		rcvbuf, serr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF)
	}); err != nil || serr != nil {
		t.Fatal(err, serr)
	}
	if rcvbuf > 2*4096 { // Linux doubles what it is asked for
		t.Errorf("SO_RCVBUF = %d, want at most 8192", rcvbuf)
	}
}

func TestNewConn(t *testing.T) {
	t.Parallel()
	srv := startEcho(t, 100)
	nc, err := net.Dial("tcp", srv.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	fmt.Fprintf(nc, "GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %v, %v", resp, err)
	}
	c := NewConn(nc, br, time.Second)
	c.SendText(t, "by hand")
	c.ExpectText(t, "by hand")
}

// TestReadData: pings are answered, pongs skipped, a close is answered and
// returned as a *CloseError.
func TestReadData(t *testing.T) {
	t.Parallel()
	replies := make(chan ws.Frame, 2)
	srv := startServer(t, func(conn net.Conn, br *bufio.Reader) {
		for _, f := range []ws.Frame{
			ws.NewPingFrame([]byte("p1")),
			ws.NewTextFrame([]byte("hi")),
			ws.NewPongFrame([]byte("unsolicited")),
			ws.NewBinaryFrame([]byte{1, 2}),
			ws.NewCloseFrame(ClosePayload(4001, "bye")),
		} {
			ws.WriteFrame(conn, f)
		}
		defer close(replies)
		for range 2 {
			f, err := ws.ReadFrame(br)
			if err != nil {
				return
			}
			replies <- ws.UnmaskFrameInPlace(f)
		}
	})
	c := Dial(t, srv.url)
	c.ExpectText(t, "hi")
	if op, p, err := c.ReadData(time.Second); err != nil || op != ws.OpBinary || string(p) != "\x01\x02" {
		t.Fatalf("ReadData = %v %q %v, want the binary message", op, p, err)
	}
	_, err := c.ReadText(time.Second)
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Code != 4001 || ce.Reason != "bye" {
		t.Fatalf("ReadText after the close: %v, want a *CloseError 4001 bye", err)
	}
	for _, want := range []struct {
		op ws.OpCode
		p  string
	}{{ws.OpPong, "p1"}, {ws.OpClose, string(ClosePayload(4001, ""))}} {
		f, ok := <-replies
		if !ok || f.Header.OpCode != want.op || string(f.Payload) != want.p {
			t.Fatalf("server read %v %q, want %v %q", f.Header.OpCode, f.Payload, want.op, want.p)
		}
	}
}

func TestReadCloseFrameSkips(t *testing.T) {
	t.Parallel()
	c := Dial(t, startEcho(t, 100).url)
	c.Send(t, Text([]byte("echoed")), Text(nil).WithRsv(4))
	f, err := c.ReadCloseFrame(time.Second)
	if err != nil || f.Code != ws.StatusProtocolError {
		t.Fatalf("ReadCloseFrame = %v, %v; want 1002", f, err)
	}
}

func TestClientFailures(t *testing.T) {
	t.Parallel()
	echo := startEcho(t, 100)
	tests := []struct {
		name string
		run  func(tb testing.TB, c *Conn)
		want string // substring of the failure; "" means it must pass
	}{
		{"text", func(tb testing.TB, c *Conn) {
			c.SendText(tb, "héllo")
			c.ExpectText(tb, "héllo")
		}, ""},
		{"binary for text", func(tb testing.TB, c *Conn) {
			c.SendBinary(tb, []byte("abc"))
			c.NextText(tb)
		}, "want a text message, got binary message"},
		{"wrong text", func(tb testing.TB, c *Conn) {
			c.SendText(tb, "abcdef")
			c.ExpectText(tb, "abcXef")
		}, "first difference at offset 3"},
		{"close for text", func(tb testing.TB, c *Conn) {
			c.Send(tb, Text(nil).WithRsv(4))
			c.NextText(tb)
		}, "server sent close 1002"},
		{"json", func(tb testing.TB, c *Conn) {
			c.SendJSON(tb, map[string]int{"n": 1})
			var m map[string]int
			c.NextJSON(tb, &m)
			if m["n"] != 1 {
				tb.Fatalf("got %v", m)
			}
		}, ""},
		{"not json", func(tb testing.TB, c *Conn) {
			c.SendText(tb, "{")
			var m map[string]any
			c.NextJSON(tb, &m)
		}, "want a JSON text message"},
		{"quiet", func(tb testing.TB, c *Conn) {
			c.ExpectQuiet(tb, 50*time.Millisecond)
			c.SendText(tb, "after")
			c.ExpectText(tb, "after")
		}, ""},
		{"not quiet", func(tb testing.TB, c *Conn) {
			c.SendText(tb, "noise")
			c.ExpectQuiet(tb, time.Second)
		}, "want nothing for 1s, got text message"},
		{"no deadline", func(tb testing.TB, c *Conn) {
			c.SetTimeout(0)
			c.SendText(tb, "x")
			c.ExpectText(tb, "x")
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := Dial(t, echo.url)
			got := failure(t, func(tb testing.TB) { tt.run(tb, c) })
			switch {
			case tt.want == "" && got != "":
				t.Fatalf("failed unexpectedly: %s", got)
			case tt.want != "" && !strings.Contains(got, tt.want):
				t.Fatalf("failure %q does not contain %q", got, tt.want)
			}
			t.Logf("failure message: %s", got)
		})
	}
}

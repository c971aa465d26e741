package wstest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// Payload sizes at the edges of the 7-, 16- and 64-bit length encodings.
var echoSizes = []int{0, 1, 125, 126, 127, 65535, 65536, 1 << 20}

func TestEcho(t *testing.T) {
	t.Parallel()
	srv := startEcho(t, 2<<20)
	for _, op := range []ws.OpCode{ws.OpText, ws.OpBinary} {
		for _, n := range echoSizes {
			t.Run(fmt.Sprintf("%s/%d", opName(op), n), func(t *testing.T) {
				t.Parallel()
				c := Dial(t, srv.url)
				p := bytes.Repeat([]byte("x"), n)
				c.Send(t, Frame{Fin: true, OpCode: op, Masked: true, Payload: p})
				c.ExpectMessage(t, op, p)
				c.Send(t, Close(ws.StatusNormalClosure, "bye"))
				c.ExpectClose(t, ws.StatusNormalClosure)
			})
		}
	}
}

func TestWriteHelpers(t *testing.T) {
	t.Parallel()
	c := Dial(t, startEcho(t, 1<<10).url)
	steps := []struct {
		write func() error
		op    ws.OpCode
		want  []byte
	}{
		{func() error { return c.WriteText([]byte("héllo")) }, ws.OpText, []byte("héllo")},
		{func() error { return c.WriteBinary([]byte{0, 1, 2}) }, ws.OpBinary, []byte{0, 1, 2}},
		{func() error { return c.WritePing([]byte("p")) }, ws.OpPong, []byte("p")},
		{func() error { return c.WritePong([]byte("ignored")) }, 0, nil},
		{func() error { return c.WriteFrame(true, 0, ws.OpBinary, true, []byte("f")) }, ws.OpBinary, []byte("f")},
	}
	for _, s := range steps {
		if err := s.write(); err != nil {
			t.Fatal(err)
		}
		if s.op != 0 {
			c.ExpectMessage(t, s.op, s.want)
		}
	}
	if err := c.WriteClose(4000, "done"); err != nil {
		t.Fatal(err)
	}
	if f := c.ExpectClose(t, 4000); f.Code != 4000 {
		t.Fatalf("got %v", f)
	}
}

func TestFragments(t *testing.T) {
	t.Parallel()
	srv := startEcho(t, 1<<10)
	p := []byte("fragmented message")
	frames := Split(ws.OpText, p, 0, 3, 3, 10)
	tests := []struct {
		name  string
		send  []Frame
		pongs [][]byte
	}{
		{"plain", frames, nil},
		{"ping between fragments", append(append(frames[:2:2], Ping([]byte("mid"))), frames[2:]...), [][]byte{[]byte("mid")}},
		{"pong between fragments", append(append(frames[:2:2], Pong([]byte("x"))), frames[2:]...), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := Dial(t, srv.url)
			c.Send(t, tt.send...)
			for _, pong := range tt.pongs {
				c.ExpectPong(t, pong)
			}
			c.ExpectMessage(t, ws.OpText, p)
		})
	}
}

func TestRawWrites(t *testing.T) {
	t.Parallel()
	srv := startEcho(t, 1<<20)
	t.Run("byte at a time", func(t *testing.T) {
		t.Parallel()
		c := Dial(t, srv.url)
		p := bytes.Repeat([]byte("ab"), 100)
		if err := c.WriteBytewise(Binary(p)); err != nil {
			t.Fatal(err)
		}
		c.ExpectMessage(t, ws.OpBinary, p)
	})
	t.Run("two frames in one write", func(t *testing.T) {
		t.Parallel()
		c := Dial(t, srv.url)
		c.SendRaw(t, Concat(Text([]byte("one")), Binary([]byte("two"))))
		c.ExpectMessage(t, ws.OpText, []byte("one"))
		c.ExpectMessage(t, ws.OpBinary, []byte("two"))
	})
	t.Run("half a frame then the rest", func(t *testing.T) {
		t.Parallel()
		c := Dial(t, srv.url)
		b := Concat(Text([]byte("first")), Text(bytes.Repeat([]byte("y"), 70000)))
		cut := len(b) / 2
		c.SendRaw(t, b[:cut])
		c.ExpectMessage(t, ws.OpText, []byte("first"))
		c.SendRaw(t, b[cut:])
		c.ExpectMessage(t, ws.OpText, bytes.Repeat([]byte("y"), 70000))
	})
	t.Run("header with zero key then payload", func(t *testing.T) {
		t.Parallel()
		c := Dial(t, srv.url)
		c.SendRaw(t, EncodeHeader(true, 0, ws.OpText, true, 5))
		c.SendRaw(t, []byte("hello"))
		c.ExpectMessage(t, ws.OpText, []byte("hello"))
	})
}

func TestCloseHandshake(t *testing.T) {
	t.Parallel()
	srv := startEcho(t, 100)
	tests := []struct {
		name string
		send []Frame
		want ws.StatusCode
	}{
		{"client closes 1000", []Frame{Close(1000, "")}, 1000},
		{"client closes 4999", []Frame{Close(4999, "reason")}, 4999},
		{"client closes empty", []Frame{CloseEmpty()}, ws.StatusNoStatusRcvd},
		// Server-initiated: ExpectClose answers, then the server hangs up.
		{"server fails rsv", []Frame{Text(nil).WithRsv(4)}, ws.StatusProtocolError},
		{"server fails unmasked", []Frame{Text(nil).Unmasked()}, ws.StatusProtocolError},
		{"server fails utf-8", []Frame{Text([]byte{0xff})}, ws.StatusInvalidFramePayloadData},
		{"server fails size", []Frame{Binary(make([]byte, 101))}, ws.StatusMessageTooBig},
		{"server fails close code", []Frame{Close(1005, "")}, ws.StatusProtocolError},
		{"data skipped before close", []Frame{Text([]byte("echoed")), Text(nil).WithRsv(1)}, ws.StatusProtocolError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := Dial(t, srv.url)
			if err := c.WriteCoalesced(tt.send...); err != nil {
				t.Fatal(err)
			}
			c.ExpectClose(t, tt.want)
		})
	}
}

// scripted starts a server that runs script after the upgrade and then
// holds the connection open until the client goes away.
func scripted(t *testing.T, script func(conn net.Conn)) string {
	return startServer(t, func(conn net.Conn, br *bufio.Reader) {
		script(conn)
		for {
			if _, err := br.ReadByte(); err != nil {
				return
			}
		}
	}).url
}

func writeFrames(frames ...ws.Frame) func(net.Conn) {
	return func(conn net.Conn) {
		for _, f := range frames {
			ws.WriteFrame(conn, f)
		}
	}
}

func TestReadRejectsBadServerFrames(t *testing.T) {
	t.Parallel()
	rsvFrame := ws.NewTextFrame([]byte("x"))
	rsvFrame.Header.Rsv = 2
	tests := []struct {
		name    string
		frames  []ws.Frame
		wantErr error
	}{
		{"masked", []ws.Frame{ws.MaskFrame(ws.NewTextFrame([]byte("hi")))}, ErrMasked},
		{"rsv", []ws.Frame{rsvFrame}, ErrReservedBits},
		{"reserved data opcode", []ws.Frame{ws.NewFrame(0x3, true, nil)}, ErrReservedOpCode},
		{"reserved control opcode", []ws.Frame{ws.NewFrame(0xb, true, nil)}, ErrReservedOpCode},
		{"fragmented ping", []ws.Frame{ws.NewFrame(ws.OpPing, false, nil)}, ErrControlFrame},
		{"126-byte pong", []ws.Frame{ws.NewPongFrame(make([]byte, 126))}, ErrControlFrame},
		{"continuation without start", []ws.Frame{ws.NewFrame(ws.OpContinuation, true, []byte("x"))}, ErrFragmentation},
		{"text inside fragmented binary", []ws.Frame{
			ws.NewFrame(ws.OpBinary, false, []byte("a")), ws.NewTextFrame([]byte("b")),
		}, ErrFragmentation},
		{"invalid utf-8 text", []ws.Frame{ws.NewTextFrame([]byte("a\xc0\xafb"))}, ErrInvalidUTF8},
		{"invalid utf-8 across fragments", []ws.Frame{
			ws.NewFrame(ws.OpText, false, []byte("\xe2\x82")), ws.NewFrame(ws.OpContinuation, true, []byte("x")),
		}, ErrInvalidUTF8},
		{"1-byte close", []ws.Frame{ws.NewCloseFrame([]byte{3})}, ErrClosePayload},
		{"close 1005", []ws.Frame{ws.NewCloseFrame(ClosePayload(1005, ""))}, ErrClosePayload},
		{"close 999", []ws.Frame{ws.NewCloseFrame(ClosePayload(999, ""))}, ErrClosePayload},
		{"close 5000", []ws.Frame{ws.NewCloseFrame(ClosePayload(5000, ""))}, ErrClosePayload},
		{"close bad reason", []ws.Frame{ws.NewCloseFrame(ClosePayload(1000, "\xff"))}, ErrClosePayload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := Dial(t, scripted(t, writeFrames(tt.frames...)))
			var err error
			for range tt.frames {
				if _, _, err = c.ReadMessage(time.Second); err != nil {
					break
				}
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("got %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestReadMessageInterleavedControl(t *testing.T) {
	t.Parallel()
	c := Dial(t, scripted(t, writeFrames(
		ws.NewFrame(ws.OpText, false, []byte("\xf0\x9f")), // first half of U+1F600
		ws.NewPingFrame([]byte("keepalive")),
		ws.NewFrame(ws.OpContinuation, false, []byte{}),
		ws.NewFrame(ws.OpContinuation, true, []byte("\x98\x80!")),
		ws.NewCloseFrame(ClosePayload(1001, "bye")),
	)))
	c.ExpectMessage(t, ws.OpPing, []byte("keepalive"))
	c.ExpectMessage(t, ws.OpText, []byte("😀!"))
	if f := c.ExpectCloseFrame(t, 1001); f.Reason != "bye" {
		t.Errorf("reason %q", f.Reason)
	}
}

func TestReadTimeoutKeepsConn(t *testing.T) {
	t.Parallel()
	c := Dial(t, startEcho(t, 100).url)
	if _, _, err := c.ReadFrame(20 * time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("got %v, want a deadline error", err)
	}
	c.Send(t, Text([]byte("still aligned")))
	c.ExpectMessage(t, ws.OpText, []byte("still aligned"))
}

// fakeTB records failures; Fatal* end the calling goroutine like testing.T.
type fakeTB struct {
	testing.TB
	failed bool
	msg    string
}

func (f *fakeTB) Helper()                   {}
func (f *fakeTB) Logf(string, ...any)       {}
func (f *fakeTB) Fatal(args ...any)         { f.fail(fmt.Sprint(args...)) }
func (f *fakeTB) Fatalf(s string, a ...any) { f.fail(fmt.Sprintf(s, a...)) }
func (f *fakeTB) fail(msg string) {
	f.failed, f.msg = true, msg
	runtime.Goexit()
}

// failure runs fn with a fakeTB on its own goroutine and returns the message
// it failed with, or "" if it passed.
func failure(t *testing.T, fn func(tb testing.TB)) string {
	f := &fakeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	if !f.failed {
		return ""
	}
	return f.msg
}

func TestExpectFailures(t *testing.T) {
	t.Parallel()
	echo := startEcho(t, 100)
	tests := []struct {
		name string
		url  string
		opts []Option
		run  func(tb testing.TB, c *Conn)
		want string // substring of the failure; "" means it must pass
	}{
		{"wrong close code", echo.url, nil, func(tb testing.TB, c *Conn) {
			c.Send(tb, Text(nil).WithRsv(4))
			c.ExpectClose(tb, 1009)
		}, "got close 1002"},
		{"one of several codes", echo.url, nil, func(tb testing.TB, c *Conn) {
			c.Send(tb, Text(nil).WithRsv(4))
			c.ExpectClose(tb, 1009, 1002)
		}, ""},
		{"wrong payload", echo.url, nil, func(tb testing.TB, c *Conn) {
			c.Send(tb, Text([]byte("abcdef")))
			c.ExpectMessage(tb, ws.OpText, []byte("abcXef"))
		}, "first difference at offset 3"},
		{"wrong opcode", echo.url, nil, func(tb testing.TB, c *Conn) {
			c.Send(tb, Binary([]byte("abc")))
			c.ExpectMessage(tb, ws.OpText, []byte("abc"))
		}, "got binary message"},
		{"close instead of message", echo.url, nil, func(tb testing.TB, c *Conn) {
			c.Send(tb, Ping(make([]byte, 126)))
			c.ExpectPong(tb, make([]byte, 126))
		}, "got close 1002"},
		{"frame after close", scripted(t, writeFrames(
			ws.NewCloseFrame(ClosePayload(1000, "")), ws.NewTextFrame([]byte("late")),
		)), nil, func(tb testing.TB, c *Conn) {
			c.ExpectCloseFrame(tb, 1000)
			c.ExpectEOF(tb)
		}, `got text frame`},
		{"server never hangs up", scripted(t, writeFrames(ws.NewCloseFrame(ClosePayload(1000, "")))),
			[]Option{WithTimeout(100 * time.Millisecond)}, func(tb testing.TB, c *Conn) {
				c.ExpectClose(tb, 1000)
			}, "still open after 100ms"},
		{"strict close", echo.url, nil, func(tb testing.TB, c *Conn) {
			c.Send(tb, Text([]byte("x")), Text(nil).WithRsv(4))
			c.ExpectCloseNext(tb, 1002)
		}, "want close [1002]: got text frame"},
		{"strict close passes", echo.url, nil, func(tb testing.TB, c *Conn) {
			c.Send(tb, Text([]byte("x")), Text(nil).WithRsv(4))
			c.ExpectMessage(tb, ws.OpText, []byte("x"))
			c.ExpectCloseNext(tb, 1002)
		}, ""},
		{"reset after close is an end", scripted(t, func(conn net.Conn) {
			ws.WriteFrame(conn, ws.NewCloseFrame(ClosePayload(1001, "")))
			conn.(*net.TCPConn).SetLinger(0)
			conn.Close()
		}), nil, func(tb testing.TB, c *Conn) {
			c.ExpectClose(tb, 1001)
		}, ""},
		{"no close frame", scripted(t, func(conn net.Conn) { conn.Close() }), nil, func(tb testing.TB, c *Conn) {
			c.ExpectClose(tb, 1000)
		}, "connection ended without a close frame"},
		{"no close in time", scripted(t, func(net.Conn) {}), []Option{WithTimeout(50 * time.Millisecond)},
			func(tb testing.TB, c *Conn) { c.ExpectCloseFrame(tb) }, "no close frame within 50ms"},
		{"server ends mid-frame", scripted(t, func(conn net.Conn) {
			conn.Write([]byte{0x81, 0x05, 'h', 'e'})
			conn.Close()
		}), nil, func(tb testing.TB, c *Conn) { c.ExpectEOF(tb) }, "unexpected EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := Dial(t, tt.url, tt.opts...)
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

func TestDialErrors(t *testing.T) {
	t.Parallel()
	notWS := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(notWS.Close)

	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { silent.Close() })
	accepted := make(chan net.Conn, 1)
	go func() {
		conn, err := silent.Accept()
		if err == nil {
			accepted <- conn
		}
		close(accepted)
	}()
	t.Cleanup(func() {
		silent.Close()
		for conn := range accepted {
			conn.Close()
		}
	})

	tests := []struct {
		name string
		url  string
		want string
	}{
		{"not a websocket endpoint", "ws" + strings.TrimPrefix(notWS.URL, "http") + "/echo", "404"},
		{"handshake never answered", "ws://" + silent.Addr().String() + "/echo", "timeout"},
		{"bad url", "ws://[::1", "dial"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := DialContext(context.Background(), tt.url, WithTimeout(200*time.Millisecond))
			if err == nil {
				c.Close()
				t.Fatal("dial succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

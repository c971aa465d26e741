package main

import (
	"context"
	"encoding/json"
	"net"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/chatd/chatd/server/wire"
)

// TestMain checks, after every test has shut its server down, that no
// goroutine is left: the hub, each connection's read and write goroutines.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// waitFor bounds every read in the tests.
const waitFor = 10 * time.Second

// testServer is a running Server on 127.0.0.1:0.
type testServer struct {
	srv    *Server
	addr   string
	served chan error // Serve's result
}

// MustRunServer starts a Server on a free loopback port and shuts it down,
// checking Serve's result, when the test ends.
func MustRunServer(tb testing.TB) *testServer {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	ts := &testServer{srv: New(), addr: ln.Addr().String(), served: make(chan error, 1)}
	go func() { ts.served <- ts.srv.Serve(ln) }()
	tb.Cleanup(func() { ts.shutdown(tb) })
	return ts
}

// shutdown stops the server and checks that Serve returned nil. It may run
// twice (a test, then Cleanup).
func (ts *testServer) shutdown(tb testing.TB) {
	tb.Helper()
	if ts.served == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if err := ts.srv.Shutdown(ctx); err != nil {
		tb.Errorf("Shutdown: %v", err)
	}
	if err := <-ts.served; err != nil {
		tb.Errorf("Serve: %v", err)
	}
	ts.served = nil
}

// dial opens a WebSocket to path, closed when the test ends.
func (ts *testServer) dial(tb testing.TB, path string) *websocket.Conn {
	tb.Helper()
	c, resp, err := websocket.DefaultDialer.Dial("ws://"+ts.addr+path, nil)
	if err != nil {
		tb.Fatalf("dial %s: %v", path, err)
	}
	resp.Body.Close()
	tb.Cleanup(func() { c.Close() })
	return c
}

// login dials /ws and logs in as name.
func (ts *testServer) login(tb testing.TB, name string) *websocket.Conn {
	tb.Helper()
	c := ts.dial(tb, "/ws")
	if got := ask(tb, c, name); got != wire.PlainLoginOK {
		tb.Fatalf("login %q: got %q, want %q", name, got, wire.PlainLoginOK)
	}
	return c
}

// send writes one text message.
func send(tb testing.TB, c *websocket.Conn, text string) {
	tb.Helper()
	if err := c.WriteMessage(websocket.TextMessage, []byte(text)); err != nil {
		tb.Fatalf("write: %v", err)
	}
}

// recv reads one text message, failing the test after waitFor.
func recv(tb testing.TB, c *websocket.Conn) string {
	tb.Helper()
	c.SetReadDeadline(time.Now().Add(waitFor))
	op, msg, err := c.ReadMessage()
	if err != nil {
		tb.Fatalf("read: %v", err)
	}
	if op != websocket.TextMessage {
		tb.Fatalf("read: opcode %d, want text", op)
	}
	return string(msg)
}

// ask sends text and returns the next message.
func ask(tb testing.TB, c *websocket.Conn, text string) string {
	tb.Helper()
	send(tb, c, text)
	return recv(tb, c)
}

// recvJSON reads one message into v, requiring its "type" to be typ.
func recvJSON(tb testing.TB, c *websocket.Conn, typ string, v any) {
	tb.Helper()
	msg := recv(tb, c)
	var head struct{ Type string }
	if err := json.Unmarshal([]byte(msg), &head); err != nil || head.Type != typ {
		tb.Fatalf("got %s, want a %q message", msg, typ)
	}
	if err := json.Unmarshal([]byte(msg), v); err != nil {
		tb.Fatalf("decode %s: %v", msg, err)
	}
}

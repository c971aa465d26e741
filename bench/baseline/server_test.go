package main

import (
	"context"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"
)

func TestEcho(t *testing.T) {
	ts := MustRunServer(t)
	c := ts.dial(t, "/echo")
	cases := []struct {
		name string
		op   int
		msg  string
	}{
		{"text", websocket.TextMessage, "hello"},
		{"binary", websocket.BinaryMessage, "\x00\x01\xff"},
		{"empty", websocket.TextMessage, ""},
		{"64 KiB", websocket.BinaryMessage, strings.Repeat("z", maxMessageBytes)},
	}
	for _, tc := range cases {
		if err := c.WriteMessage(tc.op, []byte(tc.msg)); err != nil {
			t.Fatal(err)
		}
		op, got, err := c.ReadMessage()
		if err != nil || op != tc.op || string(got) != tc.msg {
			t.Errorf("%s: got op %d, %d bytes, %v", tc.name, op, len(got), err)
		}
	}
	// Past the limit: close 1009, as from chatd.
	if err := c.WriteMessage(websocket.BinaryMessage, make([]byte, maxMessageBytes+1)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
		t.Errorf("over the limit: %v, want close 1009", err)
	}
}

// TestShutdown: every connection, on /echo and /ws, logged in or not, gets
// close 1001; Serve returns nil; no goroutine is left; no new connection is
// accepted.
func TestShutdown(t *testing.T) {
	ts := MustRunServer(t)
	conns := []*websocket.Conn{ts.dial(t, "/echo"), ts.dial(t, "/ws"), ts.login(t, "alice"), ts.login(t, "bob")}
	send(t, conns[0], "up") // the echo handler is past its upgrade
	recv(t, conns[0])
	ts.shutdown(t)
	for i, c := range conns {
		if _, _, err := c.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseGoingAway) {
			t.Errorf("conn %d: %v, want close 1001", i, err)
		}
	}
	goleak.VerifyNone(t)
	if _, _, err := websocket.DefaultDialer.Dial("ws://"+ts.addr+"/ws", nil); err == nil {
		t.Error("dial after Shutdown succeeded")
	}
}

// TestShutdownUnserved: a Server that never served still stops its hub.
func TestShutdownUnserved(t *testing.T) {
	if err := New().Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	goleak.VerifyNone(t)
}

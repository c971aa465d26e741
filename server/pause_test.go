package server_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/internal/testserver"
	"github.com/chatd/chatd/server/wstest"
)

// pauser echoes messages; "pause" pauses reading, and a Notify of
// "resume" (from the test, like a bridge's stdin writer) resumes it. It
// also records the request's headers and URI seen in Open.
type pauser struct {
	c    *server.Conn
	seen *atomic.Int64
}

func (p pauser) Message(op server.MessageType, b []byte) {
	p.seen.Add(1)
	if string(b) == "pause" {
		p.c.PauseReading()
	}
	p.c.Send(op, b)
}

func (p pauser) Notify(v any) {
	if v == "resume" {
		p.c.ResumeReading()
	}
}

func (pauser) Closed(server.StatusCode, string) {}

// TestPauseReading: after PauseReading no message reaches the session
// (the client's pipelined messages wait in TCP) until ResumeReading; then
// every one arrives, in order. RequestURI and RequestHeaders work in Open
// and are dropped after it.
func TestPauseReading(t *testing.T) {
	var seen atomic.Int64
	conns := make(chan *server.Conn, 1)
	type openInfo struct{ uri, ua string }
	infos := make(chan openInfo, 1)
	ep := server.EndpointFunc(func(c *server.Conn) server.Session {
		var info openInfo
		info.uri = c.RequestURI()
		c.RequestHeaders(func(name, value string) {
			if name == "X-Test" {
				info.ua = value
			}
		})
		infos <- info
		conns <- c
		return pauser{c, &seen}
	})
	ts := testserver.StartWith(t, nil, map[string]server.Endpoint{"/p": ep})
	c := wstest.Dial(t, ts.URL("/p")+"?a=b", wstest.WithRawHeader("X-Test:  v1 \r\n"))
	info := <-infos
	if info.uri != "/p?a=b" || info.ua != "v1" {
		t.Fatalf("Open saw uri %q, X-Test %q", info.uri, info.ua)
	}
	sc := <-conns
	echoOnce(t, c, "pause")
	const n = 50
	for i := 0; i < n; i++ {
		c.SendText(t, fmt.Sprintf("m%02d", i))
	}
	// Nothing may arrive while paused; a short window shows it.
	c.ExpectQuiet(t, 200*time.Millisecond)
	if s := seen.Load(); s != 1 {
		t.Fatalf("session saw %d messages while paused, want 1", s)
	}
	if err := sc.Notify("resume"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for i := 0; i < n; i++ {
		got, err := c.ReadText(time.Until(deadline))
		if err != nil {
			t.Fatalf("echo %d: %v", i, err)
		}
		if want := fmt.Sprintf("m%02d", i); got != want {
			t.Fatalf("echo %d = %q, want %q", i, got, want)
		}
	}
}

// TestPausedPeerGone: a connection paused by its session is still pinged,
// so a client that has gone is noticed (a ping's write fails) and the
// connection ends, which a paused, unread socket would not show.
func TestPausedPeerGone(t *testing.T) {
	var seen atomic.Int64
	ep := server.EndpointFunc(func(c *server.Conn) server.Session { return pauser{c, &seen} })
	ts := testserver.StartWith(t, func(c *server.Config) {
		c.Keepalive.PingInterval = 100 * time.Millisecond
		c.Keepalive.PongTimeout = 100 * time.Millisecond
	}, map[string]server.Endpoint{"/p": ep})
	c := dialWS(t, ts.URL("/p"))
	echoOnce(t, c, "pause")
	// Stay paused with unread input, well past ping_interval +
	// pong_timeout: a paused connection has no pong timeout.
	c.SendText(t, "waits")
	deadline := time.Now().Add(600 * time.Millisecond)
	for {
		if _, _, err := c.ReadFrame(time.Until(deadline)); err != nil {
			break // pings only, until the deadline
		}
	}
	if n := len(ts.CloseCodes()); n != 0 {
		t.Fatalf("a paused connection was closed: %v", ts.CloseCodes())
	}
	c.Close()
	waitFor(t, 5*time.Second, "the paused connection to end", func() bool { return len(ts.CloseCodes()) == 1 })
}

// closer pauses reading at its first message and closes the connection
// at its second (delivered before the pause took hold).
type closer struct{ c *server.Conn }

func (s closer) Message(op server.MessageType, b []byte) {
	s.c.PauseReading()
	if string(b) == "close" {
		s.c.Close(4100, "done")
	}
}

func (closer) Notify(any) {}

func (closer) Closed(server.StatusCode, string) {}

// TestPausedClosing: once closing, a paused connection reads on, so the
// peer's close frame behind more data completes the handshake at once
// (not at close_timeout).
func TestPausedClosing(t *testing.T) {
	ts := testserver.StartWith(t, func(c *server.Config) { c.CloseTimeout = 10 * time.Second },
		map[string]server.Endpoint{"/p": server.EndpointFunc(func(c *server.Conn) server.Session { return closer{c} })})
	c := dialWS(t, ts.URL("/p"))
	var batch []byte
	for _, m := range []string{"close"} {
		batch = append(batch, maskedHeader(ws.OpText, true, len(m))...)
		batch = append(batch, m...)
	}
	c.SendRaw(t, batch)
	if code := readCloseCode(t, c, 5*time.Second); code != 4100 {
		t.Fatalf("close %d", code)
	}
	// More data, then the close reply: the data must not stop the read.
	began := time.Now()
	c.SendRaw(t, wstest.Concat(wstest.Text([]byte("late")), wstest.Close(4100, ""))) // one write
	expectEOF(t, c, 5*time.Second)
	if d := time.Since(began); d > 2*time.Second {
		t.Fatalf("closed after %v: the close frame was not read", d)
	}
}

// TestPausedThenClosedReadsTheAnswer: a connection whose session paused
// reading, with input held back, reads again once the server closes it,
// so the client's close answer ends it at once (not at close_timeout).
func TestPausedThenClosedReadsTheAnswer(t *testing.T) {
	var seen atomic.Int64
	conns := make(chan *server.Conn, 1)
	ts := testserver.StartWith(t, func(c *server.Config) { c.CloseTimeout = 10 * time.Second },
		map[string]server.Endpoint{"/p": server.EndpointFunc(func(c *server.Conn) server.Session {
			conns <- c
			return pauser{c, &seen}
		})})
	c := dialWS(t, ts.URL("/p"))
	sc := <-conns
	echoOnce(t, c, "pause") // reading pauses after this one
	c.SendText(t, "held")   // held: the session does not see it
	waitFor(t, 5*time.Second, "the message to be held", func() bool { return server.ReadingPaused(sc) })
	if seen.Load() != 1 {
		t.Fatalf("the session saw %d messages, want 1", seen.Load())
	}
	sc.Kick(4100, "closing a paused connection")
	if code := readCloseCode(t, c, 5*time.Second); code != 4100 {
		t.Fatalf("close %d, want 4100", code)
	}
	began := time.Now()
	c.SendRaw(t, wstest.Close(4100, "").Bytes())
	expectEOF(t, c, 5*time.Second)
	if d := time.Since(began); d > 2*time.Second {
		t.Fatalf("closed after %v: the paused connection did not read the close answer", d)
	}
	waitFor(t, 5*time.Second, "the close logged", func() bool { return len(ts.CloseCodes()) == 1 })
	for _, e := range ts.Logs.FilterMessage("connection closed").All() {
		if r := e.ContextMap()["reason"]; r != "closing a paused connection" {
			t.Fatalf("closed with reason %q: the handshake did not complete", r)
		}
	}
}

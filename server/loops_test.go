package server_test

import (
	"bytes"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/internal/testserver"
	"github.com/chatd/chatd/server/wstest"
)

// sink takes every message and answers none.
type sink struct{}

func (sink) Message(server.MessageType, []byte) {}
func (sink) Notify(any)                         {}
func (sink) Closed(server.StatusCode, string)   {}

// TestBusyConnectionDoesNotStarveItsLoop: on a single event loop, a client
// that sends without pause (more than a wake's reads every time) does not
// keep the loop from another client's echoes.
func TestBusyConnectionDoesNotStarveItsLoop(t *testing.T) {
	ts := testserver.StartWith(t, func(c *server.Config) { c.EventLoops = 1 },
		map[string]server.Endpoint{"/sink": server.EndpointFunc(func(*server.Conn) server.Session { return sink{} })})
	flood := dialWS(t, ts.URL("/sink"))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	var flooded atomic.Int64
	go func() {
		defer wg.Done()
		frame := wstest.Binary(bytes.Repeat([]byte("x"), 16_000)).Bytes()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := flood.WriteRaw(frame); err != nil { // within the Conn's 5 s
				return
			}
			flooded.Add(int64(len(frame)))
		}
	}()
	echo := dialWS(t, ts.URL("/echo"))
	waitFor(t, 10*time.Second, "the flood to start", func() bool { return flooded.Load() >= 1<<20 })
	before := flooded.Load()
	for i := range 20 {
		echoOnce(t, echo, fmt.Sprintf("beside a flood %d", i)) // each within echoOnce's 5 s deadline
	}
	during := flooded.Load() - before
	close(stop)
	wg.Wait()
	if during == 0 {
		t.Fatal("the flooder sent nothing while the echoes ran: the loop was not busy")
	}
}

// TestLastBytesOfABurstAreRead: one write carrying far more than a wake
// reads (eight reads of the loop's buffer) is read to its last message
// with no further input from the client: a level-triggered socket with
// input left is reported again.
func TestLastBytesOfABurstAreRead(t *testing.T) {
	ts := testserver.Start(t, func(c *server.Config) { c.EventLoops = 1 })
	c := dialWS(t, ts.URL("/echo"))
	const size = 1000
	n := 10 * 8 * server.ReadBufferSize / size // ten wakes' worth
	var burst []byte
	for i := range n {
		burst = append(burst, wstest.Text([]byte(fmt.Sprintf("%0*d", size, i))).Bytes()...)
	}
	c.SetTimeout(0)                       // the write below: as long as it takes
	go func() { _ = c.WriteRaw(burst) }() // the echoes are read meanwhile
	deadline := time.Now().Add(20 * time.Second)
	for i := range n {
		got, err := c.ReadText(time.Until(deadline))
		if err != nil {
			t.Fatalf("echo %d of %d: %v", i, n, err)
		}
		if want := fmt.Sprintf("%0*d", size, i); got != want {
			t.Fatalf("echo %d = %.20q…, want %.20q…", i, got, want)
		}
	}
}

// flushPanicky echoes; for "boom" it registers an OnFlushed callback that
// panics. The callback runs in its loop's flush, outside any actor.
type flushPanicky struct{ c *server.Conn }

func (p flushPanicky) Message(op server.MessageType, b []byte) {
	p.c.Send(op, b)
	if string(b) == "boom" {
		p.c.OnFlushed(func(bool) { panic("bug in a flush callback") })
	}
}

func (flushPanicky) Notify(any)                       {}
func (flushPanicky) Closed(server.StatusCode, string) {}

// TestPanicOnLoopClosesOnlyItsConnection: a panic in code the loop runs
// outside the actor (here an OnFlushed callback) closes that connection
// with 1011; the loop, and the other connections on it, go on.
func TestPanicOnLoopClosesOnlyItsConnection(t *testing.T) {
	ts := testserver.StartWith(t, func(c *server.Config) { c.EventLoops = 1 }, map[string]server.Endpoint{
		"/p": server.EndpointFunc(func(c *server.Conn) server.Session { return flushPanicky{c} }),
	})
	expectPanicCloses(t, ts.URL("/p"))
	echoOnce(t, dialWS(t, ts.URL("/p")), "a new connection on the same loop")
}

// groups records the connections of an endpoint by loop.
type groups struct {
	mu     sync.Mutex
	byLoop map[server.Loop][]*server.Conn
}

func (g *groups) Open(c *server.Conn) server.Session {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.byLoop[c.Loop()] = append(g.byLoop[c.Loop()], c)
	return sink{}
}

// TestLoopRunFanOut: a fan-out grouped by loop hands each loop one
// function, which writes to every connection of that loop; each client
// gets the frame once, and connections spread over every loop.
func TestLoopRunFanOut(t *testing.T) {
	g := &groups{byLoop: map[server.Loop][]*server.Conn{}}
	ts := testserver.StartWith(t, func(c *server.Config) { c.EventLoops = 3 }, map[string]server.Endpoint{"/g": g})
	const n = 12
	clients := make([]*wstest.Conn, n)
	for i := range clients {
		clients[i] = dialWS(t, ts.URL("/g"))
	}
	count := func() (conns, loops int) {
		g.mu.Lock()
		defer g.mu.Unlock()
		for _, cs := range g.byLoop {
			conns += len(cs)
		}
		return conns, len(g.byLoop)
	}
	waitFor(t, 5*time.Second, "every session open", func() bool { c, _ := count(); return c == n })
	if _, loops := count(); loops != 3 {
		t.Fatalf("connections spread over %d loops, want 3", loops)
	}
	frame := wstest.EncodeFrame(true, 0, ws.OpText, false, []byte("to all"))
	var runs atomic.Int32
	g.mu.Lock()
	for l, cs := range g.byLoop {
		l.Run(func() {
			runs.Add(1)
			for _, c := range cs {
				c.SendFrame(frame)
			}
		})
	}
	g.mu.Unlock()
	for _, c := range clients {
		c.ExpectText(t, "to all")
	}
	if runs.Load() != 3 {
		t.Fatalf("%d runs, want one per loop", runs.Load())
	}
}

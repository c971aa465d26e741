package server_test

import (
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/internal/testserver"
	"github.com/chatd/chatd/server/wstest"
)

// TestStarvation: many clients each send half a frame and stall. With a
// reader that blocked on partial frames they would hold every event loop;
// here a normal client's echo still completes promptly.
func TestStarvation(t *testing.T) {
	const loops = 2
	ts := testserver.Start(t, func(c *server.Config) { c.EventLoops = loops })
	stalled := 4 * loops * 8 // well past 4 x (event loop count)
	for i := 0; i < stalled; i++ {
		c := dialWS(t, ts.URL("/echo"))
		half := append(maskedHeader(ws.OpText, true, 100), make([]byte, 10)...)
		c.SendRaw(t, half)
	}
	normal := dialWS(t, ts.URL("/echo"))
	start := time.Now()
	echoOnce(t, normal, "still served")
	took := time.Since(start)
	t.Logf("echo beside %d stalled half-frame clients (%d event loops) took %v", stalled, loops, took)
	if took > 2*time.Second {
		t.Fatalf("echo took %v, want under 2s", took)
	}
}

// TestPartialFrameTimeout: a frame left incomplete is closed with 4002.
func TestPartialFrameTimeout(t *testing.T) {
	ts := testserver.Start(t, func(c *server.Config) { c.Limits.PartialFrameTimeout = 200 * time.Millisecond })
	c := dialWS(t, ts.URL("/echo"))
	c.SendRaw(t, maskedHeader(ws.OpBinary, true, 50)[:3]) // half a header
	if code := readCloseCode(t, c, 5*time.Second); code != 4002 {
		t.Fatalf("close code = %d, want 4002", code)
	}
}

// TestFramesSplitAndCoalesced covers the edge-triggered and blocking-read
// traps: two frames in one segment both arrive, and a frame dribbled one byte
// per write is assembled.
func TestFramesSplitAndCoalesced(t *testing.T) {
	ts := testserver.Start(t, nil)
	c := dialWS(t, ts.URL("/echo"))
	var two []byte
	for _, m := range []string{"first", "second"} {
		two = append(two, maskedHeader(ws.OpText, true, len(m))...)
		two = append(two, m...)
	}
	c.SendRaw(t, two)
	for _, want := range []string{"first", "second"} {
		c.ExpectText(t, want)
	}
	msg := "one byte at a time"
	frame := append(maskedHeader(ws.OpText, true, len(msg)), msg...)
	for i := range frame {
		c.SendRaw(t, frame[i:i+1])
		time.Sleep(time.Millisecond) // keep the bytes in separate segments
	}
	c.ExpectText(t, msg)
}

// TestBackpressure pipelines many messages into a tiny mailbox: reads pause
// and resume, and every echo comes back once, in order.
func TestBackpressure(t *testing.T) {
	ts := testserver.Start(t, func(c *server.Config) { c.Limits.QueueSize = 2 })
	c := dialWS(t, ts.URL("/echo"))
	c.SetTimeout(0) // the pipelined write: as long as it takes
	const n = 3000
	errc := make(chan error, 1)
	go func() {
		var batch []byte
		for i := 0; i < n; i++ {
			m := fmt.Sprintf("m%05d", i)
			batch = append(batch, maskedHeader(ws.OpText, true, len(m))...)
			batch = append(batch, m...)
		}
		errc <- c.WriteRaw(batch)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; i < n; i++ {
		got, err := c.ReadText(time.Until(deadline))
		if err != nil {
			t.Fatalf("echo %d: %v", i, err)
		}
		if want := fmt.Sprintf("m%05d", i); got != want {
			t.Fatalf("echo %d = %q, want %q", i, got, want)
		}
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

// TestScaleIdle holds 5,000 idle connections in one process: the server
// adds no goroutine per connection and one fd per connection.
func TestScaleIdle(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	const n = 5000
	ts := testserver.Start(t, func(c *server.Config) {
		// Every connection comes from 127.0.0.1, as fast as it can dial.
		c.Connections.MaxPerAddress = 2 * n
		c.Connections.RatePerAddress = 1e6
		c.Connections.BurstPerAddress = 1e6
	})
	// Settle the server's fixed goroutines before the baseline.
	echoOnce(t, dialWS(t, ts.URL("/echo")), "warm")
	runtime.GC()
	baseG := runtime.NumGoroutine()
	baseFD := openFDs(t)
	conns := make([]*wstest.Conn, 0, n)
	for i := 0; i < n; i++ {
		conns = append(conns, dialWS(t, ts.URL("/echo")))
	}
	waitFor(t, 10*time.Second, "server to register every connection", func() bool {
		return len(ts.Logs.FilterMessage("connection opened").All()) >= n+1
	})
	// One round trip on a sample proves they are live, then they idle.
	for i := 0; i < n; i += 500 {
		echoOnce(t, conns[i], "alive")
	}
	var g int
	waitFor(t, 5*time.Second, "activations to finish", func() bool {
		g = runtime.NumGoroutine()
		return g-baseG < 50
	})
	fds := openFDs(t) - baseFD
	t.Logf("%d idle connections: goroutines %d -> %d, fds +%d (client and server sides)", n, baseG, g, fds)
	// Each connection has two fds in this process: the client's and the
	// server's. A duplicated server fd (conn.File) would make it three.
	if fds < 2*n || fds > 2*n+64 {
		t.Fatalf("open fds grew by %d for %d connections, want about %d", fds, n, 2*n)
	}
}

func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("count fds: %v", err)
	}
	return len(ents)
}

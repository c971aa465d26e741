package server_test

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/internal/testserver"
	"github.com/chatd/chatd/server/wstest"
)

// reconfigure applies cfg modified by mutate to ts's server, failing the
// test if it is refused.
func reconfigure(tb testing.TB, ts *testserver.Server, mutate func(*server.Config)) {
	tb.Helper()
	cfg := server.DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	mutate(&cfg)
	if err := ts.Srv.Reconfigure(cfg); err != nil {
		tb.Fatalf("Reconfigure: %v", err)
	}
}

// TestReconfigureMaxMessageBytes: a lowered limits.max_message_bytes holds
// every message begun after it, on a connection opened before as on one
// opened after (1009); a raised one lets bigger messages through.
func TestReconfigureMaxMessageBytes(t *testing.T) {
	ts := testserver.Start(t, nil)
	big := strings.Repeat("x", 300)
	before := dialWS(t, ts.URL("/echo"))
	echoOnce(t, before, big)

	reconfigure(t, ts, func(c *server.Config) { c.Limits.MaxMessageBytes = 200 })
	after := dialWS(t, ts.URL("/echo"))
	echoOnce(t, after, strings.Repeat("y", 200)) // at the limit
	after.SendText(t, big)
	if code := readCloseCode(t, after, 5*time.Second); code != ws.StatusMessageTooBig {
		t.Fatalf("new connection: close %d, want 1009", code)
	}
	before.SendText(t, big)
	if code := readCloseCode(t, before, 5*time.Second); code != ws.StatusMessageTooBig {
		t.Fatalf("open connection: close %d, want 1009", code)
	}

	reconfigure(t, ts, func(c *server.Config) { c.Limits.MaxMessageBytes = 1000 })
	echoOnce(t, dialWS(t, ts.URL("/echo")), big)
}

// TestReconfigureMaxPerAddress: a lowered connections.max_per_address
// refuses new connections over it (429) and drops none of those open.
func TestReconfigureMaxPerAddress(t *testing.T) {
	ts := testserver.Start(t, func(c *server.Config) { c.Connections.MaxPerAddress = 5 })
	var open []*wstest.Conn
	for range 3 {
		open = append(open, dialWSFrom(t, "127.0.0.1", ts.URL("/echo")))
	}
	if r := get(t, "127.0.0.1", ts.Addr, "/healthz"); r.status != 200 {
		t.Fatalf("4th of 5: %d %q", r.status, r.body)
	}

	reconfigure(t, ts, func(c *server.Config) { c.Connections.MaxPerAddress = 2 })
	wantRefusal(t, get(t, "127.0.0.1", ts.Addr, "/healthz"), 429, "too many connections from your address", "")
	for i, c := range open {
		echoOnce(t, c, "still here "+string(rune('a'+i)))
	}
	if r := get(t, "127.0.0.2", ts.Addr, "/healthz"); r.status != 200 {
		t.Fatalf("another address: %d %q", r.status, r.body)
	}

	reconfigure(t, ts, func(c *server.Config) { c.Connections.MaxPerAddress = 5 })
	if r := get(t, "127.0.0.1", ts.Addr, "/healthz"); r.status != 200 {
		t.Fatalf("raised again: %d %q", r.status, r.body)
	}
}

// TestReconfigureHandshakeTimeout: a shortened handshake.timeout ends a
// handshake already in progress, although the sweeper ticked at the old
// (1 s) pace when it began.
func TestReconfigureHandshakeTimeout(t *testing.T) {
	ts := testserver.Start(t, func(c *server.Config) { c.Handshake.Timeout = time.Minute })
	c := dialFrom(t, "127.0.0.1", ts.Addr)
	if _, err := io.WriteString(c, "GET /echo HTTP/1.1\r\n"); err != nil {
		t.Fatal(err)
	}
	reconfigure(t, ts, func(c *server.Config) { c.Handshake.Timeout = 200 * time.Millisecond })
	start := time.Now()
	expectHangup(t, c, 5*time.Second)
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("handshake ended after %v; want about 200ms plus a sweep", d)
	}
}

// TestReconfigureMaxHeaderBytesBelowRead: a request head already longer
// than a lowered handshake.max_header_bytes is answered 431 at its next
// read (it once sliced the read buffer with a negative length).
func TestReconfigureMaxHeaderBytesBelowRead(t *testing.T) {
	ts := testserver.Start(t, nil)
	c := dialFrom(t, "127.0.0.1", ts.Addr)
	head := "GET /echo HTTP/1.1\r\nX-Pad: " + strings.Repeat("p", 1000) + "\r\n"
	if _, err := io.WriteString(c, head); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // let the server read it (a wait for the worse case only)
	reconfigure(t, ts, func(c *server.Config) { c.Handshake.MaxHeaderBytes = 256 })
	if _, err := io.WriteString(c, "X-More: 1\r\n"); err != nil {
		t.Fatal(err)
	}
	if r := readResponse(t, c, 5*time.Second); r.status != 431 {
		t.Fatalf("got %d %q, want 431", r.status, r.body)
	}
	echoOnce(t, dialWS(t, ts.URL("/echo")), "server still serves")
}

// TestReconfigureInvalidChangesNothing: an invalid config is refused whole,
// even where some of its fields are valid.
func TestReconfigureInvalidChangesNothing(t *testing.T) {
	ts := testserver.Start(t, nil)
	cfg := server.DefaultConfig()
	cfg.Limits.MaxMessageBytes = 200 // valid
	cfg.Limits.WriteBudgetBytes = 1  // invalid
	if err := ts.Srv.Reconfigure(cfg); err == nil || !strings.Contains(err.Error(), "server.limits.write_budget_bytes") {
		t.Fatalf("Reconfigure: %v, want the write budget named", err)
	}
	echoOnce(t, dialWS(t, ts.URL("/echo")), strings.Repeat("x", 300))
}

// TestReconfigureRacesTraffic: reconfigurations while clients echo, under
// -race, report no race and close no connection. The limits alternate
// between values every message of the test fits.
func TestReconfigureRacesTraffic(t *testing.T) {
	ts := testserver.Start(t, nil)
	const clients, messages = 8, 200
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			cfg := server.DefaultConfig()
			cfg.Limits.MaxMessageBytes = 4096 + i%2*4096
			cfg.Limits.WriteBudgetBytes = 64<<10 + i%3*4096
			cfg.Keepalive.PingInterval = time.Duration(20+i%5) * time.Second
			cfg.Connections.MaxPerAddress = 100 + i%7
			cfg.Handshake.MaxHeaderBytes = 4096 + i%2*1024
			if err := ts.Srv.Reconfigure(cfg); err != nil {
				t.Errorf("Reconfigure: %v", err)
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	var cwg sync.WaitGroup
	for i := range clients {
		cwg.Add(1)
		go func() {
			defer cwg.Done()
			c := dialWS(t, ts.URL("/echo"))
			for j := range messages {
				msg := strings.Repeat(string(rune('a'+i)), 1+j*17%4000)
				c.SendText(t, msg)
				c.ExpectText(t, msg)
			}
		}()
	}
	cwg.Wait()
	close(stop)
	wg.Wait()
}

// TestReconfigureAllowedOrigins: a changed allowed_origins holds the next
// upgrade request.
func TestReconfigureAllowedOrigins(t *testing.T) {
	ts := testserver.Start(t, func(c *server.Config) { c.AllowedOrigins = []string{"https://a.example"} })
	fromB := upgradeRequest("/echo", "Origin: https://b.example\r\n")
	if got := rawRequest(t, ts.Addr, fromB).StatusCode; got != 403 {
		t.Fatalf("origin b before: %d, want 403", got)
	}
	reconfigure(t, ts, func(c *server.Config) { c.AllowedOrigins = []string{"https://a.example", "https://b.example"} })
	if got := rawRequest(t, ts.Addr, fromB).StatusCode; got != 101 {
		t.Fatalf("origin b after it was allowed: %d, want 101", got)
	}
	reconfigure(t, ts, func(c *server.Config) { c.AllowedOrigins = []string{"https://a.example"} })
	if got := rawRequest(t, ts.Addr, fromB).StatusCode; got != 403 {
		t.Fatalf("origin b after it was removed: %d, want 403", got)
	}
}

// TestReconfigureCompressionMinSize: a raised compression.min_size sends
// plain what was compressed before, on a connection already open.
func TestReconfigureCompressionMinSize(t *testing.T) {
	ts, url := deflateServer(t, func(c *server.Config) { c.Compression.MinSize = 200 })
	c := wstest.Dial(t, url, wstest.WithDeflate())
	msg := bytes.Repeat([]byte("a"), 500)
	echo := func() bool {
		t.Helper()
		c.Send(t, c.Deflated(ws.OpBinary, msg))
		c.ExpectMessage(t, ws.OpBinary, msg)
		return c.LastCompressed()
	}
	if !echo() {
		t.Fatal("500 bytes over min_size 200 sent plain")
	}
	reconfigure(t, ts, func(c *server.Config) { c.Compression.Enabled, c.Compression.MinSize = true, 1000 })
	if echo() {
		t.Fatal("500 bytes under min_size 1000 compressed")
	}
}

// TestReconfigureMaxLingering: past a lowered connections.max_lingering
// each socket that lingers evicts the oldest (4 stay, not 7); the set is
// not trimmed to the cap at once, its sockets end within close_timeout.
func TestReconfigureMaxLingering(t *testing.T) {
	ts := testserver.Start(t, func(c *server.Config) {
		c.Connections.MaxLingering = 10
		c.CloseTimeout = 5 * time.Second
	})
	linger := func(n int) {
		for range n {
			c := dialFrom(t, "127.0.0.1", ts.Addr)
			if _, err := io.WriteString(c, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
				t.Fatal(err)
			}
		}
	}
	linger(4)
	waitFor(t, 5*time.Second, "4 sockets lingering", func() bool { return server.Lingering(ts.Srv) == 4 })
	reconfigure(t, ts, func(c *server.Config) { c.Connections.MaxLingering, c.CloseTimeout = 2, 5*time.Second })
	linger(3)
	waitFor(t, 5*time.Second, "each new lingering socket to evict the oldest", func() bool {
		return len(ts.Logs.FilterMessage("http request").All()) == 7 && server.Lingering(ts.Srv) <= 4
	})
}

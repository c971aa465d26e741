package server_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/internal/testserver"
	"github.com/chatd/chatd/server/wstest"
)

// dialFrom opens a TCP connection to addr from source address src (any
// 127/8 address works on loopback without setup).
func dialFrom(tb testing.TB, src, addr string) net.Conn {
	tb.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		tb.Fatalf("dial %s from %s: %v", addr, src, err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// dialWSFrom opens a WebSocket connection to url from source address src.
func dialWSFrom(tb testing.TB, src, url string) *wstest.Conn {
	tb.Helper()
	return wstest.Dial(tb, url, wstest.WithLocalAddr(netip.MustParseAddr(src)))
}

// response is an HTTP answer read to its end.
type response struct {
	status     int
	retryAfter string
	close      bool // Connection: close
	body       string
}

// readResponse reads a whole response from c within d. Anything but a
// complete response (a reset, EOF, a timeout) fails tb.
func readResponse(tb testing.TB, c net.Conn, d time.Duration) response {
	tb.Helper()
	_ = c.SetReadDeadline(time.Now().Add(d))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		tb.Fatalf("read response: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("read response body (status %d): %v", resp.StatusCode, err)
	}
	return response{resp.StatusCode, resp.Header.Get("Retry-After"), resp.Close, string(body)}
}

// get sends a GET for path on a new connection from src and reads the
// answer.
func get(tb testing.TB, src, addr, path string) response {
	tb.Helper()
	c := dialFrom(tb, src, addr)
	if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		tb.Fatal(err)
	}
	return readResponse(tb, c, 5*time.Second)
}

// wantRefusal checks a refusal's status, reason and headers.
func wantRefusal(tb testing.TB, r response, status int, reason, retryAfter string) {
	tb.Helper()
	if r.status != status || !strings.Contains(r.body, reason) || r.retryAfter != retryAfter || !r.close {
		tb.Fatalf("got %d %q (Retry-After %q, Connection: close %v); want %d %q (Retry-After %q, Connection: close)",
			r.status, r.body, r.retryAfter, r.close, status, reason, retryAfter)
	}
	if strings.Count(r.body, "\n") != 1 || !strings.HasSuffix(r.body, "\n") {
		tb.Errorf("body %q: want one line", r.body)
	}
}

// TestOneAddressCannotLockOthersOut (issue 7, item 3): 1,100 silent
// connections from one address used to take every handshake slot, after
// which chatd stopped accepting and /healthz timed out. With the default
// limits the flood is answered 429 while /healthz and clients from other
// addresses are served promptly.
func TestOneAddressCannotLockOthersOut(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 1,100 connections")
	}
	ts := testserver.Start(t, func(c *server.Config) { c.Handshake.Timeout = time.Minute })
	const n = 1100
	silent := make([]net.Conn, 0, n)
	start := time.Now()
	for i := 0; i < n; i++ {
		silent = append(silent, dialFrom(t, "127.0.0.1", ts.Addr))
	}
	t.Logf("%d silent connections from 127.0.0.1 in %v", n, time.Since(start).Round(time.Millisecond))

	start = time.Now()
	if r := get(t, "127.0.0.2", ts.Addr, "/healthz"); r.status != 200 {
		t.Fatalf("/healthz from 127.0.0.2: %d %q", r.status, r.body)
	}
	if took := time.Since(start); took > time.Second {
		t.Fatalf("/healthz from 127.0.0.2 took %v, want under 1s", took)
	}
	echoOnce(t, dialWSFrom(t, "127.0.0.3", ts.URL("/echo")), "served beside the flood")

	// More from the flooding address: a 429 status line, not a reset.
	for i := 0; i < 5; i++ {
		r := get(t, "127.0.0.1", ts.Addr, "/healthz")
		if r.status != 429 {
			t.Fatalf("one more from 127.0.0.1: %d %q, want 429", r.status, r.body)
		}
	}
	// The silent ones past the per-address handshake limit were answered
	// too, although they never sent a byte.
	if r := readResponse(t, silent[n-1], 5*time.Second); r.status != 429 {
		t.Fatalf("last silent connection: %d %q, want 429", r.status, r.body)
	}
	for _, c := range silent {
		c.Close()
	}
	// Operators see the refusals, summed, not one log line each.
	waitFor(t, 5*time.Second, "the refusals to be reported", func() bool {
		return ts.Logs.FilterMessage("connections refused over limits").Len() > 0
	})
	t.Logf("reported: %v", ts.Logs.FilterMessage("connections refused over limits").All()[0].ContextMap())
}

// TestConnectionLimits: each limit refuses with its status, a one-line
// reason and the right headers, and only its own scope: another address
// is still served. Freed capacity is reusable.
func TestConnectionLimits(t *testing.T) {
	t.Run("max_total", func(t *testing.T) {
		ts := testserver.Start(t, func(c *server.Config) { c.Connections.MaxTotal = 2 })
		a := dialWSFrom(t, "127.0.0.1", ts.URL("/echo"))
		dialWSFrom(t, "127.0.0.2", ts.URL("/echo"))
		wantRefusal(t, get(t, "127.0.0.3", ts.Addr, "/healthz"), 503, "server full", "")
		a.Close()
		waitFor(t, 5*time.Second, "a freed connection to be reusable", func() bool {
			return get(t, "127.0.0.3", ts.Addr, "/healthz").status == 200
		})
	})
	t.Run("max_per_address", func(t *testing.T) {
		ts := testserver.Start(t, func(c *server.Config) { c.Connections.MaxPerAddress = 2 })
		a := dialWSFrom(t, "127.0.0.1", ts.URL("/echo"))
		dialWSFrom(t, "127.0.0.1", ts.URL("/echo"))
		wantRefusal(t, get(t, "127.0.0.1", ts.Addr, "/healthz"), 429, "too many connections from your address", "")
		if r := get(t, "127.0.0.2", ts.Addr, "/healthz"); r.status != 200 {
			t.Fatalf("another address: %d %q", r.status, r.body)
		}
		a.Close()
		waitFor(t, 5*time.Second, "a freed connection to be reusable", func() bool {
			return get(t, "127.0.0.1", ts.Addr, "/healthz").status == 200
		})
	})
	t.Run("max_handshakes_per_address", func(t *testing.T) {
		ts := testserver.Start(t, func(c *server.Config) { c.Connections.MaxHandshakesPerAddress = 2 })
		for i := 0; i < 2; i++ {
			c := dialFrom(t, "127.0.0.1", ts.Addr)
			_, _ = io.WriteString(c, "GET /echo HTTP/1.1\r\n") // never finished
		}
		wantRefusal(t, get(t, "127.0.0.1", ts.Addr, "/healthz"), 429, "too many handshakes in progress from your address", "1")
		echoOnce(t, dialWSFrom(t, "127.0.0.2", ts.URL("/echo")), "another address")
		// Upgraded connections are not handshakes.
		ts2 := testserver.Start(t, func(c *server.Config) { c.Connections.MaxHandshakesPerAddress = 1 })
		for i := 0; i < 3; i++ {
			echoOnce(t, dialWSFrom(t, "127.0.0.1", ts2.URL("/echo")), "upgraded")
		}
	})
	t.Run("rate_per_address", func(t *testing.T) {
		ts := testserver.Start(t, func(c *server.Config) {
			c.Connections.RatePerAddress = 5
			c.Connections.BurstPerAddress = 3
		})
		for i := 0; i < 3; i++ { // the burst
			if r := get(t, "127.0.0.1", ts.Addr, "/healthz"); r.status != 200 {
				t.Fatalf("connection %d of the burst: %d %q", i+1, r.status, r.body)
			}
		}
		wantRefusal(t, get(t, "127.0.0.1", ts.Addr, "/healthz"), 429, "too many new connections from your address", "1")
		if r := get(t, "127.0.0.2", ts.Addr, "/healthz"); r.status != 200 {
			t.Fatalf("another address: %d %q", r.status, r.body)
		}
		time.Sleep(250 * time.Millisecond) // one token at 5/s
		if r := get(t, "127.0.0.1", ts.Addr, "/healthz"); r.status != 200 {
			t.Fatalf("after a token refilled: %d %q", r.status, r.body)
		}
	})
}

// TestAddressStateIsForgotten: an address's entry goes once it has no
// connection and its bucket is full again, so per-address state is bounded
// by the open connections plus the recent burst.
func TestAddressStateIsForgotten(t *testing.T) {
	ts := testserver.Start(t, func(c *server.Config) {
		c.Connections.RatePerAddress = 20
		c.Connections.BurstPerAddress = 4
		c.Connections.MaxPerAddress = 3
	})
	var conns []*wstest.Conn
	for _, src := range []string{"127.0.0.1", "127.0.0.1", "127.0.0.1", "127.0.0.2", "127.0.0.3"} {
		conns = append(conns, dialWSFrom(t, src, ts.URL("/echo")))
	}
	wantRefusal(t, get(t, "127.0.0.1", ts.Addr, "/healthz"), 429, "too many connections", "")
	get(t, "127.0.0.4", ts.Addr, "/healthz") // answered and gone: its bucket still refills
	if n := server.AddressEntries(ts.Srv); n != 4 {
		t.Fatalf("%d address entries with 4 addresses seen, want 4", n)
	}
	for _, c := range conns {
		c.Close()
	}
	// Buckets refill within burst/rate = 200ms; the sweeper runs at least
	// once a second.
	waitFor(t, 3*time.Second, "every address entry to go", func() bool { return server.AddressEntries(ts.Srv) == 0 })
}

// TestAnswersAreReadNotReset: chatd answers an HTTP error as soon as it has
// seen enough of the request, while the rest of it is still arriving.
// Closing the socket then resets the connection: a client still sending
// gets a write error (and typically gives up without reading the answer),
// and one that reads gets the reset after the answer. Half-closing and
// draining lets every client send its whole request, then read the whole
// answer, then EOF.
func TestAnswersAreReadNotReset(t *testing.T) {
	ts := testserver.Start(t, func(c *server.Config) {
		c.Connections.RatePerAddress = 1e6
		c.Connections.BurstPerAddress = 1e6
	})
	cases := []struct {
		name   string
		req    string
		status int
	}{
		{"head over max_header_bytes", "GET /echo HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 20<<10) + "\r\n\r\n", 431},
		{"404 with a body never read", "POST /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 32768\r\n\r\n" + strings.Repeat("b", 32<<10), 404},
		{"healthz with a body never read", "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 32768\r\n\r\n" + strings.Repeat("b", 32<<10), 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for i := 0; i < 50; i++ {
				c := dialFrom(t, "127.0.0.1", ts.Addr)
				// Odd rounds send in one write, even ones stream the
				// request in 4 KiB pieces, as a client uploading a body.
				chunk := len(tc.req)
				if i%2 == 0 {
					chunk = 4 << 10
				}
				for p := tc.req; len(p) > 0; {
					n := min(chunk, len(p))
					if _, err := io.WriteString(c, p[:n]); err != nil {
						t.Fatalf("round %d: write after %d of %d bytes: %v", i, len(tc.req)-len(p), len(tc.req), err)
					}
					p = p[n:]
					if len(p) > 0 {
						time.Sleep(time.Millisecond)
					}
				}
				r := readResponse(t, c, 5*time.Second)
				if r.status != tc.status || !r.close {
					t.Fatalf("round %d: %d (Connection: close %v), want %d", i, r.status, r.close, tc.status)
				}
				// Then EOF: chatd half-closed after the answer.
				if _, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
					t.Fatalf("round %d: after the answer: %v, want EOF", i, err)
				}
				c.Close()
			}
		})
	}
	waitFor(t, 5*time.Second, "lingering sockets to close once their clients did", func() bool {
		return server.Lingering(ts.Srv) == 0
	})
}

// TestLingerIsBounded: clients that never read their answer nor hang up
// linger at most close_timeout, at most max_lingering at once (the oldest
// is closed first), and cost no goroutine.
func TestLingerIsBounded(t *testing.T) {
	ts := testserver.Start(t, func(c *server.Config) {
		c.Connections.MaxLingering = 4
		c.CloseTimeout = 300 * time.Millisecond
	})
	var conns []net.Conn
	for i := 0; i < 6; i++ {
		c := dialFrom(t, "127.0.0.1", ts.Addr)
		if _, err := io.WriteString(c, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	waitFor(t, 5*time.Second, "the oldest two to be evicted", func() bool {
		return len(ts.Logs.FilterMessage("http request").All()) == 6 && server.Lingering(ts.Srv) == 4
	})
	// Every client still reads its whole answer, evicted or not.
	for i, c := range conns {
		if r := readResponse(t, c, 5*time.Second); r.status != 404 {
			t.Fatalf("client %d: %d", i, r.status)
		}
	}
	waitFor(t, 5*time.Second, "close_timeout to end the lingering", func() bool { return server.Lingering(ts.Srv) == 0 })
}

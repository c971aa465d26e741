package server_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/internal/testserver"
)

// rawRequest sends req on a fresh TCP connection and returns the response.
func rawRequest(t *testing.T, addr, req string) *http.Response {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func upgradeRequest(path, extra string) string {
	return "GET " + path + " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" + extra + "\r\n"
}

func TestHTTPRouting(t *testing.T) {
	ts := testserver.Start(t, func(c *server.Config) {
		c.AllowedOrigins = []string{"https://chat.example.com"}
	})
	cases := []struct {
		name       string
		req        string
		wantStatus int
		wantBody   string
		wantHeader map[string]string
	}{
		{name: "healthz", req: "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", wantStatus: 200, wantBody: "ok\n"},
		{name: "unknown path", req: "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", wantStatus: 404},
		{name: "unknown path with upgrade", req: upgradeRequest("/nope", ""), wantStatus: 404},
		{name: "plain http to websocket path", req: "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n", wantStatus: 426,
			wantBody: "/echo is a WebSocket endpoint", wantHeader: map[string]string{"Upgrade": "websocket"}},
		{name: "query string ignored for routing", req: "GET /healthz?x=1 HTTP/1.1\r\nHost: x\r\n\r\n", wantStatus: 200},
		{name: "malformed request line", req: "NONSENSE\r\n\r\n", wantStatus: 400},
		{name: "origin allowed", req: upgradeRequest("/echo", "Origin: https://chat.example.com\r\n"), wantStatus: 101},
		{name: "origin case-insensitive", req: upgradeRequest("/echo", "Origin: HTTPS://Chat.Example.com\r\n"), wantStatus: 101},
		{name: "origin refused", req: upgradeRequest("/echo", "Origin: https://evil.example.com\r\n"), wantStatus: 403, wantBody: "origin not allowed"},
		{name: "no origin is a non-browser client", req: upgradeRequest("/echo", ""), wantStatus: 101},
		{name: "bad websocket version", req: strings.Replace(upgradeRequest("/echo", ""), "Version: 13", "Version: 8", 1), wantStatus: 426,
			wantBody: "Sec-WebSocket-Version", wantHeader: map[string]string{"Sec-WebSocket-Version": "13"}},
		{name: "post is refused", req: strings.Replace(upgradeRequest("/echo", ""), "GET", "POST", 1), wantStatus: 405},
		{name: "no websocket key", req: strings.Replace(upgradeRequest("/echo", ""), "Sec-WebSocket-Key", "X-Key", 1), wantStatus: 400,
			wantBody: "Sec-WebSocket-Key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := rawRequest(t, ts.Addr, tc.req)
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			if tc.wantStatus != 101 {
				// Every answer but 101 ends the connection, and says so.
				if !resp.Close {
					t.Errorf("%d without Connection: close", resp.StatusCode)
				}
				if ct := resp.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
					t.Errorf("Content-Type %q", ct)
				}
				body, _ := io.ReadAll(resp.Body)
				if !strings.Contains(string(body), tc.wantBody) {
					t.Errorf("body = %q, want it to contain %q", body, tc.wantBody)
				}
				if strings.Count(strings.TrimSpace(string(body)), "\n") > 0 {
					t.Errorf("body = %q, want one line", body)
				}
			}
			for k, v := range tc.wantHeader {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestHeadTooLarge(t *testing.T) {
	ts := testserver.Start(t, func(c *server.Config) { c.Handshake.MaxHeaderBytes = 512 })
	req := "GET /echo HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 1000) + "\r\n\r\n"
	if resp := rawRequest(t, ts.Addr, req); resp.StatusCode != 431 {
		t.Fatalf("status = %d, want 431", resp.StatusCode)
	}
}

func TestHandshakeTimeout(t *testing.T) {
	ts := testserver.Start(t, func(c *server.Config) { c.Handshake.Timeout = 200 * time.Millisecond })
	c, err := net.Dial("tcp", ts.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _ = io.WriteString(c, "GET /echo HTTP/1.1\r\nHost: x\r\n") // never finished
	start := time.Now()
	expectHangup(t, c, 5*time.Second)
	t.Logf("dribbling handshake closed after %v", time.Since(start).Round(time.Millisecond))
}

func TestEchoDisabled(t *testing.T) {
	ts := testserver.Start(t, func(c *server.Config) { c.Echo = false })
	if resp := rawRequest(t, ts.Addr, upgradeRequest("/echo", "")); resp.StatusCode != 404 {
		t.Fatalf("status = %d, want 404 when echo is off", resp.StatusCode)
	}
}

// TestMaxConcurrentHandshakes: with every handshake slot held by a client
// that never finishes its request, the next client is answered 503 at once
// (not left waiting in the accept queue), and served as soon as a slot
// frees.
func TestMaxConcurrentHandshakes(t *testing.T) {
	ts := testserver.Start(t, func(c *server.Config) { c.Handshake.MaxConcurrent = 2 })
	var stalled []net.Conn
	for i := 0; i < 2; i++ {
		c, err := net.Dial("tcp", ts.Addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, _ = io.WriteString(c, "GET /echo HTTP/1.1\r\n") // never finished
		stalled = append(stalled, c)
	}
	// The accept queue is FIFO: the stalled two are admitted first.
	resp := rawRequest(t, ts.Addr, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "1" || !resp.Close {
		t.Fatalf("with every slot taken: %d, Retry-After %q, Connection: close %v; want 503, 1, true",
			resp.StatusCode, resp.Header.Get("Retry-After"), resp.Close)
	}
	if !strings.Contains(string(body), "too many handshakes") {
		t.Errorf("body = %q", body)
	}
	stalled[0].Close() // frees a slot
	waitFor(t, 5*time.Second, "a slot to free", func() bool {
		resp := rawRequest(t, ts.Addr, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		return resp.StatusCode == 200
	})
}

// TestHeadHasNoBody: a HEAD request gets the headers of the answer and no
// body (RFC 9110 9.3.2), then EOF.
func TestHeadHasNoBody(t *testing.T) {
	ts := testserver.Start(t, nil)
	for _, req := range []string{
		"HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
		"HEAD /nope HTTP/1.1\r\nHost: x\r\n\r\n",
		"HEAD /echo HTTP/1.1\r\nHost: x\r\n\r\n",
		strings.Replace(upgradeRequest("/echo", ""), "GET", "HEAD", 1), // refused with 405
	} {
		path := strings.Fields(req)[1]
		c, err := net.Dial("tcp", ts.Addr)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.WriteString(c, req); err != nil {
			t.Fatal(err)
		}
		all, err := io.ReadAll(c)
		c.Close()
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		head, body, ok := strings.Cut(string(all), "\r\n\r\n")
		if !ok || !strings.HasPrefix(head, "HTTP/1.1 ") || body != "" {
			t.Fatalf("HEAD %s: got %q, want a status line and headers only", path, all)
		}
	}
}

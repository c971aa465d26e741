package server_test

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/internal/testserver"
	"github.com/chatd/chatd/server/wstest"
)

// requestEcho answers every message with what its connection saw at the
// handshake: path, query (as Open saw it) and subprotocol.
type requestEcho struct{ protocols []string }

func (e requestEcho) Subprotocols() []string { return e.protocols }

func (e requestEcho) Open(c *server.Conn) server.Session {
	return &requestEchoSession{c: c, seen: c.Path() + " " + c.Query().Encode() + " " + c.Subprotocol()}
}

type requestEchoSession struct {
	c    *server.Conn
	seen string
}

func (s *requestEchoSession) Message(server.MessageType, []byte) {
	// Query is for Open only: after it, the connection no longer holds it.
	s.c.Send(server.Text, []byte(s.seen+" | "+s.c.Query().Encode()))
}
func (*requestEchoSession) Notify(any)                       {}
func (*requestEchoSession) Closed(server.StatusCode, string) {}

// TestPrefixQueryAndSubprotocol: an endpoint under a prefix sees the full
// path and the query during Open, and the first protocol of the client's
// offer that it lists; an offer of only unknown protocols is accepted
// without a protocol (RFC 6455 4.2.2).
func TestPrefixQueryAndSubprotocol(t *testing.T) {
	ts := testserver.StartSetup(t, nil, func(srv *server.Server) {
		ep := requestEcho{protocols: []string{"chat.v1", "chat.text"}}
		srv.Handle("/r", ep)
		srv.HandlePrefix("/r/", ep)
		srv.HandlePrefix("/r/deep/", server.EndpointFunc(func(c *server.Conn) server.Session {
			return &requestEchoSession{c: c, seen: "deep " + c.Path()}
		}))
	})
	cases := []struct {
		name, path, protocols, want, wantHeader string
	}{
		{"exact path", "/r", "", "/r  ", ""},
		{"query", "/r?name=al%20ice&x=1", "", "/r name=al+ice&x=1 ", ""},
		{"prefix", "/r/alice?token=t", "", "/r/alice token=t ", ""},
		{"longest prefix wins", "/r/deep/x", "", "deep /r/deep/x", ""},
		{"first offered that is known", "/r", "chat.text, chat.v1", "/r  chat.text", "chat.text"},
		{"unknown skipped", "/r", "mqtt, chat.v1", "/r  chat.v1", "chat.v1"},
		{"only unknown: no protocol", "/r", "mqtt, wamp", "/r  ", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var protocols []string
			if tc.protocols != "" {
				protocols = strings.Split(strings.ReplaceAll(tc.protocols, " ", ""), ",")
			}
			conn := wstest.Dial(t, ts.URL(tc.path), wstest.WithProtocols(protocols...))
			if p := conn.Protocol(); p != tc.wantHeader {
				t.Fatalf("Sec-WebSocket-Protocol = %q, want %q", p, tc.wantHeader)
			}
			echoed := roundTrip(t, conn, "x")
			if want := tc.want + " | "; echoed != want {
				t.Fatalf("endpoint saw %q, want %q", echoed, want)
			}
		})
	}
	// The prefix itself, with nothing after it, is not served.
	if resp := rawRequest(t, ts.Addr, upgradeRequest("/r/", "")); resp.StatusCode != 404 {
		t.Fatalf("/r/: status %d, want 404", resp.StatusCode)
	}
}

// TestFiles: static files are served on GET and HEAD with their type, an
// ETag honoured by If-None-Match, and headers that keep the page to its own
// origin; endpoints win over files and nothing outside the set is served.
func TestFiles(t *testing.T) {
	fsys := fstest.MapFS{
		"index.html":   {Data: []byte("<!doctype html><p>hi</p>")},
		"app.js":       {Data: []byte("console.log(1)")},
		"echo":         {Data: []byte("shadowed by the endpoint")},
		"sub/inner.js": {Data: []byte("not served: only the top level is")},
	}
	ts := testserver.StartSetup(t, nil, func(srv *server.Server) {
		if err := srv.HandleFiles(fsys); err != nil {
			t.Fatal(err)
		}
	})
	get := func(t *testing.T, method, path, extra string) (*http.Response, string) {
		resp := rawRequest(t, ts.Addr, method+" "+path+" HTTP/1.1\r\nHost: x\r\n"+extra+"\r\n")
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, string(body)
	}
	resp, body := get(t, "GET", "/", "")
	if resp.StatusCode != 200 || body != "<!doctype html><p>hi</p>" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "connect-src 'self';") || strings.Contains(csp, "ws:") {
		t.Errorf("CSP %q: the page may connect only to its own server", csp)
	}
	for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "ETag", "Cache-Control"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("GET / without %s", h)
		}
	}
	if !resp.Close {
		t.Error("file answered without Connection: close")
	}
	etag := resp.Header.Get("ETag")
	if r, b := get(t, "GET", "/app.js?v=2", ""); r.StatusCode != 200 || b != "console.log(1)" || !strings.Contains(r.Header.Get("Content-Type"), "javascript") {
		t.Fatalf("GET /app.js: %d %q %q", r.StatusCode, r.Header.Get("Content-Type"), b)
	}
	head := rawText(t, ts.Addr, "HEAD /index.html HTTP/1.1\r\nHost: x\r\n\r\n")
	if !strings.HasPrefix(head, "HTTP/1.1 200 OK\r\n") || !strings.Contains(head, "Content-Length: 24\r\n") || !strings.HasSuffix(head, "\r\n\r\n") {
		t.Fatalf("HEAD: %q", head)
	}
	if r, b := get(t, "GET", "/", "If-None-Match: "+etag+"\r\n"); r.StatusCode != 304 || b != "" {
		t.Fatalf("If-None-Match: %d %q", r.StatusCode, b)
	}
	if r, _ := get(t, "GET", "/", "If-None-Match: \"other\"\r\n"); r.StatusCode != 200 {
		t.Fatalf("other etag: %d", r.StatusCode)
	}
	if r, _ := get(t, "POST", "/", "Content-Length: 0\r\n"); r.StatusCode != 405 || r.Header.Get("Allow") == "" {
		t.Fatalf("POST: %d", r.StatusCode)
	}
	for _, p := range []string{"/sub/inner.js", "/nope.js", "/../index.html", "/sub"} {
		if r, _ := get(t, "GET", p, ""); r.StatusCode != 404 {
			t.Errorf("GET %s: %d, want 404", p, r.StatusCode)
		}
	}
	if r, _ := get(t, "GET", "/echo", ""); r.StatusCode != 426 {
		t.Errorf("GET /echo: %d, want the endpoint's 426", r.StatusCode)
	}
	if r := rawRequest(t, ts.Addr, upgradeRequest("/", "")); r.StatusCode != 404 {
		t.Errorf("upgrade on /: %d, want 404", r.StatusCode)
	}
}

// TestNoFilesNoRoot: without HandleFiles, / is a 404 as before.
func TestNoFilesNoRoot(t *testing.T) {
	ts := testserver.Start(t, func(*server.Config) {})
	if r := rawRequest(t, ts.Addr, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); r.StatusCode != 404 {
		t.Fatalf("GET /: %d", r.StatusCode)
	}
}

// roundTrip sends msg and returns the text the server answers.
func roundTrip(tb testing.TB, c *wstest.Conn, msg string) string {
	tb.Helper()
	c.SendText(tb, msg)
	return c.NextText(tb)
}

// rawText sends req and returns everything the server writes until it
// closes the connection.
func rawText(tb testing.TB, addr, req string) string {
	tb.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		tb.Fatal(err)
	}
	b, err := io.ReadAll(c)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

package server

import (
	"strings"
	"testing"
)

func TestParseHead(t *testing.T) {
	cases := []struct {
		name    string
		head    string
		want    requestHead
		wantErr bool
	}{
		{name: "websocket", head: "GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
			want: requestHead{method: "GET", path: "/echo", upgrade: true}},
		{name: "upgrade token list, any case", head: "GET /ws?x=1 HTTP/1.1\r\nupgrade: h2c, WebSocket\r\n\r\n",
			want: requestHead{method: "GET", path: "/ws", query: "x=1", upgrade: true}},
		{name: "query before fragment", head: "GET /ws?name=a%20b&t=1#frag HTTP/1.1\r\nIf-None-Match: \"e\"\r\n\r\n",
			want: requestHead{method: "GET", path: "/ws", query: "name=a%20b&t=1", ifNoneMatch: `"e"`}},
		{name: "plain", head: "GET /healthz HTTP/1.0\r\n\r\n", want: requestHead{method: "GET", path: "/healthz"}},
		{name: "absolute form", head: "GET http://host:80/echo#f HTTP/1.1\r\n\r\n", want: requestHead{method: "GET", path: "/echo"}},
		{name: "absolute form, no path", head: "GET http://host HTTP/1.1\r\n\r\n", want: requestHead{method: "GET", path: "/"}},
		{name: "other upgrade", head: "GET /echo HTTP/1.1\r\nUpgrade: h2c\r\n\r\n", want: requestHead{method: "GET", path: "/echo"}},
		{name: "two fields", head: "GET /echo\r\n\r\n", wantErr: true},
		{name: "not http", head: "GET /echo FTP/1.1\r\n\r\n", wantErr: true},
		{name: "header without colon", head: "GET / HTTP/1.1\r\nbroken\r\n\r\n", wantErr: true},
		{name: "empty header name", head: "GET / HTTP/1.1\r\n: v\r\n\r\n", wantErr: true},
		{name: "NUL in a value", head: "GET / HTTP/1.1\r\nX-N: a\x00b\r\n\r\n", wantErr: true},
		{name: "escape in a value", head: "GET / HTTP/1.1\r\nX-N: a\x1bb\r\n\r\n", wantErr: true},
		{name: "space in a name", head: "GET / HTTP/1.1\r\nX Y: z\r\n\r\n", wantErr: true},
		{name: "= in a name", head: "GET / HTTP/1.1\r\nA=B: c\r\n\r\n", wantErr: true},
		{name: "space before the colon", head: "GET / HTTP/1.1\r\nHost : x\r\n\r\n", wantErr: true},
		{name: "tab and obs-text in a value", head: "GET /echo HTTP/1.1\r\nX-T: a\tb \xe9\r\n\r\n", want: requestHead{method: "GET", path: "/echo"}},
		{name: "unterminated", head: "GET / HTTP/1.1\r\nHost: x", wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseHead([]byte(tc.head))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if !tc.wantErr && got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestEndOfHead(t *testing.T) {
	head := "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
	if got := endOfHead([]byte(head + "early frame bytes")); got != len(head) {
		t.Fatalf("endOfHead = %d, want %d", got, len(head))
	}
	if got := endOfHead([]byte(head[:len(head)-1])); got != -1 {
		t.Fatalf("endOfHead of an incomplete head = %d, want -1", got)
	}
}

// FuzzParseHead: any input is parsed or refused without panicking; a parsed
// path never carries a query or fragment.
func FuzzParseHead(f *testing.F) {
	f.Add([]byte("GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n"))
	f.Add([]byte("GET http://h/p?q HTTP/1.1\r\n\r\n"))
	f.Add([]byte("\r\n\r\n"))
	f.Add([]byte("GET  HTTP/1.1\r\nUpgrade:,,websocket,\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		end := endOfHead(b)
		if end >= 0 && !strings.HasSuffix(string(b[:end]), "\r\n\r\n") {
			t.Fatalf("endOfHead(%q) = %d", b, end)
		}
		h, err := parseHead(b)
		if err != nil {
			return
		}
		if strings.ContainsAny(h.path, "?#") {
			t.Fatalf("path %q keeps a query or fragment", h.path)
		}
		// RequestHeaders (eachHeader) on an accepted head: every name is
		// non-empty and no name or value holds a CRLF (a bare LF may be
		// in a value: users of values sanitise them, as the bridge does).
		eachHeader(b, func(name, value string) {
			if name == "" || strings.Contains(name, "\r\n") || strings.Contains(value, "\r\n") {
				t.Fatalf("eachHeader(%q) gave %q: %q", b, name, value)
			}
		})
	})
}

func TestEachHeader(t *testing.T) {
	head := "GET /p?q HTTP/1.1\r\nHost: h:1\r\nX-A:  one \r\nX-A: two\r\n\r\n"
	var got []string
	eachHeader([]byte(head), func(name, value string) { got = append(got, name+"="+value) })
	if want := "Host=h:1 X-A=one X-A=two"; strings.Join(got, " ") != want {
		t.Fatalf("eachHeader = %q, want %q", got, want)
	}
	eachHeader(nil, func(name, value string) { t.Fatalf("eachHeader(nil) gave %q", name) })
}

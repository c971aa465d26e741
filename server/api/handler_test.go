package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/chatd/chatd/server/api"
)

const testKey = "0123456789abcdef-test-key"

// fakeChat records calls and answers from its Fn fields.
type fakeChat struct {
	publish    func(sender, room string, data json.RawMessage) (api.Published, error)
	send       func(ctx context.Context, sender, receiver string, data json.RawMessage) (api.Sent, error)
	online     func(after string, limit int) ([]string, bool)
	rooms      func(after string, limit int) ([]api.RoomInfo, bool)
	room       func(name, after string, limit int) (api.Room, error)
	disconnect func(user, reason string) (int, error)
}

func (f *fakeChat) Publish(_ context.Context, sender, room string, data json.RawMessage) (api.Published, error) {
	return f.publish(sender, room, data)
}

func (f *fakeChat) Send(ctx context.Context, sender, receiver string, data json.RawMessage) (api.Sent, error) {
	return f.send(ctx, sender, receiver, data)
}
func (f *fakeChat) Online(after string, limit int) ([]string, bool) { return f.online(after, limit) }
func (f *fakeChat) Rooms(after string, limit int) ([]api.RoomInfo, bool) {
	return f.rooms(after, limit)
}
func (f *fakeChat) Room(name, after string, limit int) (api.Room, error) {
	return f.room(name, after, limit)
}
func (f *fakeChat) Disconnect(user, reason string) (int, error) { return f.disconnect(user, reason) }

// okChat answers every call successfully and echoes its arguments.
func okChat() *fakeChat {
	return &fakeChat{
		publish: func(sender, room string, data json.RawMessage) (api.Published, error) {
			return api.Published{ID: 1, Room: room + "/" + sender + "/" + string(data), Seq: 7}, nil
		},
		send: func(_ context.Context, sender, receiver string, data json.RawMessage) (api.Sent, error) {
			return api.Sent{ID: 2, Status: "delivered"}, nil
		},
		online: func(after string, limit int) ([]string, bool) {
			return []string{after + "x", fmt.Sprint(limit)}, true
		},
		rooms: func(after string, limit int) ([]api.RoomInfo, bool) {
			return []api.RoomInfo{{Name: "lobby", Members: limit}}, false
		},
		room: func(name, after string, limit int) (api.Room, error) {
			if name == "nowhere" {
				return api.Room{}, fmt.Errorf("%w: no room", api.ErrNotFound)
			}
			return api.Room{Name: name, Seq: 3, Members: 2, Users: []string{"a", "b"}, More: true}, nil
		},
		disconnect: func(user, reason string) (int, error) { return 2, nil },
	}
}

// startAPI serves chat on 127.0.0.1:0 and returns its base URL.
func startAPI(t *testing.T, chat api.Chat, mutate func(*api.Config)) string {
	t.Helper()
	cfg := api.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.Key = testKey
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := api.Listen(cfg, api.NewHandler(cfg, testKey, chat), zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return "http://" + s.Addr().String()
}

// do sends one request and returns the status and the decoded JSON answer.
func do(t *testing.T, method, url, auth, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if method == http.MethodHead {
		return resp.StatusCode, nil
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s %s: Content-Type %q, body %q", method, url, ct, b)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s %s: not JSON: %q", method, url, b)
	}
	return resp.StatusCode, m
}

const bearer = "Bearer " + testKey

// TestAPIKey: a missing key, a wrong one, one of another length, or the
// right one under another scheme all get 401 before routing.
func TestAPIKey(t *testing.T) {
	base := startAPI(t, okChat(), nil)
	for _, tc := range []struct{ name, auth string }{
		{"missing", ""},
		{"wrong", "Bearer 0123456789abcdef-test-kez"},
		{"short", "Bearer 0"},
		{"empty", "Bearer "},
		{"wrong scheme", "Basic " + testKey},
		{"lower-case scheme", "bearer " + testKey},
		{"bare key", testKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, path := range []string{"/api/online", "/api/nope"} {
				code, m := do(t, http.MethodGet, base+path, tc.auth, "")
				if code != http.StatusUnauthorized || m["error"] == nil {
					t.Fatalf("%s: %d %v, want 401 with an error", path, code, m)
				}
			}
		})
	}
	if code, _ := do(t, http.MethodGet, base+"/api/online", bearer, ""); code != http.StatusOK {
		t.Fatalf("right key: %d", code)
	}
}

// TestAPIEndpoints: each endpoint with good input, as the fake sees it.
func TestAPIEndpoints(t *testing.T) {
	var gotReason string
	chat := okChat()
	chat.disconnect = func(user, reason string) (int, error) { gotReason = user + ":" + reason; return 2, nil }
	base := startAPI(t, chat, func(c *api.Config) { c.Sender = "bot"; c.PageLimit = 10 })
	for _, tc := range []struct {
		name, method, path, body string
		want                     string // the answer, as JSON
	}{
		{"publish", "POST", "/api/publish", `{"room":"lobby","data":{"a":1}}`, `{"id":1,"room":"lobby/bot/{\"a\":1}","seq":7}`},
		{"send", "POST", "/api/send", `{"receiver":"bob","data":"hi"}`, `{"id":2,"status":"delivered"}`},
		{"online", "GET", "/api/online?after=a&limit=3", "", `{"more":true,"next":"3","users":["ax","3"]}`},
		{"online limit capped", "GET", "/api/online?limit=1000", "", `{"more":true,"next":"10","users":["x","10"]}`},
		{"rooms", "GET", "/api/rooms", "", `{"more":false,"rooms":[{"members":10,"name":"lobby"}]}`},
		{"room", "GET", "/api/rooms/hall", "", `{"members":2,"more":true,"name":"hall","next":"b","seq":3,"users":["a","b"]}`},
		{"disconnect", "POST", "/api/disconnect", `{"user":"bob"}`, `{"sessions":2,"user":"bob"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, m := do(t, tc.method, base+tc.path, bearer, tc.body)
			got, _ := json.Marshal(m)
			if code != http.StatusOK || string(got) != tc.want {
				t.Fatalf("%d %s, want 200 %s", code, got, tc.want)
			}
		})
	}
	if gotReason != "bob:disconnected by the server" {
		t.Fatalf("disconnect reason %q", gotReason)
	}
}

// TestAPIBadRequests: wrong methods, unknown paths, bodies too large or
// malformed, missing fields, and Chat's errors each get their 4xx (or 5xx)
// with a JSON error.
func TestAPIBadRequests(t *testing.T) {
	chat := okChat()
	chat.send = func(_ context.Context, _, receiver string, _ json.RawMessage) (api.Sent, error) {
		switch receiver {
		case "bad name":
			return api.Sent{}, fmt.Errorf("%w: invalid receiver", api.ErrInvalid)
		case "ghost":
			return api.Sent{}, fmt.Errorf("%w: unknown receiver", api.ErrNotFound)
		case "full":
			return api.Sent{}, fmt.Errorf("%w: mailbox full", api.ErrFull)
		case "busy":
			return api.Sent{}, fmt.Errorf("%w: busy", api.ErrUnavailable)
		case "anon":
			return api.Sent{}, fmt.Errorf("%w: no mail kept", api.ErrNotKept)
		case "slow":
			return api.Sent{}, fmt.Errorf("%w: waited", api.ErrTimeout)
		}
		return api.Sent{}, fmt.Errorf("disk on fire")
	}
	base := startAPI(t, chat, func(c *api.Config) { c.MaxBodyBytes = 200 })
	big := `{"room":"lobby","data":"` + strings.Repeat("x", 200) + `"}`
	for _, tc := range []struct {
		name, method, path, body string
		code                     int
	}{
		{"GET publish", "GET", "/api/publish", "", 405},
		{"PUT send", "PUT", "/api/send", `{}`, 405},
		{"POST online", "POST", "/api/online", "", 405},
		{"DELETE room", "DELETE", "/api/rooms/lobby", "", 405},
		{"unknown path", "GET", "/api/nope", "", 404},
		{"root", "GET", "/", "", 404},
		{"unclean path", "GET", "/api/x/../online", "", 404},
		{"trailing slash", "GET", "/api/online/", "", 404},
		{"too large", "POST", "/api/publish", big, 413},
		{"bad JSON", "POST", "/api/publish", `{"room":`, 400},
		{"invalid UTF-8 in data", "POST", "/api/publish", "{\"room\":\"lobby\",\"data\":\"bad \xff\xfe\"}", 400},
		{"invalid UTF-8 in send", "POST", "/api/send", "{\"receiver\":\"b\",\"data\":\"\xc0\xaf\"}", 400},
		{"not an object", "POST", "/api/publish", `[1]`, 400},
		{"empty body", "POST", "/api/publish", ``, 400},
		{"two values", "POST", "/api/publish", `{"room":"a","data":1} {}`, 400},
		{"unknown field", "POST", "/api/publish", `{"room":"a","data":1,"sender":"x"}`, 400},
		{"no room", "POST", "/api/publish", `{"data":1}`, 400},
		{"no data", "POST", "/api/publish", `{"room":"a"}`, 400},
		{"null data", "POST", "/api/send", `{"receiver":"b","data":null}`, 400},
		{"no receiver", "POST", "/api/send", `{"data":1}`, 400},
		{"bad receiver", "POST", "/api/send", `{"receiver":"bad name","data":1}`, 400},
		{"unknown receiver", "POST", "/api/send", `{"receiver":"ghost","data":1}`, 404},
		{"mailbox full", "POST", "/api/send", `{"receiver":"full","data":1}`, 507},
		{"busy", "POST", "/api/send", `{"receiver":"busy","data":1}`, 503},
		{"not kept", "POST", "/api/send", `{"receiver":"anon","data":1}`, 409},
		{"timeout", "POST", "/api/send", `{"receiver":"slow","data":1}`, 504},
		{"other error", "POST", "/api/send", `{"receiver":"x","data":1}`, 500},
		{"no user", "POST", "/api/disconnect", `{}`, 400},
		{"long reason", "POST", "/api/disconnect", `{"user":"a","reason":"` + strings.Repeat("r", 124) + `"}`, 400},
		{"unknown room", "GET", "/api/rooms/nowhere", "", 404},
		{"bad limit", "GET", "/api/online?limit=x", "", 400},
		{"zero limit", "GET", "/api/rooms?limit=0", "", 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, m := do(t, tc.method, base+tc.path, bearer, tc.body)
			if code != tc.code || m["error"] == nil || m["error"] == "" {
				t.Fatalf("%d %v, want %d with an error", code, m, tc.code)
			}
		})
	}
}

// TestAPIContentType: a body declared as something other than JSON is 415;
// no Content-Type is accepted.
func TestAPIContentType(t *testing.T) {
	base := startAPI(t, okChat(), nil)
	req, _ := http.NewRequest("POST", base+"/api/publish", strings.NewReader(`{"room":"a","data":1}`))
	req.Header.Set("Authorization", bearer)
	req.Header.Set("Content-Type", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Fatalf("text/plain: %d, want 415", resp.StatusCode)
	}
	// Media types are case-insensitive and take parameters; a longer
	// type that starts with application/json is another type.
	for ct, want := range map[string]int{
		"Application/JSON":                 200,
		"application/json; charset=utf-8":  200,
		"application/jsonpatch":            415,
		"application/json-seq":             415,
		"application/json; charset=utf-8;": 200,
	} {
		req, _ := http.NewRequest("POST", base+"/api/publish", strings.NewReader(`{"room":"a","data":1}`))
		req.Header.Set("Authorization", bearer)
		req.Header.Set("Content-Type", ct)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%q: %d, want %d", ct, resp.StatusCode, want)
		}
	}
	http.DefaultClient.CloseIdleConnections()
}

// TestAPIRawEdges: "OPTIONS *" is the handler's (401 in JSON), a 401 closes
// the connection, and a declared body over the limit is refused at once,
// before any of it is read.
func TestAPIRawEdges(t *testing.T) {
	base := startAPI(t, okChat(), func(c *api.Config) { c.MaxBodyBytes = 200 })
	addr := strings.TrimPrefix(base, "http://")
	raw := func(req string) string {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.WriteString(c, req); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("%q: %v", req, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return fmt.Sprintf("%d %v %s", resp.StatusCode, resp.Close, b)
	}
	if got := raw("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n"); !strings.HasPrefix(got, "401 true {") {
		t.Errorf("OPTIONS *: %s", got)
	}
	if got := raw("GET /api/online HTTP/1.1\r\nHost: x\r\n\r\n"); !strings.HasPrefix(got, "401 true {") {
		t.Errorf("no key: %s", got)
	}
	// Answered before the 5 s deadline of raw, not after the 30 s read
	// timeout waiting for a body that never comes.
	got := raw("POST /api/publish HTTP/1.1\r\nHost: x\r\nAuthorization: " + bearer + "\r\nContent-Length: 100000000\r\n\r\n{")
	if !strings.HasPrefix(got, "413 ") {
		t.Errorf("declared 100 MB: %s", got)
	}
}

// TestAPIConfig: the defaults validate and leave the API off; bad values
// are refused; LoadKey reads and checks the key file.
func TestAPIConfig(t *testing.T) {
	d := api.Default()
	if err := d.Validate(); err != nil || d.Enabled() {
		t.Fatalf("defaults: %v, enabled %v", err, d.Enabled())
	}
	for _, tc := range []struct {
		name   string
		mutate func(*api.Config)
	}{
		{"short key", func(c *api.Config) { c.Key = "short" }},
		{"spaced key", func(c *api.Config) { c.Key = " 0123456789abcdef " }},
		{"bad listen", func(c *api.Config) { c.Listen = "nowhere" }},
		{"bad sender", func(c *api.Config) { c.Sender = "a b" }},
		{"empty sender", func(c *api.Config) { c.Sender = "" }},
		{"non-canonical sender", func(c *api.Config) { c.Sender = "ａｌｉｃｅ" }},
		{"tiny body", func(c *api.Config) { c.MaxBodyBytes = 10 }},
		{"no page", func(c *api.Config) { c.PageLimit = 0 }},
		{"no slots", func(c *api.Config) { c.MaxInFlight = 0 }},
		{"no timeout", func(c *api.Config) { c.SendTimeout = 0 }},
		{"no shutdown", func(c *api.Config) { c.ShutdownTimeout = 0 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := api.Default()
			tc.mutate(&c)
			if c.Validate() == nil {
				t.Fatal("accepted")
			}
		})
	}
	dir := t.TempDir()
	file := dir + "/key"
	c := api.Default()
	c.KeyFile = file
	if _, err := c.LoadKey(); err == nil {
		t.Fatal("missing file accepted")
	}
	writeFile(t, file, "short\n")
	if _, err := c.LoadKey(); err == nil {
		t.Fatal("short key accepted")
	}
	writeFile(t, file, "  "+testKey+"\n")
	if k, err := c.LoadKey(); err != nil || k != testKey {
		t.Fatalf("LoadKey = %q, %v", k, err)
	}
	c.Key = testKey
	if _, err := c.LoadKey(); err == nil {
		t.Fatal("key and key_file both accepted")
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestAPIMaxInFlight: with api.max_in_flight requests being handled, one
// more gets 503 with Retry-After; once they finish, requests pass again.
func TestAPIMaxInFlight(t *testing.T) {
	chat := okChat()
	entered, release := make(chan struct{}), make(chan struct{})
	chat.send = func(ctx context.Context, _, _ string, _ json.RawMessage) (api.Sent, error) {
		entered <- struct{}{}
		<-release
		return api.Sent{ID: 1, Status: "stored"}, nil
	}
	base := startAPI(t, chat, func(c *api.Config) { c.MaxInFlight = 2 })
	done := make(chan int, 2)
	for i := 0; i < 2; i++ {
		go func() {
			req, _ := http.NewRequest("POST", base+"/api/send", strings.NewReader(`{"receiver":"bob","data":1}`))
			req.Header.Set("Authorization", bearer)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				done <- 0
				return
			}
			resp.Body.Close()
			done <- resp.StatusCode
		}()
		<-entered
	}
	req, _ := http.NewRequest("GET", base+"/api/online", nil)
	req.Header.Set("Authorization", bearer)
	client := &http.Client{Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" {
		t.Fatalf("third request: %d, Retry-After %q; want 503, 1", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	close(release)
	for i := 0; i < 2; i++ {
		if code := <-done; code != http.StatusOK {
			t.Fatalf("held send: %d", code)
		}
	}
	http.DefaultClient.CloseIdleConnections()
	if code, _ := do(t, "GET", base+"/api/online", bearer, ""); code != http.StatusOK {
		t.Fatalf("after: %d", code)
	}
}

// TestAPIMaxConnections: past api.max_connections a new connection is not
// served until one closes (it waits in the backlog); then it is.
func TestAPIMaxConnections(t *testing.T) {
	base := startAPI(t, okChat(), func(c *api.Config) { c.MaxConnections = 2 })
	addr := strings.TrimPrefix(base, "http://")
	dial := func() net.Conn {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	held := []net.Conn{dial(), dial()} // silent: each holds a slot
	third := dial()
	if _, err := io.WriteString(third, "GET /api/online HTTP/1.1\r\nHost: x\r\nAuthorization: "+bearer+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	_ = third.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, err := third.Read(make([]byte, 1)); n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the third connection was served while two held the slots: %d %v", n, err)
	}
	held[0].Close()
	_ = third.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(third), nil)
	if err != nil {
		t.Fatalf("after a slot was freed: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
}

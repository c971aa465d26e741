package httpauth_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatd/chatd/auth"
	"github.com/chatd/chatd/auth/authtest"
	"github.com/chatd/chatd/auth/httpauth"
)

var testUsers = map[string]string{"alice": "secret", "bob": "b:o:b", "Łukasz": "hasło", "José": "contraseña"}

func TestConformance(t *testing.T) {
	authtest.Run(t, authtest.Harness{
		New: func(t *testing.T) auth.Authenticator {
			return newAuth(t, serve(t, &service{users: testUsers}).URL, 5*time.Second)
		},
		Users: []string{"alice", "bob", "Łukasz", "José"},
		Valid: func(_ *testing.T, name string) auth.Credentials {
			return auth.Credentials{Name: name, Password: testUsers[name]}
		},
		Text: func(_ *testing.T, name string) string { return name + ":" + testUsers[name] },
		BadLogins: func(*testing.T) []authtest.BadLogin {
			return []authtest.BadLogin{
				{Name: "wrong password", Credentials: auth.Credentials{Name: "alice", Password: "nope"}, Reason: "wrong password"},
				{Name: "another user's password", Credentials: auth.Credentials{Name: "alice", Password: "b:o:b"}, Reason: "wrong password"},
			}
		},
		Unknown: "mallory",
		Block: func(t *testing.T) (auth.Authenticator, auth.Credentials) {
			srv := serve(t, http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { stall(r) }))
			return newAuth(t, srv.URL, 20*time.Second), auth.Credentials{Name: "alice", Password: "secret"}
		},
	})
}

func TestRequestBody(t *testing.T) {
	svc := &service{users: testUsers}
	a := newAuth(t, serve(t, svc).URL, 5*time.Second)
	cases := []struct {
		name string
		c    auth.Credentials
		want map[string]any
	}{
		{"JSON login", auth.Credentials{Name: "alice", Password: "secret"}, map[string]any{"name": "alice", "password": "secret"}},
		{"token login", auth.Credentials{Token: "token-for-bob"}, map[string]any{"token": "token-for-bob"}},
		{"plain name:password", a.ParseText("bob:b:o:b"), map[string]any{"name": "bob", "password": "b:o:b", "text": "bob:b:o:b"}},
		{"plain name", a.ParseText("carol"), map[string]any{"name": "carol", "text": "carol"}},
		{"plain untrimmed", a.ParseText(" x: y\n"), map[string]any{"name": " x", "password": " y\n", "text": " x: y\n"}},
		{"plain leading colon", a.ParseText(":pw"), map[string]any{"password": "pw", "text": ":pw"}},
		{"empty", auth.Credentials{}, map[string]any{}},
	}
	for i, c := range cases {
		_, _ = a.Authenticate(context.Background(), c.c)
		got := svc.requests()[i]
		if got.method != http.MethodPost || got.contentType != "application/json" {
			t.Errorf("%s: %s with Content-Type %q; want POST, application/json", c.name, got.method, got.contentType)
		}
		if !reflect.DeepEqual(got.body, c.want) {
			t.Errorf("%s: body %v; want %v", c.name, got.body, c.want)
		}
	}
}

func TestAnswers(t *testing.T) {
	long := strings.Repeat("é", 100) // 200 bytes
	cases := []struct {
		name   string
		status int
		body   string
		want   auth.Identity
		reason string // a rejection with this reason
		failed string // a backend error containing this
	}{
		{name: "ok", status: 200, body: `{"name":"alice"}`, want: auth.Identity{Name: "alice"}},
		{name: "canonical name", status: 200, body: `{"name":"Alice","uid":7}`, want: auth.Identity{Name: "Alice"}},
		{name: "max sessions", status: 200, body: `{"name":"alice","max_sessions":3}`, want: auth.Identity{Name: "alice", MaxSessions: 3}},
		{name: "negative max sessions", status: 200, body: `{"name":"alice","max_sessions":-1}`, failed: `"max_sessions" -1`},
		{name: "invalid name", status: 200, body: `{"name":"a b"}`, failed: `name "a b": name contains whitespace`},
		{name: "name in NFD", status: 200, body: `{"name":"Jose\u0301"}`, want: auth.Identity{Name: "José"}},
		{name: "full-width name", status: 200, body: `{"name":"ａｌｉｃｅ"}`, want: auth.Identity{Name: "alice"}},
		{name: "zero width space in name", status: 200, body: `{"name":"ali\u200bce"}`,
			failed: `name "ali\u200bce": name contains invisible or disallowed characters`},
		{name: "right-to-left override in name", status: 200, body: `{"name":"\u202eecila"}`, failed: "invisible or disallowed"},
		{name: "empty name", status: 200, body: `{"name":""}`, failed: "name is empty"},
		{name: "no name", status: 200, body: `{"ok":true}`, failed: `200 answer without "name"`},
		{name: "not JSON", status: 200, body: `welcome`, failed: `want JSON {"name": ...}`},
		{name: "name not a string", status: 200, body: `{"name":42}`, failed: "want JSON"},
		{name: "huge 200", status: 200, body: `{"name":"alice","pad":"` + strings.Repeat("p", httpauth.MaxResponseBytes) + `"}`,
			failed: "200 answer longer than 65536 bytes"},

		{name: "error reason", status: 403, body: `{"error":"account locked"}`, reason: "account locked"},
		{name: "reason field", status: 401, body: `{"reason":"wrong password"}`, reason: "wrong password"},
		{name: "error wins", status: 401, body: `{"error":"e","reason":"r"}`, reason: "e"},
		{name: "empty error", status: 400, body: `{"error":"  "}`, reason: httpauth.ReasonRefused},
		{name: "plain text body", status: 401, body: "go away", reason: httpauth.ReasonRefused},
		{name: "no body", status: 404, body: "", reason: httpauth.ReasonRefused},
		{name: "too many requests", status: 429, body: `{"error":"slow down"}`, reason: "slow down"},
		{name: "multi-line reason", status: 401, body: `{"error":"line one\r\n\tline\u2028two\u0000!"}`, reason: "line one line two !"},
		{name: "invalid UTF-8 reason", status: 401, body: "{\"error\":\"bad \xff byte\"}", reason: "bad \uFFFD byte"},
		{name: "long reason", status: 401, body: `{"error":"` + long + `"}`, reason: long[:122]},
		{name: "huge 4xx", status: 401, body: `{"error":"x","pad":"` + strings.Repeat("p", 1<<20) + `"}`, reason: httpauth.ReasonRefused},

		{name: "500", status: 500, body: "oops", failed: "auth service answered 500 Internal Server Error"},
		{name: "503 with error", status: 503, body: `{"error":"maintenance"}`, failed: "503 Service Unavailable: maintenance"},
		{name: "204", status: 204, body: "", failed: "answered 204 No Content"},
		{name: "201", status: 201, body: `{"name":"alice"}`, failed: "answered 201 Created"},
		{name: "redirect not followed", status: 302, body: "", failed: "answered 302 Found"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var hits atomic.Int32
			srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				if c.status == 302 {
					w.Header().Set("Location", "/elsewhere")
				}
				w.WriteHeader(c.status)
				_, _ = w.Write([]byte(c.body))
			}))
			a := newAuth(t, srv.URL, 5*time.Second)
			id, err := a.Authenticate(context.Background(), auth.Credentials{Name: "alice", Password: "secret"})
			reason, rejected := auth.IsRejection(err)
			switch {
			case c.reason != "":
				if !rejected || reason != c.reason {
					t.Errorf("Authenticate = %+v, %v; want rejection %q", id, err, c.reason)
				}
				if msg := authtest.CheckReason(reason); msg != "" {
					t.Errorf("reason %q: %s", reason, msg)
				}
			case c.failed != "":
				if err == nil || rejected || !strings.Contains(err.Error(), c.failed) {
					t.Errorf("Authenticate = %+v, %v; want a backend error containing %q", id, err, c.failed)
				}
			default:
				if err != nil || id != c.want {
					t.Errorf("Authenticate = %+v, %v; want %+v", id, err, c.want)
				}
			}
			if n := hits.Load(); n != 1 {
				t.Errorf("service got %d requests; want 1", n)
			}
		})
	}
}

func TestTimeout(t *testing.T) {
	cases := map[string]http.HandlerFunc{
		"no answer": func(_ http.ResponseWriter, r *http.Request) { stall(r) },
		"200 body stalls": func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte(`{"name":`))
			w.(http.Flusher).Flush()
			stall(r)
		},
		"401 body stalls": func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":`))
			w.(http.Flusher).Flush()
			stall(r)
		},
	}
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			a := newAuth(t, serve(t, h).URL, 200*time.Millisecond)
			start := time.Now()
			_, err := a.Authenticate(context.Background(), auth.Credentials{Name: "alice", Password: "secret"})
			took := time.Since(start)
			if _, rejected := auth.IsRejection(err); err == nil || rejected {
				t.Fatalf("Authenticate = %v; want a backend error", err)
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Authenticate = %v; want it to wrap context.DeadlineExceeded", err)
			}
			if took < 150*time.Millisecond || took > 3*time.Second {
				t.Errorf("Authenticate took %v; want about the 200ms timeout", took)
			}
		})
	}
}

func TestUnreachable(t *testing.T) {
	srv := serve(t, http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	a := newAuth(t, url+"/login", time.Second)
	_, err := a.Authenticate(context.Background(), auth.Credentials{Name: "alice"})
	if _, rejected := auth.IsRejection(err); err == nil || rejected || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("Authenticate = %v; want a backend error: connection refused", err)
	}
}

func TestURLPasswordNotInErrors(t *testing.T) {
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { stall(r) }))
	a := newAuth(t, strings.Replace(srv.URL, "http://", "http://chatd:hunter2@", 1), 50*time.Millisecond)
	_, err := a.Authenticate(context.Background(), auth.Credentials{Name: "alice"})
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("Authenticate = %v; want an error without the URL's password", err)
	}
}

func TestConnectionsReused(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(&service{users: testUsers})
	srv.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	a := newAuth(t, srv.URL, 5*time.Second)
	for range 5 {
		if _, err := a.Authenticate(context.Background(), auth.Credentials{Name: "alice", Password: "secret"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(context.Background(), auth.Credentials{Name: "alice", Password: "secret"}); err != nil {
		t.Errorf("after Close: %v", err)
	}
	srv.Close()
	if n := conns.Load(); n != 2 {
		t.Errorf("opened %d connections for 5 logins, Close and another login; want 2", n)
	}
}

func Example() {
	// A stand-in for the site's account service.
	svc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var c struct{ Name, Password string }
		_ = json.NewDecoder(r.Body).Decode(&c)
		if c.Password != "secret" {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error": "wrong password"}`)
			return
		}
		fmt.Fprintf(w, `{"name": %q}`, strings.ToLower(c.Name))
	}))
	defer svc.Close()

	cfg := httpauth.Default()
	cfg.URL = svc.URL + "/chat/login"
	a, err := httpauth.New(cfg)
	if err != nil {
		panic(err)
	}
	defer a.Close()

	for _, text := range []string{"Alice:secret", "alice:guess"} {
		id, err := a.Authenticate(context.Background(), a.ParseText(text))
		if reason, rejected := auth.IsRejection(err); rejected {
			fmt.Printf("%s: %s\n", text, reason)
			continue
		}
		fmt.Printf("%s: welcome %s\n", text, id.Name)
	}
	// Output:
	// Alice:secret: welcome alice
	// alice:guess: wrong password
}

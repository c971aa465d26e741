package httpauth_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/auth/httpauth"
)

// service is a fake auth service. Users log in with their password, or with
// the token "token-for-NAME". It records the requests it got. Safe for
// concurrent use.
type service struct {
	users map[string]string // name → password; read-only

	mu   sync.Mutex // guards seen
	seen []seenRequest
}

// seenRequest is what the service got.
type seenRequest struct {
	method, contentType string
	body                map[string]any
}

func (s *service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	err := json.NewDecoder(r.Body).Decode(&body)
	s.mu.Lock()
	s.seen = append(s.seen, seenRequest{r.Method, r.Header.Get("Content-Type"), body})
	s.mu.Unlock()
	if err != nil || r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad request"})
		return
	}
	str := func(k string) string { v, _ := body[k].(string); return v }
	if name, ok := strings.CutPrefix(str("token"), "token-for-"); ok {
		writeJSON(w, http.StatusOK, map[string]string{"name": name})
		return
	}
	password, ok := s.users[str("name")]
	switch {
	case !ok:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "name is not exist"})
	case password != str("password"):
		writeJSON(w, http.StatusUnauthorized, map[string]string{"reason": "wrong password"})
	default:
		writeJSON(w, http.StatusOK, map[string]any{"name": str("name")})
	}
}

func (s *service) requests() []seenRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]seenRequest(nil), s.seen...)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// serve starts h on a loopback port for the test's duration.
func serve(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// newAuth returns an Authenticator for url, closed when the test ends.
func newAuth(t *testing.T, url string, timeout time.Duration) *httpauth.Authenticator {
	t.Helper()
	a, err := httpauth.New(httpauth.Config{URL: url, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	return a
}

// stall blocks until the client goes away, or a long time at most, so the
// server can always shut down. It reads the request body first: the server
// only notices a closed connection (and cancels r.Context()) after that.
func stall(r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	select {
	case <-r.Context().Done():
	case <-time.After(30 * time.Second):
	}
}

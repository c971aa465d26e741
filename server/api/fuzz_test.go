package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/chatd/chatd/server/api"
)

// FuzzRequest feeds arbitrary methods, paths and bodies to the handler:
// every answer is JSON with a status the API documents, and an error
// answer carries a message.
func FuzzRequest(f *testing.F) {
	for _, s := range []struct{ method, path, body string }{
		{"POST", "/api/publish", `{"room":"lobby","data":{"a":[1,2]}}`},
		{"POST", "/api/send", `{"receiver":"bob","data":"hi"}`},
		{"POST", "/api/disconnect", `{"user":"bob","reason":"bye"}`},
		{"GET", "/api/online?after=a&limit=2", ""},
		{"GET", "/api/rooms/lobby?limit=0", ""},
		{"POST", "/api/publish", `{"room":"a","data":1} {}`},
		{"POST", "/api/send", `{"receiver":"b","data":null,"x":1}`},
		{"PUT", "/api/rooms", "\x00"},
	} {
		f.Add(s.method, s.path, s.body)
	}
	cfg := api.Default()
	cfg.MaxBodyBytes = 256
	h := api.NewHandler(cfg, testKey, okChat())
	allowed := map[int]bool{200: true, 400: true, 404: true, 405: true, 413: true}
	f.Fuzz(func(t *testing.T, method, path, body string) {
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \r\n\t#") || !validMethod(method) {
			return
		}
		if _, err := url.ParseRequestURI("http://api" + path); err != nil {
			return // not a request a client can send
		}
		req := httptest.NewRequest(method, "http://api"+path, strings.NewReader(body))
		req.Header.Set("Authorization", bearer)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if !allowed[w.Code] {
			t.Fatalf("%s %s %q: status %d", method, path, body, w.Code)
		}
		var m map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
			t.Fatalf("%s %s %q: answer not JSON: %q", method, path, body, w.Body.Bytes())
		}
		if w.Code != http.StatusOK && m["error"] == "" {
			t.Fatalf("%s %s %q: %d without an error message", method, path, body, w.Code)
		}
	})
}

func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for _, c := range m {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

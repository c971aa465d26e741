package main

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/server/wstest"
)

// TestAPIEndToEnd runs chatd with api.key_file set: the API answers on its
// own address, a send reaches a user, a publish reaches the lobby, the
// sender's name cannot log in, a disconnect closes with 4010, and a signal
// stops the API with the rest.
func TestAPIEndToEnd(t *testing.T) {
	const key = "e2e-api-key-0123456789"
	keyFile := writeFile(t, "api.key", key+"\n")
	cfg := strings.Replace(testConfig, "    dir:", "    anonymous: true\n    dir:", 1)
	cfg = strings.Replace(cfg, "log:\n", `api:
  listen: "127.0.0.1:0"
  key_file: "`+keyFile+`"
  sender: "ops"
log:
`, 1)
	r := startRun(t, cfg)
	addr := r.logs.listenAddr(t)
	apiAddr, _ := r.logs.waitFor(t, "api listening", 10*time.Second)["addr"].(string)
	if apiAddr == "" {
		t.Fatal("no api address logged")
	}
	client := &http.Client{Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	call := func(method, path, auth, body string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, "http://"+apiAddr+path, strings.NewReader(body))
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		return resp.StatusCode, m
	}
	if code, _ := call("GET", "/api/online", "Bearer wrong-key-0123456789", ""); code != 401 {
		t.Fatalf("wrong key: %d", code)
	}
	bob := dialChat(t, addr)
	bob.login("bob", false)
	code, m := call("POST", "/api/send", "Bearer "+key, `{"receiver":"bob","data":"hi from ops"}`)
	if code != 200 || m["status"] != "delivered" {
		t.Fatalf("send: %d %v", code, m)
	}
	for m := bob.recv(); m["data"] != "hi from ops" || m["sender"] != "ops"; m = bob.recv() {
	}
	code, m = call("POST", "/api/publish", "Bearer "+key, `{"room":"lobby","data":"all hands"}`)
	if code != 200 || m["seq"] == nil {
		t.Fatalf("publish: %d %v", code, m)
	}
	for m := bob.recv(); m["data"] != "all hands" || m["room"] != "lobby" || m["sender"] != "ops"; m = bob.recv() {
	}
	code, m = call("POST", "/api/send", "Bearer "+key, `{"receiver":"carol","data":"later"}`)
	if code != 200 || m["status"] != "stored" {
		t.Fatalf("send to offline carol: %d %v", code, m)
	}
	impostor := dialChat(t, addr)
	impostor.send(map[string]any{"type": "login", "name": "ops"})
	if m := impostor.recv(); m["type"] != "login_error" || m["error"] != "name is reserved" {
		t.Fatalf("login as the API's sender: %v", m)
	}
	code, m = call("POST", "/api/disconnect", "Bearer "+key, `{"user":"bob"}`)
	if code != 200 || m["sessions"] != float64(1) {
		t.Fatalf("disconnect: %d %v", code, m)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := bob.conn.ReadText(time.Until(deadline))
		var ce *wstest.CloseError
		if err != nil {
			if !errors.As(err, &ce) || ce.Code != 4010 {
				t.Fatalf("bob: %v, want a close with 4010", err)
			}
			break
		}
	}
	r.signals <- os.Interrupt
	if s := r.wait(t, 30*time.Second); s != 0 {
		t.Fatalf("exit status %d", s)
	}
	if c, err := net.DialTimeout("tcp", apiAddr, time.Second); err == nil {
		c.Close()
		t.Fatal("the API still listens after chatd stopped")
	}
	r.logs.noErrors(t)
}

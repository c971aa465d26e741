package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/auth"
	"github.com/chatd/chatd/server/wstest"
)

// TestLoginThrottleShared: /ws and a bridged program with login: true
// count failed logins in one throttle: past chat.login.account_failures
// for a name, spread over both, each refuses it without asking the
// backend.
func TestLoginThrottleShared(t *testing.T) {
	cfg := strings.Replace(testConfig, "chat:\n", `chat:
  login:
    account_failures: 2
    account_window: "1h"
`, 1)
	cfg = strings.Replace(cfg, "log:\n", `auth:
  backend: static
  static:
    users: [alice]
bridge:
  programs:
    - path: /who
      command: ["/bin/cat"]
      login: true
  stdin_grace: "50ms"
  kill_grace: "500ms"
log:
`, 1)
	r := startRun(t, cfg)
	addr := r.logs.listenAddr(t)

	// try logs in as name on a fresh connection to path and returns the
	// answer.
	try := func(path, name string) string {
		t.Helper()
		conn := wstest.Dial(t, "ws://"+addr+path, wstest.WithTimeout(10*time.Second))
		defer conn.Close()
		deadline := time.Now().Add(10 * time.Second)
		conn.SendText(t, name)
		p, err := conn.ReadText(time.Until(deadline))
		if err != nil {
			t.Fatalf("%s: read: %v", path, err)
		}
		return p
	}
	const account = "too many failed logins for this name, try again later"
	for _, step := range []struct{ path, name, want string }{
		{"/ws", "mallory", auth.ReasonUnknownName},
		{"/who", "mallory", auth.ReasonUnknownName},
		{"/who", "mallory", account},
		{"/ws", "mallory", account},
		{"/who", "alice", "True"},
		{"/ws", "alice", "True"},
	} {
		if got := try(step.path, step.name); got != step.want {
			t.Fatalf("%s as %s: %q, want %q", step.path, step.name, got, step.want)
		}
	}
}

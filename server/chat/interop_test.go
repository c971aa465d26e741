package chat_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/auth/static"
	"github.com/chatd/chatd/server/internal/testtool"
)

// TestInteropTutorialLogin runs tutorial 004's login client (Python
// websockets) against the static backend listing hlq.
func TestInteropTutorialLogin(t *testing.T) {
	testtool.RequirePythonModule(t, "websockets", "python3-websockets")
	authn, err := static.New(static.Config{Users: []string{"hlq"}})
	if err != nil {
		t.Fatal(err)
	}
	e := start(t, options{authn: authn})
	out := testtool.RunPython(t, 60*time.Second, filepath.Join("testdata", "interop", "login_websockets.py"), e.ts.URL("/ws"))
	if out != "name is not exist\nPASS\n" {
		t.Fatalf("output:\n%s", out)
	}
}

// TestInteropTutorialChat runs tutorial 002's group and private chat with
// three websocket-client users.
func TestInteropTutorialChat(t *testing.T) {
	testtool.RequirePythonModule(t, "websocket", "python3-websocket")
	e := start(t, options{})
	out := testtool.RunPython(t, 60*time.Second, filepath.Join("testdata", "interop", "group_private.py"), e.ts.URL("/ws"))
	if got := testtool.CountLines(out, "ok: "); got != 5 || !strings.HasSuffix(out, "PASS\n") {
		t.Fatalf("output:\n%s", out)
	}
}

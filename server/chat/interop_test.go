package chat_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/auth/static"
	"github.com/chatd/chatd/server"
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

// TestInteropDeflate: python3-websockets users chat with permessage-deflate
// as websockets offers it by default, with a 512-byte server window, and
// without offering it. The server's counts show the messages did travel
// compressed both ways, or not at all.
func TestInteropDeflate(t *testing.T) {
	testtool.RequirePythonModule(t, "websockets", "python3-websockets")
	for _, mode := range []string{"deflate", "deflate9", "plain"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			e := start(t, options{server: func(c *server.Config) { c.Compression.Enabled = true }})
			out := testtool.RunPython(t, 60*time.Second, filepath.Join("testdata", "interop", "deflate_websockets.py"), e.ts.URL("/ws"), mode)
			if got := testtool.CountLines(out, "ok: "); got != 3 || !strings.HasSuffix(out, "PASS\n") {
				t.Fatalf("output:\n%s", out)
			}
			st := e.ts.Srv.CompressionStats()
			if mode == "plain" {
				if st.Compressed != 0 || st.Inflated != 0 {
					t.Fatalf("stats %+v for clients that did not offer compression", st)
				}
				return
			}
			// 20 messages, every one above min_size: each inflated on the
			// way in and compressed on the way out.
			if st.Inflated < 20 || st.Compressed < 20 || st.CompressedBytes*2 > st.PlainBytes {
				t.Fatalf("stats %+v after 20 compressed messages each way", st)
			}
			t.Logf("%+v", st)
		})
	}
}

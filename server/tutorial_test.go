package server_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/server/internal/testserver"
	"github.com/chatd/chatd/server/internal/testtool"
)

// TestTutorial000Client runs tutorial 000's interactive client, as written
// (testdata/interop/tutorial000_client.py says what differs: the URL and
// on_close's arguments), against /echo. Its input() reads lines from a pipe,
// as if typed: each is sent, echoed and printed, one per second (the
// tutorial's time.sleep(1)), and `close` is sent, echoed, then closes the
// connection with 1000. The program must print every echo, in order, and
// exit 0, and chatd must log the client's close 1000.
//
// Whether on_close runs ("关闭连接...") is up to websocket-client, not chatd,
// so it is logged, not required. The tutorial calls ws.close() from its input
// thread while run_forever's thread waits in select on the same socket; in
// websocket-client 1.2.3 (Debian 12) the input thread can read the server's
// close frame, shut down and close the socket before the waiting thread
// looks, and then run_forever returns after its 10 s select timeout without
// calling on_close. That happens against any server: against the Python
// websockets echo server it missed on_close in 8 of 12 runs, against chatd
// in about 1 of 4. long_lived.py (TestInteropWebsocketClient) avoids the race
// and requires on_close with chatd's code.
func TestTutorial000Client(t *testing.T) {
	testtool.RequirePythonModule(t, "websocket", "python3-websocket")
	t.Parallel()
	ts := testserver.Start(t, nil)
	lines := []string{
		"Hello, Server",
		"你好，服务器! héllo wörld, привет, 👋🏽",
		"close",
	}
	script := filepath.Join("testdata", "interop", "tutorial000_client.py")
	stdout, stderr := testtool.RunPythonInput(t, 30*time.Second, strings.Join(lines, "\n")+"\n", script, ts.URL("/echo"))
	if stderr != "" {
		t.Errorf("%s wrote to stderr:\n%s", filepath.Base(script), stderr)
	}

	// input("请输入内容") writes its prompt, with no newline, to stdout, where
	// it may land in the middle of another thread's print: drop it.
	out := strings.ReplaceAll(stdout, "请输入内容", "")
	want := []string{"建立连接..."}
	for _, l := range lines {
		want = append(want, "接收到的消息:"+l)
	}
	got := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(got) == len(want)+1 && got[len(want)] == "关闭连接..." {
		got = got[:len(want)]
	} else {
		t.Logf("on_close did not run (websocket-client's close race, see above)")
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("the client printed (prompts removed):\n%s\nwant:\n%s\n[关闭连接...]\nraw stdout:\n%s",
			out, strings.Join(want, "\n"), stdout)
	}
	// The client's ws.close() sends 1000; chatd answers it and logs it.
	codes := waitCloseCodes(t, ts, 1, 10*time.Second)
	if len(codes) != 1 || codes[0] != 1000 {
		t.Errorf("chatd logged close codes %v, want [1000] (normal closure by the client)", codes)
	}
}

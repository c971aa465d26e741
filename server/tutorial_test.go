package server_test

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
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
	stdout := runPythonStdin(t, 30*time.Second, strings.Join(lines, "\n")+"\n",
		filepath.Join("testdata", "interop", "tutorial000_client.py"), ts.URL("/echo"))

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

// runPythonStdin is testtool.RunPython with stdin: it runs /usr/bin/python3
// -I -u script args... with input on its stdin (a pipe, not a terminal, so
// input() reads lines without echoing them) and returns its stdout. It fails
// the test when the script exits non-zero or runs out of time.
func runPythonStdin(t *testing.T, timeout time.Duration, input, script string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, testtool.Python3, append([]string{"-I", "-u", script}, args...)...)
	cmd.WaitDelay = 5 * time.Second
	cmd.Stdin = strings.NewReader(input)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("killed after %v: %w", timeout, ctx.Err())
	}
	if err != nil {
		t.Fatalf("%s %s: %v (after %v)\n--- stdout:\n%s--- stderr:\n%s",
			filepath.Base(script), strings.Join(args, " "), err, time.Since(start).Round(time.Millisecond),
			stdout.String(), stderr.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("%s wrote to stderr:\n%s", filepath.Base(script), stderr.String())
	}
	return stdout.String()
}

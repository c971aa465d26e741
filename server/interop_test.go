package server_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/server/internal/testserver"
	"github.com/chatd/chatd/server/internal/testtool"
)

// Interop tests run real third-party clients against a real chatd: the
// programs of the tutorials chatd replaces (seeds 000, 001, 004), with the URL
// as their argument. The clients come from Debian and run under
// /usr/bin/python3, which sees Debian's packages whatever python3 comes first
// on PATH. `make test` installs them (.ci/deps).

// TestInteropWebsocketClient runs websocket-client (python3-websocket) the way
// the tutorials use it: a short-lived create_connection session and a
// long-lived WebSocketApp with callbacks. Each script checks every echo
// itself, prints "ok: ..." per check and "PASS" last, and exits non-zero on
// any failure.
func TestInteropWebsocketClient(t *testing.T) {
	testtool.RequirePythonModule(t, "websocket", "python3-websocket")
	cases := []struct {
		name   string
		script string
		wantOK int // "ok:" lines the script prints when every check passes
	}{
		// Tutorial "Hello, Server", UTF-8 text, two binaries, empty text.
		{name: "short-lived", script: "short_lived.py", wantOK: 5},
		// "Hello 0..2", UTF-8 text, binary; then on_close ran.
		{name: "long-lived", script: "long_lived.py", wantOK: 6},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ts := testserver.Start(t, nil)
			stdout := testtool.RunPython(t, 60*time.Second, filepath.Join("testdata", "interop", tc.script), ts.URL("/echo"))
			if got := testtool.CountLines(stdout, "ok: "); got != tc.wantOK {
				t.Errorf("%s printed %d \"ok:\" lines, want %d; stdout:\n%s", tc.script, got, tc.wantOK, stdout)
			}
			if !strings.HasSuffix(stdout, "PASS\n") {
				t.Errorf("%s did not print PASS last; stdout:\n%s", tc.script, stdout)
			}
			// The client closed with 1000; chatd echoes it and logs it.
			codes := waitCloseCodes(t, ts, 1, 10*time.Second)
			if codes[0] != 1000 {
				t.Errorf("chatd logged close code %d, want 1000 (normal closure by the client)", codes[0])
			}
		})
	}
}

// waitCloseCodes polls until the server has logged n closed connections, and
// returns their close codes. It fails the test at the deadline.
func waitCloseCodes(t *testing.T, ts *testserver.Server, n int, timeout time.Duration) []int {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		codes := ts.CloseCodes()
		if len(codes) >= n {
			return codes
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v chatd logged %d closed connections %v, want %d", timeout, len(codes), codes, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

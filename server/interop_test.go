package server_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/server/internal/testserver"
)

// Interop tests run real third-party clients against a real chatd: the
// programs of the tutorials chatd replaces (seeds 000, 001, 004), with the URL
// as their argument. The clients come from Debian and run under
// /usr/bin/python3, which sees Debian's packages whatever python3 comes first
// on PATH. `make test` installs them (.ci/deps).

// python3 is Debian's interpreter, named explicitly: another python3 first on
// PATH (pyenv, a venv) does not see Debian's python3-* packages.
const python3 = "/usr/bin/python3"

// pythonFlags run python3 isolated (-I: no PYTHON* variables, no user
// site-packages, so only Debian's packages) and unbuffered (-u: a script that
// dies still shows everything it printed).
var pythonFlags = []string{"-I", "-u"}

// TestInteropWebsocketClient runs websocket-client (python3-websocket) the way
// the tutorials use it: a short-lived create_connection session and a
// long-lived WebSocketApp with callbacks. Each script checks every echo
// itself, prints "ok: ..." per check and "PASS" last, and exits non-zero on
// any failure.
func TestInteropWebsocketClient(t *testing.T) {
	requirePythonModule(t, "websocket", "python3-websocket")
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
			stdout := runPython(t, 60*time.Second, filepath.Join("testdata", "interop", tc.script), ts.URL("/echo"))
			if got := countLines(stdout, "ok: "); got != tc.wantOK {
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

// runPython runs /usr/bin/python3 script args... with a timeout and returns
// its stdout. It fails the test, showing stdout and stderr, when the script
// exits non-zero or runs out of time.
func runPython(t *testing.T, timeout time.Duration, script string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, python3, append(append(append([]string{}, pythonFlags...), script), args...)...)
	cmd.WaitDelay = 5 * time.Second // don't hang on pipes held by a stray child
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
	if testing.Verbose() && stderr.Len() > 0 {
		t.Logf("%s stderr:\n%s", filepath.Base(script), stderr.String())
	}
	return stdout.String()
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

// countLines counts the lines of s that start with prefix.
func countLines(s, prefix string) int {
	n := 0
	for line := range strings.Lines(s) {
		if strings.HasPrefix(line, prefix) {
			n++
		}
	}
	return n
}

// requirePythonModule requires that /usr/bin/python3 can import module,
// which the Debian package pkg provides. See requireTool.
func requirePythonModule(t testing.TB, module, pkg string) {
	t.Helper()
	requireTool(t, pkg, append(append([]string{python3}, pythonFlags...), "-c", "import "+module)...)
}

// requireTool checks that an external tool a test needs works, by running
// probe (a command line such as `/usr/bin/python3 -c "import websocket"` or
// `chromium --version`) and requiring it to exit 0. When it does not, the
// test is skipped, or fails when the environment has CI=true: CI must never
// pass by skipping. pkg names what provides the tool (a Debian package that
// .ci/deps installs); the message says how to install it. Probe results are
// cached per command line for the whole test binary.
func requireTool(t testing.TB, pkg string, probe ...string) {
	t.Helper()
	err := probeTool(probe)
	if err == nil {
		return
	}
	msg := fmt.Sprintf("%s is not usable (%v); install it with `make deps` or, as root, "+
		"`apt-get install -y --no-install-recommends %s`", pkg, err, pkg)
	if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
		t.Fatalf("%s [CI=true: missing tools fail instead of skipping]", msg)
	}
	t.Skip(msg)
}

var probes sync.Map // strings.Join(probe, "\x00") -> func() error (sync.OnceValue)

func probeTool(probe []string) error {
	key := strings.Join(probe, "\x00")
	f, _ := probes.LoadOrStore(key, sync.OnceValue(func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, probe[0], probe[1:]...).CombinedOutput()
		if err == nil {
			return nil
		}
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%s not found", probe[0])
		}
		if out = bytes.TrimSpace(out); len(out) > 0 {
			lines := bytes.Split(out, []byte("\n"))
			return fmt.Errorf("`%s`: %v: %s", strings.Join(probe, " "), err, lines[len(lines)-1])
		}
		return fmt.Errorf("`%s`: %v", strings.Join(probe, " "), err)
	}))
	return f.(func() error)()
}

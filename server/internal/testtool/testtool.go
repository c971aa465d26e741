package testtool

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
)

// Python3 is Debian's interpreter, named explicitly: another python3 first on
// PATH (pyenv, a venv) does not see Debian's python3-* packages.
const Python3 = "/usr/bin/python3"

// pythonFlags run python3 isolated (-I: no PYTHON* variables, no user
// site-packages, so only Debian's packages) and unbuffered (-u: a script that
// dies still shows everything it printed).
var pythonFlags = []string{"-I", "-u"}

// RunPython runs /usr/bin/Python3 script args... with a timeout and returns
// its stdout. It fails the test, showing stdout and stderr, when the script
// exits non-zero or runs out of time.
func RunPython(t testing.TB, timeout time.Duration, script string, args ...string) string {
	t.Helper()
	stdout, stderr := RunPythonInput(t, timeout, "", script, args...)
	if testing.Verbose() && stderr != "" {
		t.Logf("%s stderr:\n%s", filepath.Base(script), stderr)
	}
	return stdout
}

// RunPythonInput is RunPython with input on the script's stdin (a pipe,
// not a terminal, so input() reads lines without echoing them); it returns
// stdout and stderr.
func RunPythonInput(t testing.TB, timeout time.Duration, input, script string, args ...string) (stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, Python3, append(append(append([]string{}, pythonFlags...), script), args...)...)
	cmd.WaitDelay = 5 * time.Second // don't hang on pipes held by a stray child
	cmd.Stdin = strings.NewReader(input)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("killed after %v: %w", timeout, ctx.Err())
	}
	if err != nil {
		t.Fatalf("%s %s: %v (after %v)\n--- stdout:\n%s--- stderr:\n%s",
			filepath.Base(script), strings.Join(args, " "), err, time.Since(start).Round(time.Millisecond),
			out.String(), errOut.String())
	}
	return out.String(), errOut.String()
}

// CountLines counts the lines of s that start with prefix.
func CountLines(s, prefix string) int {
	n := 0
	for line := range strings.Lines(s) {
		if strings.HasPrefix(line, prefix) {
			n++
		}
	}
	return n
}

// RequirePythonModule requires that /usr/bin/Python3 can import module,
// which the Debian package pkg provides. See RequireTool.
func RequirePythonModule(t testing.TB, module, pkg string) {
	t.Helper()
	RequireTool(t, pkg, append(append([]string{Python3}, pythonFlags...), "-c", "import "+module)...)
}

// RequireTool checks that an external tool a test needs works, by running
// probe (a command line such as `/usr/bin/Python3 -c "import websocket"` or
// `chromium --version`) and requiring it to exit 0. When it does not, the
// test is skipped, or fails when the environment has CI=true: CI must never
// pass by skipping. pkg names what provides the tool (a Debian package that
// .ci/deps installs); the message says how to install it. Probe results are
// cached per command line for the whole test binary.
func RequireTool(t testing.TB, pkg string, probe ...string) {
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

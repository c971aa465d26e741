package bridge_test

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/chatd/chatd/auth"
	"github.com/chatd/chatd/auth/anonymous"
	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/bridge"
	"github.com/chatd/chatd/server/wstest"
)

// TestTutorial003: tutorial 003's program, unchanged, behind /stdio. The
// first periodic line comes at once, the next within the 5 s period, and
// each line sent comes back as S->C:C->S:<line>.
func TestTutorial003(t *testing.T) {
	e := start(t, testConfig(bridge.Program{Path: "/stdio",
		Command: []string{python, "-u", testdata(t, "tutorial003.py")}}), nil, nil)
	c := e.dial(t, "/stdio")
	periodic := regexp.MustCompile(`^S->C:\[\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d\] Test Data per 5s $`)
	first := readText(t, c, 5*time.Second)
	if !periodic.MatchString(first) {
		t.Fatalf("first line %q", first)
	}
	at := time.Now()
	if err := c.WriteText([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	// The program adds a newline to a line that has one: an empty line
	// follows each answer, as with websocketd.
	expectText(t, c, "S->C:C->S:hello")
	expectText(t, c, "")
	if err := c.WriteText([]byte("发送连接测试数据")); err != nil { // the tutorial page's own test
		t.Fatal(err)
	}
	expectText(t, c, "S->C:C->S:发送连接测试数据")
	expectText(t, c, "")
	second := readText(t, c, 6*time.Second)
	if !periodic.MatchString(second) || second == first {
		t.Fatalf("second periodic line %q after %q", second, first)
	}
	if d := time.Since(at); d > 5500*time.Millisecond {
		t.Fatalf("second periodic line after %v, want within the 5 s period", d)
	}
	if n := e.b.Running(); n != 1 {
		t.Fatalf("running %d, want 1", n)
	}
	c.Close()
	waitFor(t, 5*time.Second, "the process reaped", func() bool { return e.b.Running() == 0 && len(children(t)) == 0 })
}

// TestEnvironment: CGI variables, HTTP_* headers, CHATD-free environment
// but for pass_env; the program's exit closes with 4100 and its status.
func TestEnvironment(t *testing.T) {
	t.Setenv("BRIDGE_PASSED", "yes")
	t.Setenv("BRIDGE_SECRET", "no")
	e := start(t, testConfig(bridge.Program{Path: "/env", Command: []string{"/usr/bin/env"},
		PassEnv: []string{"BRIDGE_PASSED", "BRIDGE_UNSET"}}), nil, nil)
	h := http.Header{}
	h.Set("X-Forwarded-For", "10.0.0.1")
	h.Add("X-Multi", "a")
	h.Add("X-Multi", "b")
	c := wstest.Dial(t, e.ts.URL("/env")+"?a=1&b=2", wstest.WithHeader(h), wstest.WithTimeout(5*time.Second))
	got := map[string]string{}
	for {
		op, p, err := c.ReadMessage(5 * time.Second)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if op == ws.OpClose {
			f, _ := wstest.ParseClose(p)
			if f.Code != ws.StatusCode(bridge.CloseProgramExited) || f.Reason != "program exited: exit status 0" {
				t.Fatalf("close %v, want 4100 program exited: exit status 0", f)
			}
			break
		}
		k, v, _ := strings.Cut(string(p), "=")
		got[k] = v
	}
	_, port, _ := strings.Cut(e.ts.Addr, ":")
	want := map[string]string{
		"REMOTE_ADDR": "127.0.0.1", "QUERY_STRING": "a=1&b=2", "REQUEST_URI": "/env?a=1&b=2",
		"PATH_INFO": "", "SCRIPT_NAME": "/env", "SERVER_NAME": "127.0.0.1", "SERVER_PORT": port,
		"HTTP_X_FORWARDED_FOR": "10.0.0.1", "HTTP_X_MULTI": "a, b", "BRIDGE_PASSED": "yes",
		"REQUEST_METHOD": "GET", "GATEWAY_INTERFACE": "CGI/1.1",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s=%q, want %q", k, got[k], v)
		}
	}
	for _, k := range []string{"BRIDGE_SECRET", "BRIDGE_UNSET", "PATH", "HOME", "CHATD_USER"} {
		if v, ok := got[k]; ok {
			t.Errorf("%s=%q passed, want unset", k, v)
		}
	}
	if got["REMOTE_PORT"] == "" || got["HTTP_SEC_WEBSOCKET_KEY"] == "" || got["HTTP_HOST"] != e.ts.Addr {
		t.Errorf("REMOTE_PORT %q, HTTP_SEC_WEBSOCKET_KEY %q, HTTP_HOST %q", got["REMOTE_PORT"],
			got["HTTP_SEC_WEBSOCKET_KEY"], got["HTTP_HOST"])
	}
}

// TestExitStatus: the close reason carries the exit status or the signal.
func TestExitStatus(t *testing.T) {
	e := start(t, testConfig(
		bridge.Program{Path: "/exit3", Command: []string{"/bin/sh", "-c", "echo bye; exit 3"}},
		bridge.Program{Path: "/killed", Command: []string{"/bin/sh", "-c", "kill -9 $$"}},
	), nil, nil)
	c := e.dial(t, "/exit3")
	expectText(t, c, "bye")
	if f := c.ExpectClose(t, ws.StatusCode(bridge.CloseProgramExited)); f.Reason != "program exited: exit status 3" {
		t.Fatalf("reason %q", f.Reason)
	}
	c = e.dial(t, "/killed")
	if f := c.ExpectClose(t, ws.StatusCode(bridge.CloseProgramExited)); f.Reason != "program exited: signal: killed" {
		t.Fatalf("reason %q", f.Reason)
	}
}

// TestExitWithBackgroundChild: a program that exits while a background
// child (in a session of its own, so no signal to the program's group
// reaches it) keeps its stdout open is still reaped at once: its client
// gets 4100 with the exit status, its slot is freed, no zombie is left.
func TestExitWithBackgroundChild(t *testing.T) {
	cfg := testConfig(bridge.Program{Path: "/bg",
		Command: []string{"/bin/sh", "-c", "setsid sleep 30 & echo bg; exit 3"}})
	cfg.MaxProcessesPerPath = 1
	e := start(t, cfg, nil, nil)
	t.Cleanup(func() {
		// The stray sleep is not chatd's: end it so it outlives no test.
		_ = exec.Command("pkill", "-f", "^sleep 30$").Run()
	})
	for i := 0; i < 3; i++ { // the slot is free again each time
		c := e.dial(t, "/bg")
		expectText(t, c, "bg")
		if f := c.ExpectClose(t, ws.StatusCode(bridge.CloseProgramExited)); f.Reason != "program exited: exit status 3" {
			t.Fatalf("reason %q", f.Reason)
		}
		waitFor(t, 5*time.Second, "the program reaped", func() bool { return e.b.Running() == 0 })
	}
	for _, ch := range children(t) {
		if ch.state == "Z" {
			t.Fatalf("zombie child %+v", ch)
		}
	}
}

// TestTooManyProcesses: per path and in total, the connection past the
// limit is closed with 4102 and the others keep working.
func TestTooManyProcesses(t *testing.T) {
	cfg := testConfig(
		bridge.Program{Path: "/a", Command: []string{"/bin/cat"}},
		bridge.Program{Path: "/b", Command: []string{"/bin/cat"}},
	)
	cfg.MaxProcessesPerPath = 2
	cfg.MaxProcesses = 3
	e := start(t, cfg, nil, nil)
	a1, a2 := e.dial(t, "/a"), e.dial(t, "/a")
	for _, c := range []*wstest.Conn{a1, a2} {
		c.Send(t, wstest.Text([]byte("hi")))
		expectText(t, c, "hi")
	}
	e.dial(t, "/a").ExpectClose(t, ws.StatusCode(bridge.CloseTooManyProcesses))
	b1 := e.dial(t, "/b")
	b1.Send(t, wstest.Text([]byte("hi")))
	expectText(t, b1, "hi")
	e.dial(t, "/b").ExpectClose(t, ws.StatusCode(bridge.CloseTooManyProcesses)) // 3 in all
	a1.Close()
	waitFor(t, 5*time.Second, "a process freed", func() bool { return e.b.Running() == 2 })
	a3 := e.dial(t, "/a")
	a3.Send(t, wstest.Text([]byte("again")))
	expectText(t, a3, "again")
}

// TestLineTooLong: a stdout line over max_line_bytes closes with 4101;
// one of exactly max_line_bytes passes.
func TestLineTooLong(t *testing.T) {
	cfg := testConfig(bridge.Program{Path: "/long", Command: []string{python, "-c",
		"import sys\nfor l in sys.stdin: print('x'*int(l), flush=True)"}})
	cfg.MaxLineBytes = 10000
	e := start(t, cfg, nil, nil)
	c := e.dial(t, "/long")
	c.Send(t, wstest.Text([]byte("10000")))
	expectText(t, c, strings.Repeat("x", 10000))
	c.Send(t, wstest.Text([]byte("10001")))
	c.ExpectClose(t, ws.StatusCode(bridge.CloseLineTooLong))
	waitFor(t, 5*time.Second, "the process reaped", func() bool { return e.b.Running() == 0 })
}

// TestNeverReadsStdin: a program that never reads stdin fills the stdin
// queue and the pipe; then the client's socket is not read any more (its
// writes stall), memory stays bounded, and when the client goes the
// process is stopped and reaped.
func TestNeverReadsStdin(t *testing.T) {
	cfg := testConfig(bridge.Program{Path: "/deaf", Command: []string{"/bin/sleep", "60"}})
	cfg.StdinQueue = 2
	// A paused socket is not read, so the client's going is seen by
	// keepalive: short here.
	e := start(t, cfg, nil, func(c *server.Config) {
		c.Keepalive.PingInterval = 200 * time.Millisecond
		c.Keepalive.PongTimeout = 200 * time.Millisecond
	})
	c := e.dial(t, "/deaf")
	// The client writes until the socket takes no more: kernel buffers,
	// the pipe and the stdin queue, not 120 MB.
	var wrote atomic.Int64
	go func() {
		msg := wstest.Text(make([]byte, 60000))
		for i := 0; i < 2000; i++ {
			if c.Write(msg) != nil {
				return
			}
			wrote.Add(60000)
		}
	}()
	last, since := int64(-1), time.Now()
	waitFor(t, 20*time.Second, "the client's writes to stall", func() bool {
		if w := wrote.Load(); w != last {
			last, since = w, time.Now()
		}
		return time.Since(since) > 500*time.Millisecond
	})
	if w := wrote.Load(); w > 30<<20 {
		t.Fatalf("the client wrote %d bytes to a program that reads nothing", w)
	}
	t.Logf("the client's writes stalled after %d bytes", wrote.Load())
	if n := e.b.Running(); n != 1 {
		t.Fatalf("running %d", n)
	}
	c.Close()
	waitFor(t, 5*time.Second, "the process stopped", func() bool { return e.b.Running() == 0 && len(children(t)) == 0 })
}

// TestSlowReaderResumes: a program that reads late: the client's messages
// wait (reads paused, then resumed) and all come back, in order.
func TestSlowReaderResumes(t *testing.T) {
	cfg := testConfig(bridge.Program{Path: "/late", Command: []string{"/bin/sh", "-c", "sleep 0.5; exec cat"}})
	cfg.StdinQueue = 1
	e := start(t, cfg, nil, nil)
	c := e.dial(t, "/late")
	const n = 300
	line := strings.Repeat("y", 1000)
	go func() {
		for i := 0; i < n; i++ {
			if c.Write(wstest.Text([]byte(fmt.Sprintf("%03d %s", i, line)))) != nil {
				return
			}
		}
	}()
	for i := 0; i < n; i++ {
		expectText(t, c, fmt.Sprintf("%03d %s", i, line))
	}
}

// TestIgnoresSIGTERM: a program that ignores SIGTERM (and stdin's end)
// gets SIGKILL after kill_grace once its client went; it is reaped.
func TestIgnoresSIGTERM(t *testing.T) {
	e := start(t, testConfig(bridge.Program{Path: "/stubborn", Command: []string{python, "-c",
		"import signal,time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nprint('ready', flush=True)\ntime.sleep(60)"}}), nil, nil)
	c := e.dial(t, "/stubborn")
	expectText(t, c, "ready")
	gone := time.Now()
	c.Close()
	waitFor(t, 5*time.Second, "the process killed and reaped", func() bool { return e.b.Running() == 0 && len(children(t)) == 0 })
	if d := time.Since(gone); d < 300*time.Millisecond {
		t.Fatalf("reaped after %v: before stdin_grace + kill_grace", d)
	}
	if n := e.logs.FilterMessage("program killed").Len(); n != 1 {
		t.Fatalf("%d 'program killed' logs, want 1", n)
	}
}

// TestDisconnectMidLine: a client that goes in the middle of a frame:
// the process is stopped and reaped, no zombie, no fd left.
func TestDisconnectMidLine(t *testing.T) {
	e := start(t, testConfig(bridge.Program{Path: "/cat", Command: []string{"/bin/cat"}}), nil, nil)
	before := fds(t)
	for i := 0; i < 5; i++ {
		c := e.dial(t, "/cat")
		c.Send(t, wstest.Text([]byte("whole")))
		expectText(t, c, "whole")
		frame := wstest.Text([]byte("half a line that never ends"))
		raw := frame.Bytes()
		if err := c.WriteRaw(raw[:len(raw)/2]); err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	waitFor(t, 5*time.Second, "every process reaped", func() bool {
		return e.b.Running() == 0 && len(children(t)) == 0
	})
	waitFor(t, 5*time.Second, "fds back", func() bool { return fds(t) <= before })
}

// TestBinary: binary mode passes raw bytes both ways.
func TestBinary(t *testing.T) {
	e := start(t, testConfig(bridge.Program{Path: "/bin", Command: []string{"/bin/cat"}, Binary: true}), nil, nil)
	c := e.dial(t, "/bin")
	payload := []byte{0, 1, 2, 0xff, '\n', 0xfe}
	c.Send(t, wstest.Binary(payload))
	c.ExpectMessage(t, ws.OpBinary, payload)
}

// TestLogin: with login: true the client logs in first (plain "True", or
// the backend's reason and another try), then the program runs with
// CHATD_USER.
func TestLogin(t *testing.T) {
	e := start(t, testConfig(bridge.Program{Path: "/who", Login: true,
		Command: []string{"/bin/sh", "-c", `echo "user=$CHATD_USER"; exec cat`}}), anonymous.New(), nil)
	c := e.dial(t, "/who")
	c.Send(t, wstest.Text([]byte("a b")))
	expectText(t, c, "name contains whitespace")
	if e.b.Running() != 0 {
		t.Fatal("a process runs before the login")
	}
	c.Send(t, wstest.Text([]byte("alice")))
	expectText(t, c, "True")
	expectText(t, c, "user=alice")
	c.Send(t, wstest.Text([]byte("hi")))
	expectText(t, c, "hi")

	j := e.dial(t, "/who")
	j.Send(t, wstest.Text([]byte(`{"type":"login","name":"bob","id":7}`)))
	if got := readText(t, j, 5*time.Second); !strings.HasPrefix(got, `{"type":"login_ok","user":"bob",`) || !strings.Contains(got, `"ref":7`) {
		t.Fatalf("JSON login answer %s", got)
	}
	expectText(t, j, "user=bob")
}

// TestLoginAttempts: five refusals close with 4001.
func TestLoginAttempts(t *testing.T) {
	e := start(t, testConfig(bridge.Program{Path: "/who", Login: true, Command: []string{"/bin/cat"}}), anonymous.New(), nil)
	c := e.dial(t, "/who")
	for i := 0; i < 5; i++ {
		c.Send(t, wstest.Text([]byte("a b")))
		expectText(t, c, "name contains whitespace")
	}
	c.ExpectClose(t, ws.StatusCode(bridge.CloseLoginAttempts))
}

// TestShutdownStopsPrograms: Close stops programs that ignore SIGTERM.
func TestShutdownStopsPrograms(t *testing.T) {
	e := start(t, testConfig(bridge.Program{Path: "/stubborn", Command: []string{python, "-c",
		"import signal,time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nprint('ready', flush=True)\ntime.sleep(60)"}}), nil, nil)
	for i := 0; i < 3; i++ {
		c := e.dial(t, "/stubborn")
		expectText(t, c, "ready")
	}
	if n := len(children(t)); n != 3 {
		t.Fatalf("%d children", n)
	}
	// The cleanup shuts the server down, closes the bridge and checks
	// that no child is left.
}

// slowAuth accepts every name after a delay, so a client can go while its
// login is being checked.
type slowAuth struct{ release chan struct{} }

func (slowAuth) ParseText(text string) auth.Credentials { return auth.Credentials{Name: text} }

func (a slowAuth) Authenticate(ctx context.Context, c auth.Credentials) (auth.Identity, error) {
	<-a.release
	return auth.Identity{Name: c.Name}, nil
}

// TestLoginThenGone: a client that goes while its login is checked gets
// no process when the verdict comes.
func TestLoginThenGone(t *testing.T) {
	a := slowAuth{release: make(chan struct{})}
	e := start(t, testConfig(bridge.Program{Path: "/who", Login: true, Command: []string{"/bin/cat"}}), a, nil)
	c := e.dial(t, "/who")
	c.Send(t, wstest.Text([]byte("alice")))
	c.Close()
	waitFor(t, 5*time.Second, "the connection closed", func() bool { return len(e.ts.CloseCodes()) == 1 })
	close(a.release)
	time.Sleep(100 * time.Millisecond) // the verdict's way back; nothing may start
	if n := e.b.Running(); n != 0 || len(children(t)) != 0 {
		t.Fatalf("%d processes after the client went during its login", n)
	}
}

// TestStderrLogged: stderr goes to the log line by line with the path and
// pid, within stderr_lines_per_second; the lines over the rate are counted
// on the next line logged.
func TestStderrLogged(t *testing.T) {
	cfg := testConfig(bridge.Program{Path: "/err", Command: []string{"/bin/sh", "-c",
		`i=0; while [ $i -lt 50 ]; do echo "err $i" >&2; i=$((i+1)); done; sleep 1.2; echo last >&2; sleep 0.2; echo done`}})
	cfg.StderrLinesPerSecond = 5
	e := start(t, cfg, nil, nil)
	c := e.dial(t, "/err")
	expectText(t, c, "done")
	c.ExpectClose(t, ws.StatusCode(bridge.CloseProgramExited))
	logged := e.logs.FilterMessage("program stderr").All()
	if len(logged) < 2 || len(logged) > 8 {
		t.Fatalf("%d stderr lines logged, want the burst of 5 and the last", len(logged))
	}
	first, last := logged[0].ContextMap(), logged[len(logged)-1].ContextMap()
	if first["line"] != "err 0" || first["path"] != "/err" || first["pid"] == nil {
		t.Fatalf("first stderr log %v", first)
	}
	if last["line"] != "last" || last["dropped_before"] == nil {
		t.Fatalf("last stderr log %v, want line last with dropped_before", last)
	}
	if got := last["dropped_before"].(int64) + int64(len(logged)); got != 51 {
		t.Fatalf("logged %d + dropped %d lines, want 51", len(logged), last["dropped_before"])
	}
}

// TestLoginTimeout: no login within login_timeout closes with 4004; a
// login in time stops the timer.
func TestLoginTimeout(t *testing.T) {
	cfg := testConfig(bridge.Program{Path: "/who", Login: true, Command: []string{"/bin/cat"}})
	cfg.LoginTimeout = time.Second // long enough for a loaded machine to log in
	e := start(t, cfg, anonymous.New(), nil)
	ok := e.dial(t, "/who")
	ok.Send(t, wstest.Text([]byte("alice")))
	expectText(t, ok, "True")
	e.dial(t, "/who").ExpectClose(t, ws.StatusCode(bridge.CloseLoginTimeout))
	ok.Send(t, wstest.Text([]byte("still here")))
	expectText(t, ok, "still here")
}

package bridge_test

import (
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chatd/chatd/auth/anonymous"
	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/bridge"
	"github.com/chatd/chatd/server/wstest"
)

// TestShared: three clients of one shared program. A message reaches the
// program as "ID line" and its broadcast reaches all three; "@ID " reaches
// only that client. Killed, the program is started again (backoff) and
// the clients, still connected, are served by the new one.
func TestShared(t *testing.T) {
	e := start(t, testConfig(bridge.Program{Path: "/room", Mode: bridge.ModeShared,
		Command: []string{python, "-u", testdata(t, "shared.py")}}), nil, nil)
	waitFor(t, 5*time.Second, "the shared program started", func() bool { return e.b.Running() == 1 })
	// Each client joins in turn and learns its identifier from the
	// program itself.
	cs := make([]*wstest.Conn, 3)
	ids := make([]string, 3)
	pid := 0
	for i := range cs {
		c := e.dial(t, "/room")
		cs[i] = c
		c.Send(t, wstest.Text([]byte("pid")))
		got := readText(t, c, 5*time.Second)
		p, err := strconv.Atoi(strings.TrimPrefix(got, "pid "))
		if err != nil {
			t.Fatalf("pid answer %q", got)
		}
		pid = p
		// A broadcast from this client names it.
		c.Send(t, wstest.Text([]byte("hello")))
		line := readText(t, c, 5*time.Second)
		id, text, _ := strings.Cut(line, ": ")
		if text != "hello" {
			t.Fatalf("broadcast %q", line)
		}
		ids[i] = id
		for _, o := range cs[:i] {
			expectText(t, o, id+": hello")
		}
	}
	// Direct: only the addressee gets it.
	cs[0].Send(t, wstest.Text([]byte("to:"+ids[2]+" psst")))
	expectText(t, cs[2], ids[0]+" says psst")
	cs[1].Send(t, wstest.Text([]byte("everyone")))
	for _, c := range cs {
		expectText(t, c, ids[1]+": everyone") // cs[0] and cs[1] got no "psst" before this
	}
	// A line break in a message cannot forge another sender.
	cs[1].Send(t, wstest.Text([]byte("a\n"+ids[0]+" forged")))
	for _, c := range cs {
		expectText(t, c, ids[1]+": a")
		expectText(t, c, ids[1]+": "+ids[0]+" forged")
	}
	// Nor can a lone CR, which many line readers (Python's text stdin
	// included) also take for a line end.
	cs[1].Send(t, wstest.Text([]byte("b\r"+ids[0]+" forged\r\nc")))
	for _, c := range cs {
		expectText(t, c, ids[1]+": b")
		expectText(t, c, ids[1]+": "+ids[0]+" forged")
		expectText(t, c, ids[1]+": c")
	}

	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the program restarted", func() bool {
		return e.logs.FilterMessage("shared program started").Len() == 2
	})
	cs[2].Send(t, wstest.Text([]byte("back")))
	for _, c := range cs {
		expectText(t, c, ids[2]+": back")
	}
	cs[0].Send(t, wstest.Text([]byte("pid")))
	if got := readText(t, cs[0], 5*time.Second); got == "pid "+strconv.Itoa(pid) {
		t.Fatalf("same pid %d after the restart", pid)
	}
	if e.logs.FilterMessage("shared program exited").Len() != 1 {
		t.Fatal("the exit was not logged")
	}
}

// TestSharedLogin: with login the identifier is the user name, and "@name "
// reaches every session of that user.
func TestSharedLogin(t *testing.T) {
	e := start(t, testConfig(bridge.Program{Path: "/room", Mode: bridge.ModeShared, Login: true,
		Command: []string{python, "-u", testdata(t, "shared.py")}}), anonymous.New(), nil)
	alice, bob := e.dial(t, "/room"), e.dial(t, "/room")
	for c, name := range map[*wstest.Conn]string{alice: "alice", bob: "bob"} {
		c.Send(t, wstest.Text([]byte(name)))
		expectText(t, c, "True")
	}
	alice.Send(t, wstest.Text([]byte("to:bob hi")))
	expectText(t, bob, "alice says hi")
	bob.Send(t, wstest.Text([]byte("all")))
	expectText(t, alice, "bob: all")
	expectText(t, bob, "bob: all")
}

// TestSharedLimits: a shared program's line over max_line_bytes restarts
// the program (its clients stay); a client whose mailbox is full is
// dropped as a slow consumer (4008) while the others go on.
func TestSharedLimits(t *testing.T) {
	cfg := testConfig(bridge.Program{Path: "/room", Mode: bridge.ModeShared,
		Command: []string{python, "-u", "-c", `import sys
for line in sys.stdin:
    ident, _, text = line.rstrip("\n").partition(" ")
    if text.startswith("long"):
        print("x" * 2000, flush=True)
    elif text.startswith("flood"):
        for i in range(int(text[5:])):
            print("flood %d %s" % (i, "y" * 500))
        sys.stdout.flush()
    else:
        print("%s: %s" % (ident, text), flush=True)`}})
	cfg.MaxLineBytes = 1000
	e := start(t, cfg, nil, func(c *server.Config) {
		c.Limits.QueueSize = 8
		c.Limits.MaxMessageBytes = 1024
		c.Limits.WriteBudgetBytes = 65536
	})
	waitFor(t, 5*time.Second, "the shared program started", func() bool { return e.b.Running() == 1 })
	a := e.dial(t, "/room")
	b := wstest.Dial(t, e.ts.URL("/room"), wstest.WithReceiveBuffer(4096))
	a.Send(t, wstest.Text([]byte("long")))
	waitFor(t, 5*time.Second, "the program restarted", func() bool {
		return e.logs.FilterMessage("shared program started").Len() == 2
	})
	b.SendText(t, "still here")
	line := readText(t, a, 5*time.Second)
	if !strings.HasSuffix(line, ": still here") {
		t.Fatalf("after the restart a got %q", line)
	}
	if got, err := b.ReadText(5 * time.Second); err != nil || got != line {
		t.Fatalf("b got %q, %v; want %q", got, err, line)
	}

	// b stops reading (its socket buffers fill, then its write budget
	// and its mailbox); a keeps reading everything.
	const n = 20000
	a.Send(t, wstest.Text([]byte("flood"+strconv.Itoa(n))))
	for i := 0; i < n; i++ {
		expectText(t, a, "flood "+strconv.Itoa(i)+" "+strings.Repeat("y", 500))
	}
	waitFor(t, 10*time.Second, "b dropped as a slow consumer", func() bool {
		codes := e.ts.CloseCodes()
		return len(codes) == 1 && codes[0] == 4008
	})
}

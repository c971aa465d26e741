package main

import (
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// countingEcho is an RFC 6455 echo server on a free port that counts the
// connections it upgraded.
type countingEcho struct {
	addr     string
	upgraded atomic.Int64
}

// startCountingEcho starts one; it stops, with every handler, when the
// test ends.
func startCountingEcho(t *testing.T) *countingEcho {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &countingEcho{addr: ln.Addr().String()}
	var (
		mu     sync.Mutex // guards conns and closed
		conns  = map[net.Conn]struct{}{}
		closed bool
		wg     sync.WaitGroup
	)
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[c] = struct{}{}
			if closed {
				c.Close()
			}
			mu.Unlock()
			wg.Go(func() {
				defer c.Close()
				if _, err := ws.Upgrade(c); err != nil {
					return
				}
				s.upgraded.Add(1)
				for {
					msg, op, err := wsutil.ReadClientData(c)
					if err != nil {
						return
					}
					if err := wsutil.WriteServerMessage(c, op, msg); err != nil {
						return
					}
				}
			})
		}
	})
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		closed = true
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return s
}

// TestSpreadOverServers runs echo over the URLs of two servers: user i
// must connect to URL i mod 2, every echo must come back, and -pid with
// two processes must report their sum.
func TestSpreadOverServers(t *testing.T) {
	a, b := startCountingEcho(t), startCountingEcho(t)
	urls := "ws://" + a.addr + "/echo,ws://" + b.addr + "/echo"
	// The servers run in this process; the parent (go test) is a second
	// process to sum, alive for the whole test.
	pids := itoa(os.Getpid()) + "," + itoa(os.Getppid())
	code, out, r := runScenario(t, "echo", "-url", urls, "-n", "7", "-rate", "350", "-warmup", "200ms", "-pid", pids)
	if code != 0 || r.Failed != 0 {
		t.Fatalf("exit %d, %d failed:\n%s", code, r.Failed, out)
	}
	if got := []int64{a.upgraded.Load(), b.upgraded.Load()}; !slices.Equal(got, []int64{4, 3}) {
		t.Errorf("connections per server %v, want [4 3] (users 0,2,4,6 and 1,3,5)", got)
	}
	if r.Verdict == nil || r.Verdict.Expected == 0 || r.Verdict.Delivered != r.Verdict.Expected {
		t.Errorf("verdict %+v", r.Verdict)
	}
	if r.URL != urls {
		t.Errorf("report url %q, want %q", r.URL, urls)
	}
	if r.Server == nil || r.Server.PID != os.Getpid() || len(r.Server.PIDs) != 2 || !strings.Contains(out, "servers "+pids+" (sum):") {
		t.Errorf("server %+v:\n%s", r.Server, out)
	}
}

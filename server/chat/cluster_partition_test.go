package chat_test

import (
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatd/chatd/server/chat"
	"github.com/chatd/chatd/server/cluster/natstest"
)

// tcpProxy forwards to target; black drops every byte silently (a
// partition with no RST), heal closes the connections it has (so the
// client reconnects) and forwards again.
type tcpProxy struct {
	ln     net.Listener
	target string
	black  atomic.Bool
	mu     sync.Mutex
	conns  []net.Conn
}

func newProxy(t *testing.T, target string) *tcpProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); p.closeAll() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			go p.pipe(c, u)
			go p.pipe(u, c)
		}
	}()
	return p
}

func (p *tcpProxy) pipe(from, to net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := from.Read(buf)
		if n > 0 && !p.black.Load() {
			if _, err := to.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			to.Close()
			return
		}
	}
}

func (p *tcpProxy) closeAll() {
	p.mu.Lock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
	p.mu.Unlock()
}

func (p *tcpProxy) heal() { p.closeAll(); p.black.Store(false) }

func (p *tcpProxy) url() string { return "nats://" + p.ln.Addr().String() }

// startClusterProxied is startCluster whose node 0 reaches NATS through a
// proxy.
func startClusterProxied(t *testing.T, n int) (*tcpProxy, []*env) {
	ns := natstest.Start(t)
	px := newProxy(t, ns.Addr().String())
	envs := make([]*env, n)
	for i := range envs {
		url := ns.ClientURL()
		if i == 0 {
			url = px.url()
		}
		node := connectNode(t, i, url)
		envs[i] = start(t, options{opts: []chat.Option{chat.WithCluster(node)}})
	}
	return px, envs
}

// TestClusterReleaseLostInPartition: bob logs out on node 0 while its link
// to NATS silently drops bytes; the link then comes back (node 0
// reconnects). bob's claim must be given back, not kept live by node 0's
// heartbeat for as long as node 0 lives (found by a hostile review).
func TestClusterReleaseLostInPartition(t *testing.T) {
	px, nodes := startClusterProxied(t, 2)
	probe := nodes[1].login(t, "probe")
	bob := nodes[0].login(t, "bob")
	waitFor(t, func() bool { return probe.onlineSeen(nodes[1], "bob") })

	px.black.Store(true)
	time.Sleep(100 * time.Millisecond)
	bob.c.Close()
	time.Sleep(500 * time.Millisecond) // the release's delete went into the void
	px.heal()

	// Give node 0 time to reconnect, beat and restore, and the TTL to
	// pass several times.
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if !probe.onlineSeen(nodes[1], "bob") {
			t.Logf("bob offline after %v", 15*time.Second-time.Until(deadline))
			c := nodes[1].dial(t)
			c.send("bob")
			if got := c.text(); got != "True" {
				t.Fatalf("bob on node 1: %q", got)
			}
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	c := nodes[1].dial(t)
	c.send("bob")
	t.Fatalf("bob logged out 15 s ago, still online for the cluster; login on node 1: %q", c.text())
}

// TestClusterTwoBobsAfterPartition: node 0 is cut off longer than
// presence_ttl, so the cluster frees bob's name and bob logs in on node 1;
// when node 0 comes back, its bob is closed (4009): with one session per
// user, the name is never online twice (found by a hostile review).
func TestClusterTwoBobsAfterPartition(t *testing.T) {
	px, nodes := startClusterProxied(t, 2)
	bob0 := nodes[0].login(t, "bob")
	probe := nodes[1].login(t, "probe")
	waitFor(t, func() bool { return probe.onlineSeen(nodes[1], "bob") })
	px.black.Store(true)
	var bob1 *client
	deadline := time.Now().Add(20 * time.Second)
	for bob1 == nil {
		if time.Now().After(deadline) {
			t.Fatal("bob never free on node 1")
		}
		c := nodes[1].dial(t)
		c.send("bob")
		if c.text() == "True" {
			bob1 = c
		}
		time.Sleep(200 * time.Millisecond)
	}
	px.heal()
	// Node 0 reconnects, finds bob's slot taken and closes its bob.
	if code := bob0.closeCode(); code != chat.CloseReplaced {
		t.Fatalf("node 0's bob closed with %d, want %d", code, chat.CloseReplaced)
	}
	if _, err := bob1.c.ReadText(300 * time.Millisecond); err == nil || !strings.Contains(err.Error(), "timeout") {
		t.Fatalf("node 1's bob: %v, want still open", err)
	}
}

// TestClusterClaimLostAfterResume: as TestClusterTwoBobsAfterPartition,
// but node 0's bob is a resumed session (it took its predecessor's claim
// over): it is closed all the same (found by a hostile review).
func TestClusterClaimLostAfterResume(t *testing.T) {
	ns := natstest.Start(t)
	px := newProxy(t, ns.Addr().String())
	var nodes []*env
	for i := range 2 {
		url := ns.ClientURL()
		if i == 0 {
			url = px.url()
		}
		nodes = append(nodes, start(t, options{authn: &fakeAuth{maxSessions: 1},
			opts: []chat.Option{chat.WithCluster(connectNode(t, i, url))}}))
	}
	old, ok := nodes[0].loginJSON(t, "bob", nil)
	bob0, _ := nodes[0].loginJSON(t, "bob", map[string]any{"resume": ok["resume"]})
	if code := old.closeCode(); code != chat.CloseReplaced {
		t.Fatalf("old: %d", code)
	}
	probe := nodes[1].login(t, "probe")
	waitFor(t, func() bool { return probe.onlineSeen(nodes[1], "bob") })
	px.black.Store(true)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if time.Now().After(deadline) {
			t.Fatal("bob never free on node 1")
		}
		c, _ := nodes[1].dialPath(t, "/ws", chat.ProtocolJSON)
		c.sendJSON(map[string]any{"type": "login", "name": "bob"})
		if c.next()["type"] == "login_ok" {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	px.heal()
	if code := bob0.closeCode(); code != chat.CloseReplaced {
		t.Fatalf("node 0's resumed bob closed with %d, want %d", code, chat.CloseReplaced)
	}
}

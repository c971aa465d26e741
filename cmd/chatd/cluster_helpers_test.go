package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/server/wstest"
)

// Helpers of the cluster end-to-end tests (cluster_e2e_test.go): free
// ports, per-node configs, /healthz, and chat clients that can run on
// their own goroutines (they record errors instead of failing the test).

// freePorts returns n distinct loopback ports that were free a moment ago
// (held together, then released), for addresses that must be known before
// a process starts: a mesh's routes, a NATS server restarted on its port.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	ports := make([]int, n)
	ls := make([]net.Listener, n)
	for i := range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls[i], ports[i] = l, l.Addr().(*net.TCPAddr).Port
	}
	for _, l := range ls {
		_ = l.Close()
	}
	return ports
}

// clusterNodeConfig is a chatd config of one cluster node named node:
// chat on a free loopback port, JSON logs, presence_ttl ttl, and the
// given cluster.nats section (nats, indented for its place under nats:).
// Anonymous names keep offline mail, so both the one-session rule and the
// mailbox are in play; the rate limits let a test send in bursts and log
// in as often as it polls.
func clusterNodeConfig(node string, ttl time.Duration, nats string) string {
	return `server:
  listen: "127.0.0.1:0"
  close_timeout: "2s"
  shutdown_timeout: "5s"
chat:
  mailbox:
    dir: "` + dataDir + `"
    anonymous: true
  rate:
    messages_per_second: 10000
    burst: 10000
  login:
    address_rate: 1000
    address_burst: 1000
log:
  level: info
  format: json
cluster:
  enabled: true
  node: "` + node + `"
  presence_ttl: "` + ttl.String() + `"
  nats:
` + nats
}

// waitListening waits (up to timeout) for the "listening" line of a chatd
// process and returns its address; a cluster node logs it only once it
// joined the cluster.
func waitListening(t *testing.T, p *process, timeout time.Duration) string {
	t.Helper()
	e := p.logs.waitFor(t, "listening", timeout)
	addr, _ := e["addr"].(string)
	if addr == "" {
		t.Fatalf("listening line has no addr: %v", e)
	}
	return addr
}

// healthz returns GET /healthz's status code and body.
func healthz(addr string) (int, string, error) {
	c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get("http://" + addr + "/healthz")
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// waitHealth polls addr's /healthz until its body starts with prefix (and
// the status is 200), and returns when it did.
func waitHealth(t *testing.T, addr, prefix string, timeout time.Duration) time.Time {
	t.Helper()
	var last string
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(25 * time.Millisecond) {
		code, body, err := healthz(addr)
		last = fmt.Sprintf("%d %q %v", code, body, err)
		if err == nil && code == 200 && strings.HasPrefix(body, prefix) {
			return time.Now()
		}
	}
	t.Fatalf("%s/healthz did not start with %q within %v; last answer: %s", addr, prefix, timeout, last)
	return time.Time{}
}

// eventually polls cond every 20 ms until it holds, failing t after
// timeout with what.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(timeout); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
	}
}

// tryLogin opens a /ws session on addr and logs in as name, returning the
// client and the server's first answer (login_ok or login_error).
func tryLogin(t *testing.T, addr, name string, ack bool) (*chatClient, map[string]any) {
	t.Helper()
	c := dialChat(t, addr)
	c.send(map[string]any{"type": "login", "name": name, "ack": ack})
	return c, c.recv()
}

// loginEventually logs in as name on addr, retrying for up to timeout
// while the answer is a login_error that retry accepts (the name is still
// held, the cluster is still electing...). It returns the session and how
// many attempts were refused.
func loginEventually(t *testing.T, addr, name string, ack bool, timeout time.Duration, retry func(reason string) bool) (*chatClient, int) {
	t.Helper()
	refused := 0
	for deadline := time.Now().Add(timeout); ; time.Sleep(50 * time.Millisecond) {
		c, m := tryLogin(t, addr, name, ack)
		if m["type"] == "login_ok" {
			return c, refused
		}
		c.conn.Close()
		reason, _ := m["error"].(string)
		if m["type"] != "login_error" || !retry(reason) {
			t.Fatalf("login %s on %s: %v", name, addr, m)
		}
		if time.Now().After(deadline) {
			t.Fatalf("login %s on %s still refused after %v: %v", name, addr, timeout, m)
		}
		refused++
	}
}

// outcome is what a peer heard about one private message it sent.
type outcome struct {
	to, data string
	sent     time.Time // when it was written
	answered time.Time // zero until the answer came
	typ      string    // "sent" or "error"; "" until the answer came
	status   string    // "delivered" or "stored" for "sent"
	err      string    // the error's text
}

// peer is a logged-in user whose connection is driven by two goroutines:
// send writes private messages to its targets in turn, each with an id,
// at a steady pace whatever became of the earlier ones (so one message
// that waits for its answer does not hold the others back), and read
// reads everything, matching answers to messages by ref and recording the
// messages received. They never fail the test themselves: the first error
// is kept for the test's goroutine (failure).
type peer struct {
	name  string
	c     *chatClient
	done  chan struct{} // closed when read returned
	wdone chan struct{} // closed when send returned (or never started)

	mu   sync.Mutex
	got  map[string]int // data of received messages → times
	outs []*outcome     // in the order sent; outs[i] has id i
	err  error
}

func newPeer(name string, c *chatClient) *peer {
	return &peer{name: name, c: c, done: make(chan struct{}), wdone: make(chan struct{}), got: map[string]int{}}
}

// start runs read, and send to targets (if any) every pace until stop is
// closed.
func (p *peer) start(targets []string, pace time.Duration, stop <-chan struct{}) {
	go p.read()
	if len(targets) == 0 {
		close(p.wdone)
		return
	}
	go p.send(targets, pace, stop)
}

func (p *peer) send(targets []string, pace time.Duration, stop <-chan struct{}) {
	defer close(p.wdone)
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		case <-time.After(pace):
		}
		to := targets[i%len(targets)]
		o := &outcome{to: to, data: fmt.Sprintf("%s>%s#%d", p.name, to, i), sent: time.Now()}
		p.mu.Lock()
		p.outs = append(p.outs, o) // before the write: the answer may come at once
		p.mu.Unlock()
		b, _ := json.Marshal(map[string]any{"receiver": to, "data": o.data, "id": i})
		if err := p.c.conn.Write(wstest.Text(b)); err != nil {
			p.fail(fmt.Errorf("send %s: %w", o.data, err))
			return
		}
	}
}

// read receives until the connection is closed.
func (p *peer) read() {
	defer close(p.done)
	for {
		s, err := p.c.conn.ReadText(0)
		if err != nil {
			return
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			p.fail(fmt.Errorf("not JSON: %q", s))
			return
		}
		p.mu.Lock()
		switch ref, isRef := m["ref"].(float64); {
		case m["type"] == "message":
			data, _ := m["data"].(string)
			p.got[data]++
		case isRef && int(ref) >= 0 && int(ref) < len(p.outs) && (m["type"] == "sent" || m["type"] == "error"):
			o := p.outs[int(ref)]
			if o.typ != "" {
				p.failLocked(fmt.Errorf("%s answered twice: %s %s %s, then %v", o.data, o.typ, o.status, o.err, m))
				break
			}
			o.answered, o.typ = time.Now(), fmt.Sprint(m["type"])
			o.status, _ = m["status"].(string)
			o.err, _ = m["error"].(string)
		}
		p.mu.Unlock()
	}
}

func (p *peer) fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failLocked(err)
}

func (p *peer) failLocked(err error) {
	if p.err == nil {
		p.err = err
	}
}

func (p *peer) failure() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// snapshot returns copies of p's outcomes so far and of what it received.
func (p *peer) snapshot() ([]outcome, map[string]int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	outs := make([]outcome, len(p.outs))
	for i, o := range p.outs {
		outs[i] = *o
	}
	got := make(map[string]int, len(p.got))
	for k, v := range p.got {
		got[k] = v
	}
	return outs, got
}

// count returns how many of p's answered outcomes match f.
func (p *peer) count(f func(outcome) bool) int {
	outs, _ := p.snapshot()
	n := 0
	for _, o := range outs {
		if o.typ != "" && f(o) {
			n++
		}
	}
	return n
}

// received reports whether p received a message with data.
func (p *peer) received(data string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.got[data] > 0
}

// seenOnline asks c's server whether user is online anywhere in the
// cluster (the seen command), skipping other messages.
func seenOnline(c *chatClient, user string) bool {
	c.t.Helper()
	c.send(map[string]any{"type": "seen", "user": user})
	for {
		if m := c.recv(); m["type"] == "seen" {
			return m["online"] == true
		}
	}
}

package main

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chatd/chatd/server/history"
)

// TestHistorySurvivesRestart runs chatd with chat.history.durable: after a
// clean shutdown (SIGTERM) a room's messages and seq come back whole;
// after a kill -9 the room has at most lost its last flush interval, says
// so to a join with since ("recovered": false), and its seq skips
// history.CrashGap so no seq is given twice; a clean restart after that
// adds no second gap.
func TestHistorySurvivesRestart(t *testing.T) {
	bin := buildChatd(t)
	cfg := writeFile(t, "chatd.yaml", strings.Replace(testConfig, "chat:\n",
		"chat:\n  history:\n    durable: true\n    flush_interval: \"20ms\"\n", 1))

	// join logs c in as name and joins dev with since (none if negative),
	// returning the joined reply and the replayed seqs.
	join := func(addr, name string, since int) (*chatClient, map[string]any, []float64) {
		c := dialChat(t, addr)
		c.login(name, false)
		req := map[string]any{"type": "join", "room": "dev"}
		if since >= 0 {
			req["since"] = since
		}
		c.send(req)
		j := c.recv()
		if j["type"] != "joined" {
			t.Fatalf("join: %v", j)
		}
		var seqs []float64
		if since >= 0 {
			// The replay is every kept message after since: read it up to
			// the answer of a history request sent after the join, which
			// must list as many.
			c.send(map[string]any{"type": "history", "room": "dev", "after": since, "limit": 100})
			for {
				m := c.recv()
				if m["type"] == "history" {
					if n := len(m["messages"].([]any)); n != len(seqs) {
						t.Fatalf("replayed %v, history after %d has %d", seqs, since, n)
					}
					break
				}
				seqs = append(seqs, m["seq"].(float64))
			}
		}
		return c, j, seqs
	}
	say := func(c *chatClient, data string) float64 {
		c.send(map[string]any{"room": "dev", "data": data, "id": data})
		if m := c.recv(); m["type"] != "sent" {
			t.Fatalf("send %s: %v", data, m)
		}
		c.send(map[string]any{"type": "history", "room": "dev", "limit": 1})
		m := c.recv()
		return m["messages"].([]any)[0].(map[string]any)["seq"].(float64)
	}
	stop := func(p *process) {
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if st := p.exitStatus(t, 15*time.Second); st != 0 {
			t.Fatalf("exit status %d", st)
		}
	}

	p := startProcess(t, bin, "-config", cfg)
	alice, _, _ := join(p.logs.listenAddr(t), "alice", -1)
	for i := 1; i <= 5; i++ {
		if seq := say(alice, fmt.Sprint("m", i)); seq != float64(i) {
			t.Fatalf("m%d has seq %v", i, seq)
		}
	}
	stop(p)

	// A clean restart: everything is back.
	p = startProcess(t, bin, "-config", cfg)
	bob, j, seqs := join(p.logs.listenAddr(t), "bob", 0)
	if j["seq"] != 5.0 || j["recovered"] != true || fmt.Sprint(seqs) != "[1 2 3 4 5]" {
		t.Fatalf("after a clean restart: %v, replayed %v", j, seqs)
	}
	for i := 6; i <= 8; i++ {
		say(bob, fmt.Sprint("m", i))
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done

	// After kill -9: up to the last interval is lost (m6..m8 may or may
	// not have been written), the seq skips on, and a join with since
	// hears that it did not recover everything.
	p = startProcess(t, bin, "-config", cfg)
	p.logs.waitFor(t, "history store was not closed cleanly: the messages of its last flush interval are lost, and each room's seq skips on", 10*time.Second)
	carol, j, seqs := join(p.logs.listenAddr(t), "carol", 5)
	kept := len(seqs) // m6.. that were written before the kill
	want := float64(5 + kept + history.CrashGap)
	if kept > 3 || j["seq"] != want || j["recovered"] != false || j["missed"] != nil {
		t.Fatalf("after kill -9: %v, replayed %v; want seq %v, recovered false", j, seqs, want)
	}
	t.Logf("kill -9 after m8: %d of m6..m8 had been written", kept)
	for i, s := range seqs {
		if s != float64(6+i) {
			t.Fatalf("replayed %v", seqs)
		}
	}
	if seq := say(carol, "after"); seq != want+1 {
		t.Fatalf("next seq %v, want %v", seq, want+1)
	}
	stop(p)

	// A clean restart after that: no second gap.
	p = startProcess(t, bin, "-config", cfg)
	_, j, _ = join(p.logs.listenAddr(t), "dave", -1)
	if j["seq"] != want+1 {
		t.Fatalf("after a clean restart: %v, want seq %v", j, want+1)
	}
	stop(p)
}

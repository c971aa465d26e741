package main

import (
	"syscall"
	"testing"
	"time"
)

// TestOfflineSurvivesKill9: a message stored for offline bob survives
// kill -9 of the server; after a restart bob receives it at login. With
// acks, unacked messages come again at the next login and acked ones do not.
func TestOfflineSurvivesKill9(t *testing.T) {
	bin := buildChatd(t)
	// One data directory for both runs. The anonymous backend keeps no
	// offline mail by default (anyone could read it): use static names.
	cfg := writeFile(t, "chatd.yaml", testConfig+"auth:\n  backend: static\n  static:\n    users: [alice, bob]\n")

	p := startProcess(t, bin, "-config", cfg)
	alice := dialChat(t, p.logs.listenAddr(t))
	alice.login("alice", false)
	for i, data := range []string{"m1", "m2", "m3"} {
		alice.send(map[string]any{"receiver": "bob", "data": data, "id": i})
		if m := alice.recv(); m["type"] != "sent" || m["status"] != "stored" {
			t.Fatalf("send %s: %v", data, m)
		}
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done

	p = startProcess(t, bin, "-config", cfg)
	addr := p.logs.listenAddr(t)
	bob := dialChat(t, addr)
	bob.login("bob", true)
	var ids []any
	for _, want := range []string{"m1", "m2", "m3"} {
		m := bob.recv()
		if m["data"] != want || m["sender"] != "alice" || m["offline"] != true {
			t.Fatalf("got %v, want offline %s from alice", m, want)
		}
		ids = append(ids, m["id"])
	}
	bob.send(map[string]any{"type": "ack", "id": ids[0]})
	// A round trip on the same connection orders the ack before the close.
	bob.send(map[string]any{"type": "rooms"})
	if m := bob.recv(); m["type"] != "rooms" {
		t.Fatalf("rooms: %v", m)
	}
	bob.conn.Close()

	// Not acked: m2 and m3 come again, with the same ids; m1 does not.
	deadline := time.Now().Add(10 * time.Second)
	for {
		again := dialChat(t, addr)
		again.send(map[string]any{"type": "login", "name": "bob", "ack": true})
		m := again.recv()
		if m["type"] == "login_error" && m["error"] == "name is already online" && time.Now().Before(deadline) {
			again.conn.Close()
			time.Sleep(20 * time.Millisecond) // the previous session is still closing
			continue
		}
		if m["type"] != "login_ok" {
			t.Fatalf("relogin: %v", m)
		}
		for i, want := range []string{"m2", "m3"} {
			m := again.recv()
			if m["data"] != want || m["id"] != ids[i+1] {
				t.Fatalf("redelivery %d: %v, want %s with id %v", i, m, want, ids[i+1])
			}
		}
		return
	}
}

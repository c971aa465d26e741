package chat_test

import (
	"fmt"
	"testing"
	"time"
)

// TestFanoutDoesNotStall: while a publisher fans messages out to a large
// lobby, a new user still logs in and a message in another room still
// arrives promptly, and that new member gets the lobby's messages from its
// join on, in order. The members never read, so the frames pile up in their
// socket buffers as they would for idle clients.
func TestFanoutDoesNotStall(t *testing.T) {
	if testing.Short() {
		t.Skip("opens thousands of connections")
	}
	const members = 2000 // x2 fds in this process (client and server side)
	e := start(t, options{})
	e.loginMembers(t, members, 60*time.Second) // they never read
	pub := e.login(t, "publisher")
	x, y := e.login(t, "x"), e.login(t, "y")
	for _, c := range []*client{x, y} {
		c.sendJSON(map[string]any{"type": "leave", "room": "lobby"})
		c.expect(map[string]any{"type": "left"})
		c.sendJSON(map[string]any{"type": "join", "room": "side"})
		c.expect(map[string]any{"type": "joined"})
	}
	x.expect(map[string]any{"type": "presence", "user": "y"})

	// The stream: 20 messages sent at once, then the latecomer logs in
	// while they fan out, then a few more. How far the 20 got before its
	// login joined it to the lobby is up to the scheduler (all of them, on
	// a fast run); the login's answer comes after the join, so the ones
	// sent after it are surely posted to it.
	const during, after = 20, 5
	start := time.Now()
	for i := 0; i < during; i++ {
		pub.send(fmt.Sprintf("broadcast %d", i)) // 20 x 2000+ deliveries
	}
	late := e.login(t, "latecomer")
	loginTook := time.Since(start)
	x.sendJSON(map[string]any{"room": "side", "data": "still here"})
	y.expect(map[string]any{"room": "side", "data": "still here"})
	sideTook := time.Since(start)
	t.Logf("during a fan-out of 20 messages to %d members: login in %v, side-room message in %v",
		members, loginTook.Round(time.Millisecond), sideTook.Round(time.Millisecond))
	// A liveness bound, not a speed target: a side room queued behind the
	// fan-out would wait for all 40,000 deliveries to unread sockets; on a
	// box loaded by parallel test runs (load 10+) a healthy run has taken
	// over 5 s, so the bound is generous.
	if sideTook > 20*time.Second {
		t.Fatalf("side room took %v", sideTook)
	}
	for i := during; i < during+after; i++ {
		pub.send(fmt.Sprintf("broadcast %d", i))
	}
	// The latecomer joined mid-stream and gets the rest in order: the
	// messages published after its join (a tail of the first 20, perhaps
	// none), then those sent after its login, each once, none skipped.
	prev := -1
	for {
		m := late.next()
		data, _ := m["data"].(string)
		var n int
		if _, err := fmt.Sscanf(data, "broadcast %d", &n); err != nil || (prev >= 0 && n != prev+1) {
			t.Fatalf("latecomer got %v after %d", m, prev)
		}
		if prev == -1 {
			t.Logf("the latecomer's first message: broadcast %d", n)
		}
		if prev = n; n == during+after-1 {
			break
		}
	}
}

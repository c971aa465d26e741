package chat_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/server/chat"
	"github.com/chatd/chatd/server/cluster/jsmail"
	"github.com/chatd/chatd/server/cluster/natstest"
	natsserver "github.com/nats-io/nats-server/v2/server"
	"go.uber.org/zap"
)

// outcomes reads alice's answers in the background.
type outcomes struct {
	mu sync.Mutex
	m  map[float64]string
}

func readOutcomes(c *client) *outcomes {
	o := &outcomes{m: map[float64]string{}}
	go func() {
		for {
			s, err := c.c.ReadText(60 * time.Second)
			if err != nil {
				return
			}
			var m map[string]any
			if json.Unmarshal([]byte(s), &m) != nil {
				continue
			}
			ref, ok := m["ref"].(float64)
			if !ok {
				continue
			}
			o.mu.Lock()
			switch m["type"] {
			case "sent":
				o.m[ref] = fmt.Sprint(m["status"])
			case "error":
				o.m[ref] = "error: " + fmt.Sprint(m["error"])
			}
			o.mu.Unlock()
		}
	}()
	return o
}

// readBob reads bob's messages until quiet for d, acking each message id
// when ack is set (a live message's id too); it returns the data of
// alice's messages in order.
func readBob(t *testing.T, bob *client, d time.Duration, ack bool) []string {
	var got []string
	for {
		s, err := bob.c.ReadText(d)
		if err != nil {
			return got
		}
		var m map[string]any
		if json.Unmarshal([]byte(s), &m) != nil {
			continue
		}
		if m["type"] != "message" || m["sender"] != "alice" {
			continue
		}
		got = append(got, fmt.Sprint(m["data"]))
		if ack {
			bob.sendJSON(map[string]any{"type": "ack", "id": uint64(m["id"].(float64))})
		}
	}
}

// TestClusterLoginWhileStored: bob logs in on node 1 while alice on node 0
// streams private messages to him; node 0 stores some of them before it
// hears of the login, after bob's session read the mailbox. Every message
// alice hears "delivered" or "stored" for must reach bob, and the stored
// ones in the session that logged in (node 0 tells it to read the
// mailbox again), even when bob acks live messages' ids (an ack never
// removes stored mail the session has not been written). Found by a
// hostile review: before the fixes, with JetStream, 412 of 1181 stored
// messages waited for the next login, and with acks 529 of 852 were lost.
// Later, with acks, 37 to 167 of about 400 still waited, in one run of
// two: bob acks every message, and his session's read of the mailbox
// again queued behind one Ack per message, past his reader's patience
// (offline.go enqueueAck; TestAckBacklogDoesNotHoldDrain).
func TestClusterLoginWhileStored(t *testing.T) {
	for _, js := range []bool{true} {
		for _, ack := range []bool{false, true} {
			t.Run(fmt.Sprintf("js=%v/ack=%v", js, ack), func(t *testing.T) {
				var nodes []*env
				if js {
					_, nodes = startClusterJS(t, 2)
				} else {
					_, nodes = startCluster(t, 2, options{})
				}
				a, b := nodes[0], nodes[1]
				alice := a.login(t, "alice")
				out := readOutcomes(alice)
				probe := a.login(t, "probe")
				ref := 0
				var lost, delayed, falseDelivered, storedN, deliveredN, errs, reordered int
				for round := 0; round < 8; round++ {
					stop, done := make(chan struct{}), make(chan []int)
					go func() {
						var refs []int
						for i := 0; ; i++ {
							select {
							case <-stop:
								done <- refs
								return
							default:
							}
							ref++
							refs = append(refs, ref)
							alice.c.SendJSON(t, map[string]any{"receiver": "bob", "data": fmt.Sprintf("m%d", ref), "id": ref})
							time.Sleep(100 * time.Microsecond)
						}
					}()
					time.Sleep(20 * time.Millisecond)
					bob := b.dial(t)
					bob.sendJSON(map[string]any{"type": "login", "name": "bob", "ack": ack})
					bob.expect(map[string]any{"type": "login_ok"})
					time.Sleep(30 * time.Millisecond)
					close(stop)
					refs := <-done
					s1 := readBob(t, bob, 1500*time.Millisecond, ack) // quiet that long: under load a page comes late
					bob.c.Close()
					waitFor(t, func() bool { return !probe.onlineSeen(a, "bob") })
					// wait for all outcomes
					waitFor(t, func() bool {
						out.mu.Lock()
						defer out.mu.Unlock()
						for _, r := range refs {
							if out.m[float64(r)] == "" {
								return false
							}
						}
						return true
					})
					bob2 := b.login(t, "bob")
					s2 := readBob(t, bob2, 500*time.Millisecond, false)
					bob2.c.Close()
					waitFor(t, func() bool { return !probe.onlineSeen(a, "bob") })
					in1, in2 := map[string]bool{}, map[string]bool{}
					for _, d := range s1 {
						in1[d] = true
					}
					for _, d := range s2 {
						in2[d] = true
					}
					// order within session 1
					last := 0
					for _, d := range s1 {
						var n int
						fmt.Sscanf(d, "m%d", &n)
						if n < last {
							reordered++
						}
						last = n
					}
					out.mu.Lock()
					for _, r := range refs {
						d := fmt.Sprintf("m%d", r)
						o := out.m[float64(r)]
						switch {
						case o == "delivered":
							deliveredN++
							if !in1[d] {
								falseDelivered++
							}
						case o == "stored":
							storedN++
							if !in1[d] && !in2[d] {
								lost++
								t.Logf("round %d: %s stored, never received", round, d)
							} else if !in1[d] {
								delayed++
							}
						case strings.HasPrefix(o, "error"):
							errs++
						}
					}
					out.mu.Unlock()
				}
				t.Logf("ack=%v delivered=%d stored=%d errors=%d | lost=%d delayed-to-next-login=%d falseDelivered=%d reordered-in-session=%d",
					ack, deliveredN, storedN, errs, lost, delayed, falseDelivered, reordered)
				if lost > 0 || falseDelivered > 0 {
					t.Errorf("lost %d stored messages, %d false delivered", lost, falseDelivered)
				}
				// A node may still miss a login by its view's lag after the
				// store: rare, never lost (next login), but bounded here.
				if delayed*20 > storedN {
					t.Errorf("%d of %d stored messages waited for the next login", delayed, storedN)
				}
			})
		}
	}
}

// startClusterJS is startCluster with each node's own JetStream mailbox,
// as cmd/chatd runs it.
func startClusterJS(t *testing.T, n int) (*natsserver.Server, []*env) {
	t.Helper()
	ns := natstest.Start(t)
	envs := make([]*env, n)
	for i := range envs {
		node := connectNode(t, i, ns.ClientURL())
		box, err := jsmail.Open(node.JetStream(), jsmail.Default(), zap.NewNop())
		if err != nil {
			t.Fatal(err)
		}
		envs[i] = start(t, options{store: box, opts: []chat.Option{chat.WithCluster(node)}, chat: func(c *chat.Config) {
			c.Rate.MessagesPerSecond, c.Rate.Burst = 1e5, 1e5
		}})
	}
	return ns, envs
}

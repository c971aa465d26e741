package cluster

import (
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/server/cluster/natstest"
)

// TestFailAllRacesSend: answers failed on a lost connection while sends
// are being made never find a message without its timer (a nil Stop was a
// crash of the whole process), and every send is settled once (found by a
// hostile review).
func TestFailAllRacesSend(t *testing.T) {
	s := natstest.Start(t)
	a, b := testNode(t, s, "a", 5*time.Second), testNode(t, s, "b", 5*time.Second)
	b.HandlePrivate(func([]byte, func(bool)) {}) // never answers
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	sent, settled := 0, 0
	for range 8 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				mu.Lock()
				sent++
				mu.Unlock()
				a.router.send("b", []byte("x"), func(bool, error) { mu.Lock(); settled++; mu.Unlock() })
			}
		})
	}
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); {
		a.router.failAll(&degradedError{"test"})
	}
	close(stop)
	wg.Wait()
	a.router.failAll(&degradedError{"test"})
	mu.Lock()
	defer mu.Unlock()
	if settled != sent {
		t.Fatalf("%d sends, %d settled", sent, settled)
	}
}

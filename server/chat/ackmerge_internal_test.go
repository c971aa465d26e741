package chat

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
)

// ackBox records the Ack calls; nothing else of the Mailbox is used.
type ackBox struct {
	Mailbox
	mu    sync.Mutex
	calls []string
}

func (b *ackBox) Ack(user string, upTo uint64) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls = append(b.calls, fmt.Sprintf("%s %d", user, upTo))
	return 0, nil
}

func (b *ackBox) got() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.calls)
}

// blockJob holds its shard until released.
type blockJob struct{ started, release chan struct{} }

func (j blockJob) run(*offlineQueue, string) {
	close(j.started)
	<-j.release
}

// TestAckMerge: a user's client acks queued and not started merge into
// the latest (a retry of an older one does not take its place); a
// written page's ack (drain.go) is queued as is, and the acks after it
// stay after it; another user's acks are its own.
func TestAckMerge(t *testing.T) {
	box := &ackBox{}
	q := newOfflineQueue(box, 1, 16, 1<<20, pageLimits{10, 1 << 20}, zap.NewNop())
	go q.run(0)
	defer q.close()
	block := blockJob{started: make(chan struct{}), release: make(chan struct{})}
	q.enqueue("bob", block)
	<-block.started
	for _, j := range []ackJob{
		{upTo: 1}, {upTo: 2}, {upTo: 1, tries: 1}, // merged: 2
		{upTo: 4, written: true}, // as is
		{upTo: 5}, {upTo: 6},     // merged, after it: 6
	} {
		if !q.enqueue("bob", j) {
			t.Fatalf("enqueue %+v refused", j)
		}
	}
	q.enqueue("carol", ackJob{upTo: 9})
	q.enqueue("bob", ackJob{upTo: 7}) // merged into the queued 6
	close(block.release)
	want := []string{"bob 2", "bob 4", "bob 7", "carol 9"}
	deadline := time.Now().Add(5 * time.Second)
	for len(box.got()) < len(want) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := box.got(); !slices.Equal(got, want) {
		t.Fatalf("Ack calls %q, want %q", got, want)
	}
	// Once an ack has started, the next one is queued anew.
	q.enqueue("bob", ackJob{upTo: 8})
	want = append(want, "bob 8")
	for len(box.got()) < len(want) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := box.got(); !slices.Equal(got, want) {
		t.Fatalf("Ack calls %q, want %q", got, want)
	}
	q.ackMu.Lock()
	defer q.ackMu.Unlock()
	if len(q.acks) != 0 {
		t.Fatalf("%d queued acks left once all ran", len(q.acks))
	}
}

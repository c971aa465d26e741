package cluster

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/server/cluster/natstest"
)

// TestReleaseDuringRestore: claims given back while the node makes its
// claims again (NATS lost the bucket) are not left in the bucket for
// nobody, which would lock their users out on every node (found by a
// hostile review: 738 of 750 came back).
func TestReleaseDuringRestore(t *testing.T) {
	s := natstest.Start(t)
	a := testNode(t, s, "a", 6*time.Second)
	ctx := context.Background()
	const n = 600
	claims := make([]*Claim, n)
	for i := range claims {
		c, err := a.Claim(ctx, fmt.Sprintf("u%d", i), fmt.Sprintf("u%d", i), 1, uint64(i+1))
		if err != nil {
			t.Fatal(err)
		}
		claims[i] = c
	}
	for _, c := range claims {
		_ = a.kv.Delete(ctx, c.key) // the bucket lost them
	}
	a.presence.kick()
	var wg sync.WaitGroup
	for i := 0; i < n; i += 2 {
		wg.Go(func() { _ = a.presence.release(ctx, claims[i]) })
	}
	wg.Wait()
	eventually(t, "restore done", func() bool { _, err := a.kv.Get(ctx, claims[n-1].key); return err == nil })
	eventually(t, "released claims gone from the bucket", func() bool {
		for i := 0; i < n; i += 2 {
			if _, err := a.kv.Get(ctx, claims[i].key); err == nil {
				return false
			}
		}
		return true
	})
	if _, err := a.Claim(ctx, "u0", "u0", 1, 99999); err != nil {
		t.Fatalf("u0 after its release: %v", err)
	}
}

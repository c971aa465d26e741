package chat

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/server/wire"
)

// capRooms is a registry with max_bytes 8 KiB per room, cap bytes for all
// of them together, and a fake store.
func capRooms(t *testing.T, maxTotal int) (*rooms, *Service, *fakeStore) {
	t.Helper()
	roomsCfg := DefaultConfig().Rooms
	histCfg := DefaultConfig().History
	histCfg.MaxBytes = 8 << 10
	histCfg.MaxTotalBytes = maxTotal
	st := &fakeStore{}
	r := newRooms(roomsCfg, histCfg, map[string]bool{}, func(any) []byte { return nil }, WithHistoryStore(st))
	return r, &Service{rooms: r}, st
}

// say publishes n bytes or so of data to rm from s, its only member or a
// member whose deliveries are skipped.
func say(svc *Service, rm *room, s *session, n int) uint64 {
	data, _ := json.Marshal(strings.Repeat("x", n))
	return rm.publish(svc, &wire.Message{Type: wire.TypeMessage, Sender: s.name, Room: rm.name, Data: data, TS: time.Now().UnixMilli()}, s)
}

// keptBytes sums what every history keeps, of rooms with members and idle
// ones, and checks that the registry's counter agrees.
func keptBytes(t *testing.T, r *rooms) int64 {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var sum int64
	for _, h := range r.idle {
		sum += int64(h.bytes)
	}
	for _, rm := range r.byName {
		rm.mu.RLock()
		n := 0
		for _, e := range rm.hist.entries {
			n += len(e.body())
		}
		if n != rm.hist.bytes {
			t.Errorf("room %s counts %d bytes, keeps %d", rm.name, rm.hist.bytes, n)
		}
		sum += int64(n)
		rm.mu.RUnlock()
	}
	if got := r.hist.total.Load(); got != sum {
		t.Fatalf("total %d, histories keep %d", got, sum)
	}
	return sum
}

// TestHistoryTotalCap: chat.history.max_total_bytes bounds what all
// histories keep. Rooms joined, filled and left (the review's flood: new
// rooms, 5 messages each, left) keep the total under the cap, dropping
// the kept rooms emptied longest ago; a busy room with members keeps its
// newest messages while they are dropped; rooms with members alone over
// the cap lose the oldest messages of the biggest, down to 7/8 of it.
func TestHistoryTotalCap(t *testing.T) {
	const maxTotal = 64 << 10

	t.Run("kept rooms go first", func(t *testing.T) {
		r, svc, st := capRooms(t, maxTotal)
		flooder, bob := &session{name: "mallory"}, &session{name: "bob"}
		busy, _, _, _, err := r.join(bob, "busy", nil)
		if err != nil {
			t.Fatal(err)
		}
		var busySeqs []uint64
		for i := range 300 {
			name := fmt.Sprint("flood", i)
			rm, _, _, _, err := r.join(flooder, name, nil)
			if err != nil {
				t.Fatal(err)
			}
			for range 5 {
				say(svc, rm, flooder, 1500)
				if got := keptBytes(t, r); got > maxTotal {
					t.Fatalf("room %d: %d bytes kept, cap %d", i, got, maxTotal)
				}
			}
			r.leave(flooder, rm, false, 0)
			busySeqs = append(busySeqs, say(svc, busy, bob, 200))
		}
		// busy keeps what max_bytes alone lets it keep: 8 KiB of its
		// newest ~300-byte messages.
		busy.mu.RLock()
		kept := keptSeqs(busy.hist)
		busy.mu.RUnlock()
		if len(kept) < 20 || !slices.Equal(kept, busySeqs[len(busySeqs)-len(kept):]) {
			t.Fatalf("busy keeps %v", kept)
		}
		// The kept rooms are the ones emptied last, in order.
		r.mu.Lock()
		var idle []string
		for e := r.idleOrder.Front(); e != nil; e = e.Next() {
			idle = append(idle, e.Value.(*roomHistory).name)
		}
		r.mu.Unlock()
		if len(idle) == 0 || idle[len(idle)-1] != "flood299" {
			t.Fatalf("kept rooms %v", idle)
		}
		for i, name := range idle {
			if want := fmt.Sprint("flood", 300-len(idle)+i); name != want {
				t.Fatalf("kept rooms %v: %s at %d, want %s", idle, name, i, want)
			}
		}
		if !slices.Contains(st.dropped, "flood0") {
			t.Fatalf("the store was not told: %v", st.dropped)
		}
	})

	t.Run("rooms with members trimmed, biggest first", func(t *testing.T) {
		r, svc, st := capRooms(t, maxTotal)
		small := &session{name: "sam"}
		smallRoom, _, _, _, _ := r.join(small, "small", nil)
		say(svc, smallRoom, small, 500)
		var big []*room
		for i := range 12 { // 12 x 8 KiB: over 64 KiB
			s := &session{name: fmt.Sprint("u", i)}
			rm, _, _, _, err := r.join(s, fmt.Sprint("big", i), nil)
			if err != nil {
				t.Fatal(err)
			}
			big = append(big, rm)
			for range 8 {
				say(svc, rm, s, 1000)
				if got := keptBytes(t, r); got > maxTotal {
					t.Fatalf("%d bytes kept, cap %d", got, maxTotal)
				}
			}
		}
		smallRoom.mu.RLock()
		if got := keptSeqs(smallRoom.hist); !slices.Equal(got, []uint64{1}) {
			t.Fatalf("the small room lost its message: %v", got)
		}
		smallRoom.mu.RUnlock()
		for _, rm := range big {
			rm.mu.RLock()
			h := rm.hist
			if len(h.entries) == 0 || h.entries[len(h.entries)-1].seq != h.seq || h.first()+uint64(len(h.entries)) != h.seq+1 {
				t.Fatalf("%s keeps %v of seq %d: not its newest", rm.name, keptSeqs(h), h.seq)
			}
			rm.mu.RUnlock()
		}
		if len(st.trims) == 0 {
			t.Fatal("the store was not told of the trims")
		}
	})

	t.Run("concurrent publishers and churn", func(t *testing.T) {
		r, svc, _ := capRooms(t, maxTotal)
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Go(func() {
				s := &session{name: fmt.Sprint("g", g)}
				stay, _, _, _, _ := r.join(s, fmt.Sprint("stay", g), nil)
				for i := range 200 {
					rm, _, _, _, err := r.join(s, fmt.Sprint("churn", g, "-", i), nil)
					if err != nil {
						t.Error(err)
						return
					}
					say(svc, rm, s, 1500)
					say(svc, stay, s, 1500)
					r.leave(s, rm, false, 0)
				}
			})
		}
		wg.Wait()
		// Once the publishers are done, the last evict left it under.
		if got := keptBytes(t, r); got > maxTotal {
			t.Fatalf("%d bytes kept, cap %d", got, maxTotal)
		}
	})
}

// TestTrimLevel: the level cuts the biggest sizes just enough.
func TestTrimLevel(t *testing.T) {
	for _, tc := range []struct {
		sizes  []int
		excess int64
		want   int
	}{
		{[]int{100}, 30, 70},
		{[]int{100, 10}, 30, 70},
		{[]int{100, 90, 10}, 30, 80},
		{[]int{50, 50, 50}, 30, 40},
		{[]int{50, 50, 50}, 31, 39},
		{[]int{10, 10}, 100, 0},
		{nil, 5, 0},
	} {
		got := trimLevel(tc.sizes, tc.excess)
		freed := int64(0)
		for _, s := range tc.sizes {
			freed += int64(max(s-got, 0))
		}
		if got != tc.want || (got > 0 && freed < tc.excess) {
			t.Errorf("trimLevel(%v, %d) = %d (frees %d), want %d", tc.sizes, tc.excess, got, freed, tc.want)
		}
	}
}

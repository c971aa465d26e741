package chat

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/chatd/chatd/server/history"
	"github.com/chatd/chatd/server/internal/wsframe"
	"github.com/chatd/chatd/server/wire"
)

// testHistoryConfig is chat.history's defaults with overrides, and a clock.
func testHistoryConfig(now *time.Time, mod func(*HistoryConfig)) historyConfig {
	c := DefaultConfig().History
	if mod != nil {
		mod(&c)
	}
	return newHistoryConfig(c, options{now: func() time.Time { return *now }})
}

// entry is a kept message of n bytes of JSON at ts.
func entry(seq uint64, ts int64, n int) histEntry {
	body := fmt.Sprintf(`{"seq":%d,"data":"%s"}`, seq, strings.Repeat("x", max(n-len(fmt.Sprintf(`{"seq":%d,"data":""}`, seq)), 0)))
	return histEntry{seq: seq, ts: ts, frame: wsframe.AppendFrame(nil, ws.OpText, []byte(body))}
}

func keptSeqs(h *roomHistory) []uint64 {
	var out []uint64
	for _, e := range h.entries {
		out = append(out, e.seq)
	}
	return out
}

// TestRoomHistoryBounds: the kept messages stay within the count, the
// bytes and the age, the newest kept, and the byte count is exact.
func TestRoomHistoryBounds(t *testing.T) {
	now := time.UnixMilli(1_000_000_000)
	for _, tc := range []struct {
		name  string
		mod   func(*HistoryConfig)
		sizes []int // bytes of each message, sent 1 ms apart
		want  []uint64
	}{
		{"count", func(c *HistoryConfig) { c.Messages = 3 }, []int{50, 50, 50, 50, 50}, []uint64{3, 4, 5}},
		{"bytes", func(c *HistoryConfig) { c.MaxBytes = 1024 }, []int{400, 400, 400, 400}, []uint64{3, 4}},
		{"bytes exactly", func(c *HistoryConfig) { c.MaxBytes = 1024 }, []int{24, 500, 500, 24}, []uint64{2, 3, 4}},
		{"too big for any", func(c *HistoryConfig) { c.MaxBytes = 1024 }, []int{100, 2000}, nil},
		{"small after too big", func(c *HistoryConfig) { c.MaxBytes = 1024 }, []int{100, 2000, 100}, []uint64{3}},
		{"off", func(c *HistoryConfig) { c.Messages = 0 }, []int{50, 50}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := testHistoryConfig(&now, tc.mod)
			h := &roomHistory{name: "r"}
			for i, n := range tc.sizes {
				e := entry(uint64(i+1), now.UnixMilli()+int64(i), n)
				if c.messages == 0 {
					e.frame = nil
				}
				h.appendLocked(e, &c, now.UnixMilli()+int64(i))
			}
			if got := keptSeqs(h); !slices.Equal(got, tc.want) {
				t.Fatalf("kept %v, want %v", got, tc.want)
			}
			if h.seq != uint64(len(tc.sizes)) {
				t.Fatalf("seq %d", h.seq)
			}
			size := 0
			for _, e := range h.entries {
				size += len(e.body())
			}
			if size != h.bytes || size > c.maxBytes {
				t.Fatalf("bytes %d counted, %d kept, max %d", h.bytes, size, c.maxBytes)
			}
		})
	}

	t.Run("age", func(t *testing.T) {
		c := testHistoryConfig(&now, func(c *HistoryConfig) { c.MaxAge = time.Hour })
		h := &roomHistory{name: "r"}
		t0 := now.UnixMilli()
		h.appendLocked(entry(1, t0, 50), &c, t0)
		h.appendLocked(entry(2, t0+int64(30*time.Minute/time.Millisecond), 50), &c, t0)
		at := now
		now = now.Add(time.Hour + time.Millisecond)
		h.expireLocked(&c)
		if got := keptSeqs(h); !slices.Equal(got, []uint64{2}) {
			t.Fatalf("an hour on: kept %v", got)
		}
		now = at.Add(2 * time.Hour)
		h.expireLocked(&c)
		if len(h.entries) != 0 || h.bytes != 0 || h.first() != 3 {
			t.Fatalf("all expired: %v, %d bytes, first %d", keptSeqs(h), h.bytes, h.first())
		}
		now = at
	})

	t.Run("memory", func(t *testing.T) {
		// A long run keeps the backing array within a small multiple of
		// the bound.
		c := testHistoryConfig(&now, func(c *HistoryConfig) { c.Messages = 100 })
		h := &roomHistory{name: "r"}
		for i := range 100_000 {
			h.appendLocked(entry(uint64(i+1), now.UnixMilli(), 40), &c, now.UnixMilli())
			if cap(h.entries) > 4*100 {
				t.Fatalf("after %d messages: cap %d", i+1, cap(h.entries))
			}
		}
	})
}

// TestSnapshot: a join's replay, recovered and missed, for every since.
func TestSnapshot(t *testing.T) {
	// seq 10, kept 6..10 (1..5 dropped as too old).
	h := &roomHistory{name: "r", seq: 10}
	for s := uint64(6); s <= 10; s++ {
		h.entries = append(h.entries, entry(s, 0, 30))
	}
	// The same after a crash: 1..4 kept, (4, 1004] possibly lost, then
	// 1005..1006.
	crashed := &roomHistory{name: "r", seq: 1006, lost: [2]uint64{4, 1004}}
	for _, s := range []uint64{1, 2, 3, 4, 1005, 1006} {
		crashed.entries = append(crashed.entries, entry(s, 0, 30))
	}
	for _, tc := range []struct {
		name      string
		h         *roomHistory
		since     uint64
		replay    []uint64
		recovered bool
		missed    uint64
	}{
		{"from 0", h, 0, []uint64{6, 7, 8, 9, 10}, false, 5},
		{"too old", h, 3, []uint64{6, 7, 8, 9, 10}, false, 2},
		{"just kept", h, 5, []uint64{6, 7, 8, 9, 10}, true, 0},
		{"middle", h, 8, []uint64{9, 10}, true, 0},
		{"up to date", h, 10, nil, true, 0},
		{"past the seq", h, 11, nil, false, 0},
		{"crash: before it", crashed, 2, []uint64{3, 4, 1005, 1006}, false, 0},
		{"crash: at its start", crashed, 4, []uint64{1005, 1006}, false, 0},
		{"crash: inside it", crashed, 7, []uint64{1005, 1006}, false, 0},
		{"crash: at its end", crashed, 1004, []uint64{1005, 1006}, true, 0},
		{"crash: after it", crashed, 1005, []uint64{1006}, true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			replay, recovered, missed := tc.h.snapshotLocked(tc.since)
			var got []uint64
			for _, e := range replay {
				got = append(got, e.seq)
			}
			if !slices.Equal(got, tc.replay) || recovered != tc.recovered || missed != tc.missed {
				t.Fatalf("replay %v recovered %v missed %d; want %v %v %d", got, recovered, missed, tc.replay, tc.recovered, tc.missed)
			}
		})
	}
}

// TestHistoryPage: the page math of the history request, including a hole
// left by a crash.
func TestHistoryPage(t *testing.T) {
	h := &roomHistory{name: "r", seq: 1006, lost: [2]uint64{4, 1004}}
	for _, s := range []uint64{2, 3, 4, 1005, 1006} {
		h.entries = append(h.entries, entry(s, 0, 30))
	}
	u := func(n uint64) *uint64 { return &n }
	for _, tc := range []struct {
		name          string
		before, after *uint64
		limit         int
		want          []uint64
		more          bool
	}{
		{"newest", nil, nil, 2, []uint64{1005, 1006}, true},
		{"all", nil, nil, 10, []uint64{2, 3, 4, 1005, 1006}, false},
		{"before the hole's end", u(1005), nil, 2, []uint64{3, 4}, true},
		{"before inside the hole", u(500), nil, 10, []uint64{2, 3, 4}, false},
		{"before the first", u(2), nil, 10, nil, false},
		{"after inside the hole", nil, u(500), 1, []uint64{1005}, true},
		{"after 0", nil, u(0), 3, []uint64{2, 3, 4}, true},
		{"after the last", nil, u(1006), 3, nil, false},
		{"after far past", nil, u(1 << 62), 3, nil, false},
		{"after the largest seq", nil, u(math.MaxUint64), 3, nil, false},
		{"after the largest seq but one", nil, u(math.MaxUint64 - 1), 3, nil, false},
		{"before the largest seq", u(math.MaxUint64), nil, 2, []uint64{1005, 1006}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page, more := h.pageLocked(tc.before, tc.after, tc.limit)
			var got []uint64
			for _, e := range page {
				got = append(got, e.seq)
			}
			if !slices.Equal(got, tc.want) || more != tc.more {
				t.Fatalf("page %v more %v, want %v %v", got, more, tc.want, tc.more)
			}
		})
	}
}

// TestIdleHistories: the registry keeps an emptied room's history, drops
// it max_age after the room emptied, counts kept ones against max_rooms
// (the one emptied longest ago goes first), and loads a store's rooms as
// kept ones.
func TestIdleHistories(t *testing.T) {
	now := time.UnixMilli(1_000_000_000)
	clock := WithClock(func() time.Time { return now })
	roomsCfg := DefaultConfig().Rooms
	roomsCfg.MaxRooms = 3
	histCfg := DefaultConfig().History
	histCfg.MaxAge = time.Hour
	encode := func(any) []byte { return nil }
	st := &fakeStore{}
	r := newRooms(roomsCfg, histCfg, map[string]bool{}, encode, clock, WithHistoryStore(st))
	s := &session{name: "alice"}
	send := func(name string) {
		rm, _, _, _, err := r.join(s, name, nil)
		if err != nil {
			t.Fatal(err)
		}
		svc := &Service{rooms: r}
		rm.publish(svc, &wire.Message{Type: wire.TypeMessage, Room: name, Data: json.RawMessage(`"x"`), TS: now.UnixMilli()}, s)
		r.leave(s, rm, false, 0)
	}
	seqOf := func(name string) uint64 {
		rm, _, snap, _, err := r.join(s, name, nil)
		if err != nil {
			t.Fatal(err)
		}
		r.leave(s, rm, false, 0)
		return snap.seq
	}
	send("a")
	send("a")
	if got := seqOf("a"); got != 2 {
		t.Fatalf("a's seq after emptying twice: %d", got)
	}
	now = now.Add(time.Minute)
	send("b")
	now = now.Add(time.Minute)
	send("c") // a, b, c kept: at max_rooms
	if len(r.idle) != 3 {
		t.Fatalf("kept %d", len(r.idle))
	}
	send("d") // creating d drops a, the one emptied longest ago
	if _, ok := r.idle["a"]; ok || len(r.idle) != 3 {
		t.Fatalf("kept %v", keys(r.idle))
	}
	if !slices.Contains(st.dropped, "a") {
		t.Fatalf("the store was not told: %v", st.dropped)
	}
	if got := seqOf("b"); got != 1 {
		t.Fatalf("b's seq %d", got)
	}
	// An hour after they emptied, the sweep drops them.
	now = now.Add(time.Hour + time.Minute)
	if got := seqOf("e"); got != 0 {
		t.Fatalf("e: %d", got)
	}
	if len(r.idle) != 0 || r.idleOrder.Len() != 0 {
		t.Fatalf("after max_age: kept %v", keys(r.idle))
	}

	// A store's rooms come back as kept ones, newest kept within the bounds.
	t0 := now.UnixMilli()
	st2 := &fakeStore{rooms: []history.Room{
		{Name: "old", Seq: 9, Entries: []history.Entry{{Seq: 9, TS: t0 - int64(2*time.Hour/time.Millisecond), Data: []byte(`{}`)}}},
		{Name: "x", Seq: 5, Entries: []history.Entry{{Seq: 4, TS: t0 - 3, Data: []byte(`{"a":1}`)}, {Seq: 5, TS: t0 - 2, Data: []byte(`{"a":2}`)}}},
		{Name: "y", Seq: 1007, Lost: [2]uint64{7, 1007}, Entries: []history.Entry{{Seq: 7, TS: t0 - 1, Data: []byte(`{}`)}}},
	}}
	r2 := newRooms(roomsCfg, histCfg, map[string]bool{}, encode, clock, WithHistoryStore(st2))
	if len(r2.idle) != 2 || r2.idle["x"] == nil || r2.idle["y"] == nil {
		t.Fatalf("loaded %v", keys(r2.idle))
	}
	if h := r2.idle["x"]; h.seq != 5 || !slices.Equal(keptSeqs(h), []uint64{4, 5}) || string(h.entries[1].body()) != `{"a":2}` || h.bytes != 14 {
		t.Fatalf("x: %+v", h)
	}
	if h := r2.idle["y"]; h.lost != [2]uint64{7, 1007} {
		t.Fatalf("y lost %v", h.lost)
	}
	if !slices.Contains(st2.dropped, "old") {
		t.Fatalf("an expired room was not dropped: %v", st2.dropped)
	}
}

func keys(m map[string]*roomHistory) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// fakeStore records what the registry tells its store.
// Its methods are called under different locks (a room's, rooms.mu): mu
// guards dropped and trims, which a test reads once its calls are done.
type fakeStore struct {
	rooms   []history.Room
	mu      sync.Mutex
	dropped []string
	trims   []string
}

func (f *fakeStore) Rooms() []history.Room                { return f.rooms }
func (f *fakeStore) Append(string, history.Entry, uint64) {}

func (f *fakeStore) Trim(room string, _ uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.trims = append(f.trims, room)
}

func (f *fakeStore) Drop(room string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dropped = append(f.dropped, room)
}

// TestReplayFrame: a replayed message is the frame a live member of the
// same format got.
func TestReplayFrame(t *testing.T) {
	svc := &Service{}
	m := wire.Message{Type: wire.TypeMessage, ID: 7, Sender: "alice", Room: "dev", Data: json.RawMessage(`"hi"`), TS: 1, Seq: 3}
	live := map[format][]byte{}
	for _, f := range []format{formatAuto, formatJSON, formatText} {
		live[f] = svc.messageFrame(&m, f, "bob")
	}
	e := histEntry{seq: 3, ts: 1, frame: live[formatJSON]}
	for f, want := range live {
		if got := svc.replayFrame(e, f, "bob"); string(got) != string(want) {
			t.Fatalf("format %d: replay %q, live %q", f, got, want)
		}
	}
}

// FuzzHistoryRequest: the seq cursors and since of any request parse
// without panicking, and what parses is a whole number that reads back
// the same; a request that parses gets the page a plain filter of the kept
// messages gives (checkPage), whatever its cursor, up to 2^64-1.
func FuzzHistoryRequest(f *testing.F) {
	for _, seed := range []string{
		`{"type":"history","room":"dev","limit":5}`,
		`{"type":"history","room":"dev","before":12,"limit":5}`,
		`{"type":"history","room":"dev","after":"3"}`,
		`{"type":"history","room":"dev","after":-1}`,
		`{"type":"history","room":"dev","after":1e3}`,
		`{"type":"history","room":"dev","before":18446744073709551615}`,
		`{"type":"history","room":"dev","after":18446744073709551615}`,
		`{"type":"history","room":"dev","after":"18446744073709551614","limit":2}`,
		`{"type":"history","room":"dev","after":1004,"limit":1}`,
		`{"type":"join","room":"dev","since":0}`,
		`{"type":"join","room":"dev","since":null}`,
		`{"type":"join","room":"dev","since":"7"}`,
		`{"type":"join","room":"dev","since": 42 }`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var req wire.Request
		if json.Unmarshal(b, &req) != nil {
			return
		}
		for _, c := range []wire.Cursor{req.Before, req.After} {
			n, err := parseCursor(c, "after")
			switch {
			case err != nil:
				if !strings.Contains(err.Error(), `"after" must be a seq`) {
					t.Fatalf("cursor %q: %v", c, err)
				}
			case n == nil:
				if c != "" {
					t.Fatalf("cursor %q read as none", c)
				}
			case strings.TrimLeft(string(c), "0") != strings.TrimLeft(fmt.Sprint(*n), "0"):
				t.Fatalf("cursor %q read as %d", c, *n)
			}
		}
		n, err := parseSince(req.Since)
		if err == nil && n != nil {
			var back uint64
			if json.Unmarshal(req.Since, &back) != nil || back != *n {
				t.Fatalf("since %s read as %d", req.Since, *n)
			}
		}
		before, err1 := parseCursor(req.Before, "before")
		after, err2 := parseCursor(req.After, "after")
		if err1 == nil && err2 == nil && (before == nil || after == nil) {
			checkPage(t, before, after, pageLimit(req.Limit, 4))
		}
	})
}

// checkPage checks a page of a history with a crash's hole (2, 3, 4,
// 1005, 1006) against a plain filter of its messages: the first limit
// after after, or the last limit before before (or of all), and more set
// exactly when the filter had more.
func checkPage(t *testing.T, before, after *uint64, limit int) {
	h := &roomHistory{name: "r", seq: 1006, lost: [2]uint64{4, 1004}}
	for _, s := range []uint64{2, 3, 4, 1005, 1006} {
		h.entries = append(h.entries, entry(s, 0, 30))
	}
	var match []uint64
	for _, e := range h.entries {
		if (after == nil || e.seq > *after) && (before == nil || e.seq < *before) {
			match = append(match, e.seq)
		}
	}
	want, wantMore := match, len(match) > limit
	switch {
	case wantMore && after != nil:
		want = match[:limit]
	case wantMore:
		want = match[len(match)-limit:]
	}
	page, more := h.pageLocked(before, after, limit)
	if got := keptSeqs(&roomHistory{entries: page}); !slices.Equal(got, want) || more != wantMore {
		t.Fatalf("before %v after %v limit %d: page %v more %v, want %v %v", fmtCursor(before), fmtCursor(after), limit, got, more, want, wantMore)
	}
}

func fmtCursor(c *uint64) string {
	if c == nil {
		return "none"
	}
	return fmt.Sprint(*c)
}

// BenchmarkHistoryAppend is what history adds to each room message under
// the room's lock: recording it (dropping the oldest past 100 messages),
// and with a durable store, queueing it for the store's next write (the
// writes themselves run every 100 ms on the store's goroutine).
func BenchmarkHistoryAppend(b *testing.B) {
	frame := svcFrame(`{"type":"message","id":1763740000123000,"sender":"alice","room":"dev","data":"a message of some forty bytes, typical","ts":1763740000123,"seq":1}`)
	for _, durable := range []bool{false, true} {
		name := "memory"
		if durable {
			name = "durable"
		}
		b.Run(name, func(b *testing.B) {
			now := time.Now()
			var o options
			if durable {
				st, err := history.Open(history.Config{Dir: b.TempDir()}, nil)
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { st.Close() })
				o.store = st
			}
			c := newHistoryConfig(DefaultConfig().History, o)
			h := &roomHistory{name: "dev"}
			ts := now.UnixMilli()
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				e := histEntry{seq: uint64(i + 1), ts: ts, frame: frame}
				h.appendLocked(e, &c, ts)
				if c.store != nil {
					c.store.Append(h.name, history.Entry{Seq: e.seq, TS: e.ts, Data: e.body()}, h.first())
				}
			}
		})
	}
}

func svcFrame(body string) []byte { return wsframe.AppendFrame(nil, ws.OpText, []byte(body)) }

package history

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap/zaptest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// clock is a settable time source for WithClock.
type clock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// openTest opens a Store in dir (a new temporary one if empty) with the
// flush interval an hour unless cfg sets it, so only Sync and Close write,
// and closes it when the test ends.
func openTest(tb testing.TB, cfg Config, opts ...Option) *Store {
	tb.Helper()
	if cfg.Dir == "" {
		cfg.Dir = tb.TempDir()
	}
	if cfg.FlushInterval == 0 {
		cfg.FlushInterval = time.Hour
	}
	s, err := Open(cfg, zaptest.NewLogger(tb), opts...)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

// msg is entry seq of room at ts, with data naming both.
func msg(room string, seq uint64, ts int64) Entry {
	return Entry{Seq: seq, TS: ts, Data: fmt.Appendf(nil, `{"room":%q,"seq":%d}`, room, seq)}
}

// appendRange appends seqs from..to of room at ts, keeping the last keep
// (0: all).
func appendRange(s *Store, room string, from, to uint64, ts int64, keep uint64) {
	for seq := from; seq <= to; seq++ {
		first := uint64(1)
		if keep > 0 && seq > keep {
			first = seq - keep + 1
		}
		s.Append(room, msg(room, seq, ts), first)
	}
}

// byName returns the rooms Open loaded, by name, checking each entry's data.
func byName(tb testing.TB, s *Store) map[string]Room {
	tb.Helper()
	out := map[string]Room{}
	for _, r := range s.Rooms() {
		for _, e := range r.Entries {
			if want := msg(r.Name, e.Seq, e.TS); string(e.Data) != string(want.Data) {
				tb.Fatalf("room %s seq %d: data %s", r.Name, e.Seq, e.Data)
			}
		}
		out[r.Name] = r
	}
	return out
}

func seqsOf(r Room) []uint64 {
	var out []uint64
	for _, e := range r.Entries {
		out = append(out, e.Seq)
	}
	return out
}

func wantRoom(tb testing.TB, r Room, seq uint64, entries []uint64, lost [2]uint64) {
	tb.Helper()
	if r.Seq != seq || !slices.Equal(seqsOf(r), entries) || r.Lost != lost {
		tb.Fatalf("room %q: seq %d entries %v lost %v; want %d %v %v", r.Name, r.Seq, seqsOf(r), r.Lost, seq, entries, lost)
	}
}

func seqRange(from, to uint64) []uint64 {
	var out []uint64
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
}

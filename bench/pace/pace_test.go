package pace

import (
	"context"
	"testing"
	"time"
)

// fakeClock advances only when Run sleeps, by the time asked, plus a stall
// at chosen moments, so a test can simulate a generator that falls behind.
type fakeClock struct {
	now    time.Time
	stalls map[int]time.Duration // sleep number → extra delay
	sleeps int
}

func (c *fakeClock) Now() time.Time { return c.now }

func (c *fakeClock) SleepUntil(_ context.Context, t time.Time) {
	c.sleeps++
	if t.After(c.now) {
		c.now = t
	}
	c.now = c.now.Add(c.stalls[c.sleeps])
}

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestScheduleAtAndDue(t *testing.T) {
	s := Schedule{Start: t0, Rate: 1000}
	cases := []struct {
		name string
		now  time.Time
		due  int64
	}{
		{"before start", t0.Add(-time.Second), 0},
		{"at start", t0, 1},
		{"just before the second", t0.Add(999 * time.Microsecond), 1},
		{"at the second", t0.Add(time.Millisecond), 2},
		{"one second in", t0.Add(time.Second), 1001},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := s.Due(tc.now); got != tc.due {
				t.Fatalf("Due = %d, want %d", got, tc.due)
			}
		})
	}
	if got := s.At(1500); !got.Equal(t0.Add(1500 * time.Millisecond)) {
		t.Fatalf("At(1500) = %v", got)
	}
	// Rates that are not a whole number of events per second.
	odd := Schedule{Start: t0, Rate: 3}
	for k := range int64(100) {
		if got := odd.Due(odd.At(k)); got != k+1 {
			t.Fatalf("rate 3: Due(At(%d)) = %d", k, got)
		}
	}
}

func TestRunKeepsIntendedTimes(t *testing.T) {
	// Sleep 3 stalls for 50 ms: the 50 events due meanwhile must come out
	// at once afterwards, each with its own intended time (no coordinated
	// omission), and the total must stay rate × duration.
	clk := &fakeClock{now: t0, stalls: map[int]time.Duration{3: 50 * time.Millisecond}}
	s := Schedule{Start: t0, Rate: 1000}
	end := t0.Add(100 * time.Millisecond)
	var got []time.Time
	var lagMax time.Duration
	n := Run(context.Background(), clk, s, end, -1, func(k int64, at time.Time) bool {
		if !at.Equal(s.At(k)) {
			t.Fatalf("event %d at %v, want %v", k, at, s.At(k))
		}
		got = append(got, at)
		lagMax = max(lagMax, clk.Now().Sub(at))
		return true
	})
	if n != 100 || len(got) != 100 {
		t.Fatalf("emitted %d (%d), want 100", n, len(got))
	}
	if lagMax < 49*time.Millisecond {
		t.Fatalf("the stall is invisible: max lag %v", lagMax)
	}
	if clk.sleeps > 60 {
		t.Fatalf("%d sleeps for 100 events with a 50-event stall: overdue events were not batched", clk.sleeps)
	}
}

func TestRunStops(t *testing.T) {
	s := Schedule{Start: t0, Rate: 100}
	cases := []struct {
		name  string
		limit int64
		stop  int64 // emit returns false at this k (-1 never)
		want  int64
	}{
		{"limit", 7, -1, 7},
		{"emit false", -1, 4, 4},
		{"end", -1, -1, 10},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clk := &fakeClock{now: t0}
			n := Run(context.Background(), clk, s, t0.Add(100*time.Millisecond), tc.limit, func(k int64, _ time.Time) bool {
				return k != tc.stop
			})
			if n != tc.want {
				t.Fatalf("emitted %d, want %d", n, tc.want)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if n := Run(ctx, &fakeClock{now: t0}, s, time.Time{}, -1, func(int64, time.Time) bool { return true }); n != 0 {
		t.Fatalf("canceled: emitted %d", n)
	}
}

func TestRealClockSleepUntil(t *testing.T) {
	start := time.Now()
	RealClock{}.SleepUntil(context.Background(), start.Add(5*time.Millisecond))
	if d := time.Since(start); d < 5*time.Millisecond {
		t.Fatalf("woke after %v", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start = time.Now()
	RealClock{}.SleepUntil(ctx, start.Add(time.Hour))
	if d := time.Since(start); d > time.Second {
		t.Fatalf("canceled sleep took %v", d)
	}
}

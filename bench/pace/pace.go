package pace

import (
	"context"
	"math"
	"time"
)

// Schedule is an open-loop schedule: event k (from 0) is due at
// Start + k/Rate. A Schedule is a value and safe for concurrent use.
type Schedule struct {
	Start time.Time
	Rate  float64 // events per second, > 0
}

// At is the intended time of event k.
func (s Schedule) At(k int64) time.Time {
	return s.Start.Add(time.Duration(float64(k) * float64(time.Second) / s.Rate))
}

// Due is the number of events due by now: the k with At(k) <= now.
func (s Schedule) Due(now time.Time) int64 {
	d := now.Sub(s.Start)
	if d < 0 {
		return 0
	}
	n := int64(math.Floor(d.Seconds()*s.Rate)) + 1
	// Floating point may be off by one either way at the boundary.
	for n > 0 && s.At(n-1).After(now) {
		n--
	}
	for !s.At(n).After(now) {
		n++
	}
	return n
}

// Clock is the time source of Run.
type Clock interface {
	Now() time.Time
	// SleepUntil returns at t or when ctx ends, whichever is first.
	SleepUntil(ctx context.Context, t time.Time)
}

// RealClock is the wall clock.
type RealClock struct{}

// Now is time.Now.
func (RealClock) Now() time.Time { return time.Now() }

// SleepUntil sleeps until t or until ctx ends.
func (RealClock) SleepUntil(ctx context.Context, t time.Time) {
	d := time.Until(t)
	if d <= 0 {
		return
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
	case <-tm.C:
	}
}

// Run emits the events of s that are due before end, in order, until ctx
// ends, limit events were emitted (limit < 0: no limit), or emit returns
// false. It returns the number emitted. Events that are overdue when Run
// wakes are emitted at once, each with its own intended time.
func Run(ctx context.Context, clk Clock, s Schedule, end time.Time, limit int64, emit func(k int64, at time.Time) bool) int64 {
	var k int64
	for ctx.Err() == nil && (limit < 0 || k < limit) {
		at := s.At(k)
		if !end.IsZero() && !at.Before(end) {
			break
		}
		if now := clk.Now(); at.After(now) {
			clk.SleepUntil(ctx, at)
			continue
		}
		if !emit(k, at) {
			break
		}
		k++
	}
	return k
}

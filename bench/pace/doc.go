// Package pace drives open-loop load: events are due at fixed times
// computed from the start and the rate, Start + k/Rate for the k-th, never
// from when the previous one finished.
//
// A closed-loop generator waits for each reply before sending the next, so
// when the server stalls it simply sends less, and the stall shows up as a
// handful of slow samples instead of the thousands of requests that real
// clients would have queued meanwhile ("coordinated omission"). Here every
// event keeps its intended time: if the generator falls behind (the server
// pushed back, the box was busy), Run hands out the overdue events at once,
// each with the time it was due, and latency is measured from that time.
// The lag between the intended and the actual send time is reported
// separately, so a slow client is visible as such.
//
// Run sleeps until the next event is due, then emits every event due by
// now. A Clock is injected so tests can run schedules on fake time.
package pace

// Package trend judges whether a resource stays flat over a long run: the
// server's RSS, open files and goroutines, and the per-interval p99
// latency, sampled every few seconds by chatbench soak.
//
// A run has a warm-up (connections opening, caches and pools filling,
// the heap finding its size) that is left out. The window after it is cut
// into quarters, and a resource is flat when the median of its last
// quarter is within a ratio (plus an absolute slack, so that small
// numbers do not fail on noise) of the median of its first quarter.
// Medians ignore a garbage collector's sawtooth and a single spike; a
// leak, however slow, moves the last quarter away from the first.
//
// The least-squares slope over the same window is reported as growth per
// hour, to say how fast something grows; it is not the criterion, since a
// slope fitted to a sawtooth depends on where the teeth fall.
//
// Everything here is a pure function of its inputs and safe for
// concurrent use.
package trend

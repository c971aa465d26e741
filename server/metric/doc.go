// Package metric holds the few lock-free instruments chatd's packages
// count with on their hot paths: a fixed-bucket Histogram of int64 values.
// It depends on the standard library only, so the chat service and the
// server count without importing a metrics library; the admin listener
// (package admin) reads snapshots at scrape time and exports them to
// Prometheus.
//
// # Cost
//
// Observe is a short linear search over the bounds (a dozen at most) and
// two atomic adds: no lock, no allocation, no map. Snapshot reads the
// atomics one by one, so a snapshot taken while values are observed may
// count an observation in the sum and not yet in its bucket; each value
// is exact once the observers have stopped, which is all tests need.
//
// # Concurrency
//
// Every method is safe for concurrent use.
package metric

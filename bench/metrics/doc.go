// Package metrics records what a chatbench worker measures, in a form the
// parent can merge across worker processes.
//
// Latencies go into HDR histograms (github.com/HdrHistogram/hdrhistogram-go)
// of microseconds, 1 µs to 5 minutes at 3 significant digits, so p50 through
// p99.9 and the max are exact to 0.1% whatever the number of samples. A
// histogram crosses the process boundary in HDR's compressed V2 encoding
// (base64 text) and merges without loss: the percentiles of the merged
// histogram are the percentiles of all samples of all workers.
//
// A Set holds named histograms, named counters, errors counted by cause,
// close codes counted by code, and a Series: per-second counters (sent,
// delivered, …) and one coarse histogram per second (2 significant digits)
// for plotting latency over time. Seconds are counted from a start time
// that the parent hands to every worker, so the buckets of different
// processes line up.
//
// A Recorder is a Set behind a few locks, sharded by a caller-chosen key
// (a connection index), so thousands of reading goroutines can record
// concurrently. Data is the JSON form of a Set.
package metrics

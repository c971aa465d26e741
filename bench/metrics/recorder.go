package metrics

import (
	"sync"
	"time"
)

// shards spreads recording over this many locks.
const shards = 8

// Recorder is a Set that many goroutines record into at once. Each call
// names a key (typically the connection index); calls with keys in the same
// shard serialise on that shard's lock, calls in different shards do not.
// Set merges the shards. A Recorder is safe for concurrent use.
type Recorder struct {
	start  time.Time
	step   time.Duration
	shards [shards]recShard
}

type recShard struct {
	mu  sync.Mutex // guards set
	set *Set
	_   [40]byte // keep shards on separate cache lines
}

// NewRecorder returns an empty Recorder whose series starts at start and
// has steps of step (1s when 0).
func NewRecorder(start time.Time, step time.Duration) *Recorder {
	r := &Recorder{start: start, step: step}
	for i := range r.shards {
		r.shards[i].set = r.newSet()
	}
	return r
}

func (r *Recorder) newSet() *Set {
	s := NewSet(r.start)
	if r.step > 0 {
		s.Series.Step = r.step
	}
	return s
}

func (r *Recorder) shard(key int) *recShard {
	if key < 0 {
		key = -key
	}
	return &r.shards[key%shards]
}

// Latency records d in histogram name. With series set it is also recorded
// in the per-second latency series, in the step of at.
func (r *Recorder) Latency(key int, name string, d time.Duration, at time.Time, series bool) {
	s := r.shard(key)
	s.mu.Lock()
	s.set.Hist(name).Record(d)
	if series {
		s.set.Series.Latency(at, d)
	}
	s.mu.Unlock()
}

// Count adds n to counter name and, when at is not zero, to the series of
// that name in the step of at.
func (r *Recorder) Count(key int, name string, n int64, at time.Time) {
	s := r.shard(key)
	s.mu.Lock()
	s.set.Counters[name] += n
	if !at.IsZero() {
		s.set.Series.Add(name, at, n)
	}
	s.mu.Unlock()
}

// Error counts one error of cause.
func (r *Recorder) Error(key int, cause string) {
	s := r.shard(key)
	s.mu.Lock()
	s.set.Errors[cause]++
	s.mu.Unlock()
}

// Close counts one server close with code.
func (r *Recorder) Close(key int, code int) {
	s := r.shard(key)
	s.mu.Lock()
	s.set.Closes[code]++
	s.mu.Unlock()
}

// Set returns the merge of everything recorded so far.
func (r *Recorder) Set() *Set {
	out := r.newSet()
	for i := range r.shards {
		s := &r.shards[i]
		s.mu.Lock()
		out.Merge(s.set)
		s.mu.Unlock()
	}
	return out
}

package metrics

import (
	"maps"
	"slices"
	"time"
)

// Set is everything one worker (or, merged, the whole run) measured. It is
// not safe for concurrent use; see Recorder.
type Set struct {
	Hists    map[string]*Hist // by name: "latency", "connect", …
	Counters map[string]int64 // by name: "sent", "delivered", …
	Errors   map[string]int64 // by cause (see wsconn.Classify)
	Closes   map[int]int64    // server close codes by code; 1006 without a close frame
	Series   Series
}

// NewSet returns an empty Set whose series starts at start.
func NewSet(start time.Time) *Set {
	return &Set{
		Hists:    map[string]*Hist{},
		Counters: map[string]int64{},
		Errors:   map[string]int64{},
		Closes:   map[int]int64{},
		Series:   Series{Start: start, Step: time.Second, Counts: map[string][]int64{}},
	}
}

// Hist returns the histogram name, creating it empty.
func (s *Set) Hist(name string) *Hist {
	h := s.Hists[name]
	if h == nil {
		h = NewHist()
		s.Hists[name] = h
	}
	return h
}

// Merge adds o to s. The series must share the start time and step.
func (s *Set) Merge(o *Set) {
	for name, h := range o.Hists {
		s.Hist(name).Merge(h)
	}
	for k, v := range o.Counters {
		s.Counters[k] += v
	}
	for k, v := range o.Errors {
		s.Errors[k] += v
	}
	for k, v := range o.Closes {
		s.Closes[k] += v
	}
	s.Series.merge(&o.Series)
}

// Series is per-step counters and a coarse latency histogram per step,
// counted from Start.
type Series struct {
	Start  time.Time
	Step   time.Duration
	Counts map[string][]int64
	Lat    []*Hist
}

// bucket is the index of t's step, or -1 before Start.
func (s *Series) bucket(t time.Time) int {
	d := t.Sub(s.Start)
	if d < 0 {
		return -1
	}
	return int(d / s.Step)
}

// Add counts n events named name at t.
func (s *Series) Add(name string, t time.Time, n int64) {
	i := s.bucket(t)
	if i < 0 {
		return
	}
	c := s.Counts[name]
	for len(c) <= i {
		c = append(c, 0)
	}
	c[i] += n
	s.Counts[name] = c
}

// Latency records d in the step of t.
func (s *Series) Latency(t time.Time, d time.Duration) {
	i := s.bucket(t)
	if i < 0 {
		return
	}
	for len(s.Lat) <= i {
		s.Lat = append(s.Lat, nil)
	}
	if s.Lat[i] == nil {
		s.Lat[i] = newCoarseHist()
	}
	s.Lat[i].Record(d)
}

// Len is the number of steps with any data.
func (s *Series) Len() int {
	n := len(s.Lat)
	for _, c := range s.Counts {
		n = max(n, len(c))
	}
	return n
}

// Names are the counter names, sorted.
func (s *Series) Names() []string { return slices.Sorted(maps.Keys(s.Counts)) }

func (s *Series) merge(o *Series) {
	for name, c := range o.Counts {
		mine := s.Counts[name]
		for len(mine) < len(c) {
			mine = append(mine, 0)
		}
		for i, v := range c {
			mine[i] += v
		}
		s.Counts[name] = mine
	}
	for len(s.Lat) < len(o.Lat) {
		s.Lat = append(s.Lat, nil)
	}
	for i, h := range o.Lat {
		if h == nil {
			continue
		}
		if s.Lat[i] == nil {
			s.Lat[i] = newCoarseHist()
		}
		s.Lat[i].Merge(h)
	}
}

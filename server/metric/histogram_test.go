package metric

import (
	"sync"
	"testing"
)

func TestHistogram(t *testing.T) {
	h := NewHistogram(1, 10, 100)
	for _, v := range []int64{0, 1, 2, 10, 11, 100, 1000} {
		h.Observe(v)
	}
	s := h.Snapshot()
	want := []uint64{2, 4, 6}
	for i, w := range want {
		if s.Counts[i] != w {
			t.Errorf("bucket le=%d: %d, want %d", s.Bounds[i], s.Counts[i], w)
		}
	}
	if s.Count != 7 || s.Sum != 1124 {
		t.Errorf("count %d sum %d, want 7 and 1124", s.Count, s.Sum)
	}
}

func TestHistogramConcurrent(t *testing.T) {
	h := NewHistogram(DurationBounds(1, 2)...)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 1000 {
				h.Observe(1)
			}
		})
	}
	wg.Wait()
	if s := h.Snapshot(); s.Count != 4000 || s.Counts[0] != 4000 || s.Sum != 4000 {
		t.Errorf("snapshot %+v, want 4000 observations of 1", s)
	}
}

func TestHistogramBoundsMustIncrease(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic for bounds 2, 1")
		}
	}()
	NewHistogram(2, 1)
}

func BenchmarkObserve(b *testing.B) {
	h := NewHistogram(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
	for i := 0; b.Loop(); i++ {
		h.Observe(int64(i & 1023))
	}
}

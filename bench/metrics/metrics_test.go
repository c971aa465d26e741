package metrics

import (
	"encoding/json"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// TestMergeAcrossProcs records the same samples once into one histogram
// and once split over three "workers" whose sets travel as JSON; the
// merged percentiles must equal the direct ones exactly.
func TestMergeAcrossProcs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	direct := NewSet(t0)
	workers := []*Set{NewSet(t0), NewSet(t0), NewSet(t0)}
	for i := range 30000 {
		d := time.Duration(rng.ExpFloat64() * float64(2*time.Millisecond))
		if i%1000 == 0 {
			d = time.Duration(rng.IntN(5000)) * time.Millisecond // a tail
		}
		at := t0.Add(time.Duration(i) * time.Millisecond)
		for _, s := range []*Set{direct, workers[i%3]} {
			s.Hist("latency").Record(d)
			s.Series.Latency(at, d)
			s.Series.Add("sent", at, 1)
			s.Counters["sent"]++
		}
	}
	workers[0].Errors["connect: refused"] = 2
	workers[2].Errors["connect: refused"] = 3
	workers[1].Closes[4008] = 1

	var datas []Data
	for _, w := range workers {
		d, err := w.Data()
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(d) // across the process boundary
		if err != nil {
			t.Fatal(err)
		}
		var back Data
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		datas = append(datas, back)
	}
	merged, err := MergeData(datas, t0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := merged.Hist("latency").Summary(), direct.Hist("latency").Summary(); got != want {
		t.Fatalf("merged %+v\nwant   %+v", got, want)
	}
	if merged.Counters["sent"] != 30000 || merged.Errors["connect: refused"] != 5 || merged.Closes[4008] != 1 {
		t.Fatalf("counters %v errors %v closes %v", merged.Counters, merged.Errors, merged.Closes)
	}
	if n := merged.Series.Len(); n != 30 {
		t.Fatalf("series has %d steps, want 30", n)
	}
	for i := range 30 {
		if merged.Series.Counts["sent"][i] != 1000 {
			t.Fatalf("step %d: %d sent", i, merged.Series.Counts["sent"][i])
		}
		if got, want := merged.Series.Lat[i].Quantile(99), direct.Series.Lat[i].Quantile(99); got != want {
			t.Fatalf("step %d p99 %v, want %v", i, got, want)
		}
	}
}

func TestSummaryPrecision(t *testing.T) {
	h := NewHist()
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * time.Millisecond)
	}
	s := h.Summary()
	check := func(name string, got, want float64) {
		if got < want*0.999 || got > want*1.001 {
			t.Errorf("%s = %v µs, want %v ± 0.1%%", name, got, want)
		}
	}
	check("p50", s.P50, 500_000)
	check("p99", s.P99, 990_000)
	check("p99.9", s.P999, 999_000)
	check("max", s.Max, 1_000_000)
	if s.Count != 1000 {
		t.Errorf("count %d", s.Count)
	}
	h.Record(-time.Second)   // clamped to 1 µs, not lost
	h.Record(10 * time.Hour) // clamped to the top
	if h.Count() != 1002 {
		t.Errorf("out-of-range samples lost: %d", h.Count())
	}
	if NewHist().Summary() != (Summary{}) {
		t.Error("empty summary not zero")
	}
}

func TestRecorderConcurrent(t *testing.T) {
	r := NewRecorder(t0, 0)
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 1000 {
				at := t0.Add(time.Duration(i) * time.Millisecond)
				r.Latency(g, "latency", time.Millisecond, at, true)
				r.Count(g, "delivered", 1, at)
				if i%100 == 0 {
					r.Error(g, "x")
					r.Close(g, 1006)
				}
			}
		})
	}
	wg.Wait()
	s := r.Set()
	if s.Hist("latency").Count() != 16000 || s.Counters["delivered"] != 16000 || s.Errors["x"] != 160 || s.Closes[1006] != 160 {
		t.Fatalf("lost updates: %d %v %v %v", s.Hist("latency").Count(), s.Counters, s.Errors, s.Closes)
	}
}

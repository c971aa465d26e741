package report

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/bench/check"
	"github.com/chatd/chatd/bench/metrics"
)

func sample(t *testing.T) *Report {
	t.Helper()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	set := metrics.NewSet(start)
	for i := range 3000 {
		at := start.Add(time.Duration(i) * time.Millisecond)
		set.Hist("latency").Record(time.Duration(i%100) * 10 * time.Microsecond)
		set.Series.Latency(at, time.Duration(i%100)*10*time.Microsecond)
		set.Series.Add("sent", at, 1)
		set.Series.Add("delivered", at, 1)
	}
	invs := []check.Invariant{{Name: "a", Pass: true, Detail: "fine"}, {Name: "b", Pass: false, Detail: "2 missing"}}
	r := &Report{
		Scenario: "private", URL: "ws://127.0.0.1:1/ws", Started: start, Seconds: 3, Procs: 1,
		Conns:      Conns{Requested: 10, Opened: 10},
		Metrics:    []Metric{{Name: "deliveries/s", Value: 1000, Unit: "deliveries/s"}},
		Latency:    map[string]metrics.Summary{"latency": set.Hist("latency").Summary()},
		Curves:     map[string][]metrics.Point{"latency": set.Hist("latency").Curve()},
		Errors:     map[string]int64{"server: rate limit": 2},
		Closes:     map[string]int64{"4008": 1},
		Series:     SeriesOf(&set.Series, "delivered"),
		Phases:     []Phase{{Name: "ready", At: 0.5}},
		Invariants: invs,
	}
	r.Passed, r.Failed = check.Count(invs)
	return r
}

func TestJSONRoundTrip(t *testing.T) {
	r := sample(t)
	path := filepath.Join(t.TempDir(), "r.json")
	if err := r.WriteJSON(path); err != nil {
		t.Fatal(err)
	}
	back, err := ReadJSON(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Latency, r.Latency) || !reflect.DeepEqual(back.Series, r.Series) ||
		!reflect.DeepEqual(back.Invariants, r.Invariants) || back.Failed != 1 || back.Passed != 1 {
		t.Fatalf("round trip changed the report:\n%+v\n%+v", back, r)
	}
	if v, ok := back.Metric("deliveries/s"); !ok || v != 1000 {
		t.Fatalf("Metric = %v %v", v, ok)
	}
	b, _ := os.ReadFile(path)
	for _, key := range []string{`"p99_us"`, `"p99_9_us"`, `"close_codes"`, `"invariants"`, `"series"`} {
		if !bytes.Contains(b, []byte(key)) {
			t.Errorf("JSON lacks %s", key)
		}
	}
	if len(r.Series.Seconds) != 3 || r.Series.Sent[1] != 1000 {
		t.Fatalf("series %+v", r.Series)
	}
}

func TestTable(t *testing.T) {
	var b strings.Builder
	sample(t).Table(&b)
	out := b.String()
	for _, want := range []string{"deliveries/s", "latency (ms)", "p99.9", "server: rate limit: 2", "4008: 1", "FAIL  b: 2 missing"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if !strings.HasSuffix(out, "\n1 passed, 1 failed\n") {
		t.Errorf("table does not end with the closing line:\n%s", out)
	}
}

func TestPlots(t *testing.T) {
	dir := t.TempDir()
	paths, err := sample(t).Plots(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 3 {
		t.Fatalf("paths %v", paths)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil || len(b) < 1000 || !bytes.HasPrefix(b, []byte("\x89PNG")) {
			t.Errorf("%s: not a PNG (%d bytes, %v)", p, len(b), err)
		}
	}
}

package main

import (
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	var s []time.Duration
	for i := 1; i <= 100; i++ {
		s = append(s, time.Duration(i))
	}
	for _, tc := range []struct {
		name string
		q    float64
		want time.Duration
	}{
		{"p50", 0.50, 50},
		{"p90", 0.90, 90},
		{"p99", 0.99, 99},
		{"max", 1, 100},
		{"tiny", 0.001, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := percentile(s, tc.q); got != tc.want {
				t.Errorf("percentile(1..100, %v) = %v, want %v", tc.q, got, tc.want)
			}
		})
	}
	if got := percentile(nil, 0.5); got != 0 {
		t.Errorf("percentile(nil) = %v, want 0", got)
	}
}

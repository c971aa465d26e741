package mailbox

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
)

// putCases are what the Put benchmark compares: one writer pays a whole
// commit per Put, concurrent writers share commits. The boltbatch cases
// are the baseline: bbolt's db.Batch instead of the Store's group commit.
var putCases = []struct {
	name    string
	writers int
	bolt    bool
}{
	{name: "writers=1", writers: 1},
	{name: "writers=16", writers: 16},
	{name: "writers=64", writers: 64},
	{name: "writers=1/boltbatch", writers: 1, bolt: true},
	{name: "writers=16/boltbatch", writers: 16, bolt: true},
	{name: "writers=64/boltbatch", writers: 64, bolt: true},
}

const benchUsers = 256

var benchData = make([]byte, 200) // a typical encoded chat message

func openBench(b *testing.B, opts ...Option) *Store {
	b.Helper()
	s, err := Open(Config{Dir: b.TempDir(), MaxMessages: maxMaxMessages}, zap.NewNop(), opts...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func BenchmarkPut(b *testing.B) {
	for _, bc := range putCases {
		b.Run(bc.name, func(b *testing.B) {
			var opts []Option
			if bc.bolt {
				opts = append(opts, withBoltBatch())
			}
			s := openBench(b, opts...)
			var next atomic.Uint64
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for range bc.writers {
				wg.Go(func() {
					for {
						id := next.Add(1)
						if id > uint64(b.N) {
							return
						}
						user := fmt.Sprintf("user%d", id%benchUsers)
						if err := s.Put(user, Entry{ID: id, Data: benchData}); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			if c := s.Stats().Commits; c > 0 {
				b.ReportMetric(float64(b.N)/float64(c), "puts/commit")
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "puts/s")
		})
	}
}

func BenchmarkLoad1000(b *testing.B) {
	s := openBench(b)
	var wg sync.WaitGroup
	for w := range 50 { // fill concurrently so setup is quick
		wg.Go(func() {
			for i := range 20 {
				id := uint64(w*20 + i)
				if err := s.Put("alice", Entry{ID: id, Data: benchData}); err != nil {
					b.Error(err)
				}
			}
		})
	}
	wg.Wait()
	now := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		es, err := s.Load("alice", now)
		if err != nil || len(es) != 1000 {
			b.Fatalf("Load = %d entries, %v", len(es), err)
		}
	}
}

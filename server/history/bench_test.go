package history

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkFlush is one write-behind commit: the messages of one interval
// (1,000 of about 150 bytes over 100 rooms, each room keeping its last
// 100) written in one transaction with one fsync. ns/op is per commit.
func BenchmarkFlush(b *testing.B) {
	s, err := Open(Config{Dir: b.TempDir(), FlushInterval: time.Hour}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	data := make([]byte, 150)
	now := time.Now().UnixMilli()
	var seq uint64
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		for range 10 {
			seq++
			for r := range 100 {
				first := uint64(1)
				if seq > 100 {
					first = seq - 99
				}
				s.Append(fmt.Sprint("room", r), Entry{Seq: seq, TS: now, Data: data}, first)
			}
		}
		b.StartTimer()
		if err := s.Sync(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1000), "ns/message")
}

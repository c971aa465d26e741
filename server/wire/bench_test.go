package wire

import (
	"encoding/json"
	"testing"
)

// benchEncodes are the appendCases the benchmarks encode.
var benchEncodes = map[string]bool{
	"message": true, "sent": true, "error": true, "presence online": true, "joined": true, "history": true,
}

// BenchmarkEncode compares json.Marshal ("marshal") with the appenders
// ("append", into a buffer with room, as the server's frame buffer has).
func BenchmarkEncode(b *testing.B) {
	for _, c := range appendCases {
		if !benchEncodes[c.name] {
			continue
		}
		b.Run(c.name+"/marshal", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := json.Marshal(c.v); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/append", func(b *testing.B) {
			b.ReportAllocs()
			dst := make([]byte, 0, 1024)
			for b.Loop() {
				if _, err := appendAny(dst, c.v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchDecodes are the ordinaryRequests the benchmarks decode.
var benchDecodes = map[string]bool{"message": true, "login": true, "join": true, "history": true}

// BenchmarkDecodeRequest compares json.Unmarshal ("unmarshal") with
// DecodeRequest ("decode").
func BenchmarkDecodeRequest(b *testing.B) {
	for _, c := range ordinaryRequests {
		if !benchDecodes[c.name] {
			continue
		}
		in := []byte(c.json)
		b.Run(c.name+"/unmarshal", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var r Request
				if err := json.Unmarshal(in, &r); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/decode", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var r Request
				if err := DecodeRequest(in, &r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

package bridge

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// wantLines is splitLines's contract written plainly: the lines of data
// split at "\n", one "\r" dropped before each newline, a last line without
// a newline passed as it is (if not empty), and the first line over max
// ends it (not passed).
func wantLines(data []byte, max int) (lines [][]byte, end linesEnd) {
	parts := bytes.Split(data, []byte("\n"))
	for i, line := range parts {
		last := i == len(parts)-1
		if last && len(line) == 0 {
			break
		}
		if !last {
			line = bytes.TrimSuffix(line, []byte("\r"))
		}
		if len(line) > max {
			return lines, linesTooLong
		}
		lines = append(lines, line)
	}
	return lines, linesEOF
}

func checkSplit(t *testing.T, data []byte, max int, r io.Reader) {
	t.Helper()
	var got [][]byte
	end := splitLines(r, max, func(line []byte) bool {
		got = append(got, line)
		return true
	})
	want, wantEnd := wantLines(data, max)
	if end != wantEnd || len(got) != len(want) {
		t.Fatalf("max %d, %d bytes: got %d lines, end %d; want %d lines, end %d", max, len(data), len(got), end, len(want), wantEnd)
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("max %d: line %d is %q, want %q", max, i, got[i], want[i])
		}
	}
}

// FuzzSplitLines: the bridge's stdout line splitter against wantLines,
// whole and one byte per read, for any bytes and any max_line_bytes.
func FuzzSplitLines(f *testing.F) {
	f.Add([]byte("hello\nworld\n"), uint16(64))
	f.Add([]byte("crlf\r\nlast without newline"), uint16(16))
	f.Add([]byte("\r\n\n\r\r\n"), uint16(1))
	f.Add([]byte(strings.Repeat("x", 5000)+"\r\n"+strings.Repeat("y", 4095)+"\n"), uint16(5000))
	f.Add([]byte(strings.Repeat("z", 4097)+"\n"), uint16(4096))
	f.Fuzz(func(t *testing.T, data []byte, max16 uint16) {
		max := int(max16%8192) + 1
		checkSplit(t, data, max, bytes.NewReader(data))
		checkSplit(t, data, max, iotest.OneByteReader(bytes.NewReader(data)))
	})
}

// TestSplitLinesStopsWhenRefused: emit returning false ends the split at
// that line.
func TestSplitLinesStopsWhenRefused(t *testing.T) {
	n := 0
	end := splitLines(strings.NewReader("a\nb\nc\n"), 16, func([]byte) bool { n++; return n < 2 })
	if end != linesRefused || n != 2 {
		t.Fatalf("end %d after %d lines, want refused after 2", end, n)
	}
}

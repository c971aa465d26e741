package deflate

import (
	"bytes"
	"fmt"

	"github.com/klauspost/compress/flate"
)

// tail is what a flush ends a DEFLATE stream with (an empty stored block),
// which RFC 7692 7.2.1 has the sender remove and the receiver put back.
var tail = []byte{0x00, 0x00, 0xff, 0xff}

// MinLevel and MaxLevel bound the compression level (klauspost/compress's
// levels: 1 fastest, 9 smallest).
const (
	MinLevel = 1
	MaxLevel = 9
)

// Compressor compresses whole messages into permessage-deflate payloads
// without context takeover. Each window size has its own writer, made on
// first use and kept (an event loop's connections usually share one or two
// window sizes). Not safe for concurrent use.
type Compressor struct {
	level   int
	writers [DefaultBits - MinBits + 1]*flate.Writer
	out     appender
}

// NewCompressor returns a Compressor at level (MinLevel to MaxLevel). Level
// applies to the 32 KiB window; a smaller window, which klauspost/compress
// provides through NewWriterWindow, always compresses at its level-5-like
// setting.
func NewCompressor(level int) (*Compressor, error) {
	if level < MinLevel || level > MaxLevel {
		return nil, fmt.Errorf("deflate: level %d: want %d to %d", level, MinLevel, MaxLevel)
	}
	return &Compressor{level: level}, nil
}

// Append appends p, compressed as one message for a window of 2^bits bytes
// (MinBits to DefaultBits), to dst: a raw DEFLATE stream that needs no
// earlier message, flushed, without the final 0x00 0x00 0xff 0xff. It
// reports false, returning dst as it was, when the result would not be
// smaller than p, so the caller sends p uncompressed.
func (c *Compressor) Append(dst, p []byte, bits uint8) ([]byte, bool) {
	w := c.writer(bits)
	start := len(dst)
	c.out.b = dst
	w.Reset(&c.out)
	// The appender never fails, so neither do Write and Flush.
	_, _ = w.Write(p)
	_ = w.Flush()
	b := c.out.b
	c.out.b = nil
	w.Reset(nil) // drop the reference to dst
	if !bytes.HasSuffix(b[start:], tail) || len(b)-start-len(tail) >= len(p) {
		return b[:start], false
	}
	return b[:len(b)-len(tail)], true
}

// writer returns the writer for windows of 2^bits bytes.
func (c *Compressor) writer(bits uint8) *flate.Writer {
	bits = min(max(bits, MinBits), DefaultBits)
	i := bits - MinBits
	if w := c.writers[i]; w != nil {
		return w
	}
	var w *flate.Writer
	var err error
	if bits == DefaultBits {
		w, err = flate.NewWriter(nil, c.level)
	} else {
		w, err = flate.NewWriterWindow(nil, 1<<bits)
	}
	if err != nil {
		// Level and window were checked (NewCompressor, MinBits).
		panic(fmt.Sprintf("deflate: writer for %d bits: %v", bits, err))
	}
	c.writers[i] = w
	return w
}

// appender is an io.Writer that appends to b.
type appender struct{ b []byte }

func (a *appender) Write(p []byte) (int, error) {
	a.b = append(a.b, p...)
	return len(p), nil
}

package deflate

import (
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/flate"
)

// Errors of Inflate.
var (
	// ErrTooBig: the message inflates to more than the limit. Inflation
	// stopped there.
	ErrTooBig = errors.New("deflate: inflated message over the limit")
	// ErrCorrupt: the payload is not a valid DEFLATE stream.
	ErrCorrupt = errors.New("deflate: invalid compressed data")
)

// end is what Inflate puts after a payload: the 0x00 0x00 0xff 0xff the
// sender removed (RFC 7692 7.2.2), then an empty final stored block, so
// that the stream ends cleanly (io.EOF) instead of running out of input.
var end = []byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

// Inflater inflates permessage-deflate payloads without context takeover.
// It keeps one decompressor (with its 32 KiB window) across calls. The
// zero value is ready to use; it is not safe for concurrent use.
type Inflater struct {
	in input
	r  io.ReadCloser
}

// Inflate returns the message that src, one message's payload, inflates
// to, in a new slice, or ErrTooBig as soon as it passes limit bytes, or an
// error wrapping ErrCorrupt. Data after the stream's final block, if it has
// one, is ignored.
func (f *Inflater) Inflate(src []byte, limit int) ([]byte, error) {
	f.in = input{a: src, b: end}
	defer func() { f.in = input{} }() // keep no reference to src
	if f.r == nil {
		f.r = flate.NewReader(&f.in)
	} else if err := f.r.(flate.Resetter).Reset(&f.in, nil); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	out := make([]byte, 0, min(limit+1, max(512, 4*len(src))))
	for {
		if len(out) == cap(out) {
			grown := make([]byte, len(out), min(limit+1, 2*cap(out)))
			copy(grown, out)
			out = grown
		}
		n, err := f.r.Read(out[len(out):cap(out)])
		out = out[:len(out)+n]
		if len(out) > limit {
			return nil, ErrTooBig
		}
		switch {
		case err == io.EOF:
			return out, nil
		case err != nil:
			return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
	}
}

// input reads a, then b: a flate.Reader (io.ByteReader too), so the
// decompressor reads it directly rather than through a bufio.Reader of
// its own.
type input struct{ a, b []byte }

func (in *input) Read(p []byte) (int, error) {
	if len(in.a) == 0 {
		in.a, in.b = in.b, nil
		if len(in.a) == 0 {
			return 0, io.EOF
		}
	}
	n := copy(p, in.a)
	in.a = in.a[n:]
	return n, nil
}

func (in *input) ReadByte() (byte, error) {
	if len(in.a) == 0 {
		in.a, in.b = in.b, nil
		if len(in.a) == 0 {
			return 0, io.EOF
		}
	}
	c := in.a[0]
	in.a = in.a[1:]
	return c, nil
}

package wsframe

import (
	"bytes"
	"errors"
	"testing"

	"github.com/gobwas/ws"
)

// clientFrame encodes one masked client frame.
func clientFrame(fin bool, rsv byte, op ws.OpCode, p []byte) []byte {
	h := ws.Header{Fin: fin, Rsv: rsv, OpCode: op, Masked: true, Mask: [4]byte{1, 2, 3, 4}, Length: int64(len(p))}
	var b bytes.Buffer
	if err := ws.WriteHeader(&b, h); err != nil {
		panic(err)
	}
	q := append([]byte(nil), p...)
	ws.Cipher(q, h.Mask, 0)
	return append(b.Bytes(), q...)
}

// TestDecodeDeflate: with Deflate, RSV1 on a message's first frame marks
// it compressed (its payload left as it came: no UTF-8 check, the
// compressed size limit); anywhere else, or without Deflate, it is 1002.
func TestDecodeDeflate(t *testing.T) {
	const rsv1 = 4
	notUTF8 := []byte{0xff, 0xfe, 0x00}
	cases := []struct {
		name       string
		deflate    bool
		max        int
		in         [][]byte
		want       []byte
		compressed bool
		code       ws.StatusCode
	}{
		{"compressed text", true, 100, [][]byte{clientFrame(true, rsv1, ws.OpText, notUTF8)}, notUTF8, true, 0},
		{"plain text still checked", true, 100, [][]byte{clientFrame(true, 0, ws.OpText, notUTF8)}, nil, false, ws.StatusInvalidFramePayloadData},
		{"fragmented, RSV1 first", true, 100, [][]byte{
			clientFrame(false, rsv1, ws.OpBinary, []byte("ab")),
			clientFrame(true, 0, ws.OpPing, []byte("p")),
			clientFrame(true, 0, ws.OpContinuation, []byte("cd")),
		}, []byte("abcd"), true, 0},
		{"RSV1 on a continuation", true, 100, [][]byte{
			clientFrame(false, 0, ws.OpBinary, []byte("ab")),
			clientFrame(true, rsv1, ws.OpContinuation, []byte("cd")),
		}, nil, false, ws.StatusProtocolError},
		{"RSV1 on a ping", true, 100, [][]byte{clientFrame(true, rsv1, ws.OpPing, nil)}, nil, false, ws.StatusProtocolError},
		{"RSV1 without Deflate", false, 100, [][]byte{clientFrame(true, rsv1, ws.OpText, []byte("x"))}, nil, false, ws.StatusProtocolError},
		{"RSV2 with Deflate", true, 100, [][]byte{clientFrame(true, rsv1|2, ws.OpText, []byte("x"))}, nil, false, ws.StatusProtocolError},
		{"compressed over max, within CompressedLimit", true, 1000, [][]byte{clientFrame(true, rsv1, ws.OpBinary, make([]byte, CompressedLimit(1000)))}, make([]byte, CompressedLimit(1000)), true, 0},
		{"compressed over CompressedLimit", true, 1000, [][]byte{clientFrame(true, rsv1, ws.OpBinary, make([]byte, CompressedLimit(1000)+1))}, nil, false, ws.StatusMessageTooBig},
		{"plain over max", true, 1000, [][]byte{clientFrame(true, 0, ws.OpBinary, make([]byte, 1001))}, nil, false, ws.StatusMessageTooBig},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDecoder(tc.max)
			d.Deflate = tc.deflate
			var got *Message
			var gotErr error
			for p := bytes.Join(tc.in, nil); len(p) > 0 && gotErr == nil; {
				n, m, ok, err := d.Decode(p)
				p = p[n:]
				switch {
				case err != nil:
					gotErr = err
				case ok && !m.Op.IsControl():
					got = &m
				case n == 0:
					t.Fatal("stuck")
				}
			}
			if tc.code != 0 {
				var fe *Error
				if !errors.As(gotErr, &fe) || fe.Code != tc.code {
					t.Fatalf("err %v, want code %d", gotErr, tc.code)
				}
				return
			}
			if gotErr != nil || got == nil {
				t.Fatalf("err %v, message %v", gotErr, got)
			}
			if !bytes.Equal(got.Payload, tc.want) || got.Compressed != tc.compressed {
				t.Fatalf("got %q compressed=%v", got.Payload, got.Compressed)
			}
			// The flag does not leak into the next message.
			n, m, ok, err := d.Decode(clientFrame(true, 0, ws.OpBinary, []byte("next")))
			if err != nil || !ok || m.Compressed || n == 0 {
				t.Fatalf("next message: %v %v %+v", err, ok, m)
			}
			d.Reset()
			if d.Deflate != tc.deflate {
				t.Fatal("Reset dropped Deflate")
			}
		})
	}
}

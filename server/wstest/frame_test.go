package wstest

import (
	"bytes"
	"testing"

	"github.com/gobwas/ws"
)

// The examples of RFC 6455 section 5.7, plus reserved bits and the three
// length encodings at their edges.
func TestEncodeFrame(t *testing.T) {
	rfcMask := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	tests := []struct {
		name string
		got  []byte
		want []byte
	}{
		{"rfc unmasked text", encodeFrame(true, 0, ws.OpText, false, [4]byte{}, []byte("Hello")),
			[]byte{0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}},
		{"rfc masked text", encodeFrame(true, 0, ws.OpText, true, rfcMask, []byte("Hello")),
			[]byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}},
		{"rfc first fragment", encodeFrame(false, 0, ws.OpText, false, [4]byte{}, []byte("Hel")),
			[]byte{0x01, 0x03, 0x48, 0x65, 0x6c}},
		{"rfc last fragment", encodeFrame(true, 0, ws.OpContinuation, false, [4]byte{}, []byte("lo")),
			[]byte{0x80, 0x02, 0x6c, 0x6f}},
		{"rfc ping", encodeFrame(true, 0, ws.OpPing, false, [4]byte{}, []byte("Hello")),
			[]byte{0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}},
		{"rfc 256 bytes header", EncodeHeader(true, 0, ws.OpBinary, false, 256),
			[]byte{0x82, 0x7e, 0x01, 0x00}},
		{"rfc 64KiB header", EncodeHeader(true, 0, ws.OpBinary, false, 65536),
			[]byte{0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0}},
		{"125 is 7-bit", EncodeHeader(true, 0, ws.OpText, false, 125), []byte{0x81, 125}},
		{"126 is 16-bit", EncodeHeader(true, 0, ws.OpText, false, 126), []byte{0x81, 126, 0, 126}},
		{"65535 is 16-bit", EncodeHeader(true, 0, ws.OpText, false, 65535), []byte{0x81, 126, 0xff, 0xff}},
		{"masked header has zero key", EncodeHeader(true, 0, ws.OpText, true, 3), []byte{0x81, 0x83, 0, 0, 0, 0}},
		{"rsv1", EncodeHeader(true, 4, ws.OpText, false, 0), []byte{0xc1, 0}},
		{"rsv2", EncodeHeader(true, 2, ws.OpText, false, 0), []byte{0xa1, 0}},
		{"rsv3", EncodeHeader(true, 1, ws.OpText, false, 0), []byte{0x91, 0}},
		{"reserved opcode", EncodeHeader(false, 0, 0xf, false, 0), []byte{0x0f, 0}},
		{"close payload", Close(1000, "ok").WithFin(true).Unmasked().Bytes(), []byte{0x88, 4, 0x03, 0xe8, 'o', 'k'}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !bytes.Equal(tt.got, tt.want) {
				t.Errorf("got % x, want % x", tt.got, tt.want)
			}
		})
	}
}

// A masked frame decodes back to its payload through gobwas/ws.
func TestEncodeFrameMasked(t *testing.T) {
	payload := bytes.Repeat([]byte("0123456789"), 7000)
	f, err := ws.ReadFrame(bytes.NewReader(EncodeFrame(true, 0, ws.OpBinary, true, payload)))
	if err != nil {
		t.Fatal(err)
	}
	if !f.Header.Masked || f.Header.Length != int64(len(payload)) {
		t.Fatalf("header %+v", f.Header)
	}
	ws.Cipher(f.Payload, f.Header.Mask, 0)
	if !bytes.Equal(f.Payload, payload) {
		t.Fatal("payload differs after unmasking")
	}
}

func TestSplit(t *testing.T) {
	p := []byte("abcdef")
	got := Split(ws.OpText, p, 0, 2, 2, 5)
	want := []Frame{
		Text([]byte{}).WithFin(false),
		Continuation([]byte("ab")).WithFin(false),
		Continuation([]byte{}).WithFin(false),
		Continuation([]byte("cde")).WithFin(false),
		Continuation([]byte("f")),
	}
	if len(got) != len(want) {
		t.Fatalf("got %d frames, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].String() != want[i].String() {
			t.Errorf("frame %d: got %v, want %v", i, got[i], want[i])
		}
	}
	if one := Split(ws.OpBinary, p); len(one) != 1 || one[0].OpCode != ws.OpBinary || !one[0].Fin {
		t.Errorf("no cuts: got %v", one)
	}
}

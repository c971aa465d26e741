package wsframe

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// readServerFrame parses b as exactly one frame with gobwas.
func readServerFrame(t *testing.T, b []byte) ws.Frame {
	t.Helper()
	r := bytes.NewReader(b)
	f, err := ws.ReadFrame(r)
	if err != nil {
		t.Fatalf("ws.ReadFrame: %v", err)
	}
	if r.Len() != 0 {
		t.Fatalf("%d bytes left after the frame", r.Len())
	}
	if !f.Header.Fin || f.Header.Masked || f.Header.Rsv != 0 {
		t.Fatalf("header %+v: want final, unmasked, no RSV", f.Header)
	}
	return f
}

func TestAppendFrame(t *testing.T) {
	cases := []struct {
		n       int
		hdrSize int
	}{
		{0, 2}, {1, 2}, {125, 2}, {126, 4}, {127, 4}, {65535, 4}, {65536, 10}, {70000, 10},
	}
	for _, tc := range cases {
		for _, op := range []ws.OpCode{ws.OpText, ws.OpBinary, ws.OpPing, ws.OpPong} {
			if op.IsControl() && tc.n > 125 {
				continue
			}
			t.Run(fmt.Sprintf("op %d length %d", op, tc.n), func(t *testing.T) {
				payload := []byte(binaryPattern(tc.n))
				prefix := []byte("kept")
				b := AppendFrame(bytes.Clone(prefix), op, payload)
				if !bytes.HasPrefix(b, prefix) {
					t.Fatalf("dst prefix overwritten: %q", b[:len(prefix)])
				}
				b = b[len(prefix):]
				if got := len(b) - tc.n; got != tc.hdrSize {
					t.Errorf("header is %d bytes, want %d", got, tc.hdrSize)
				}
				f := readServerFrame(t, b)
				if f.Header.OpCode != op || f.Header.Length != int64(tc.n) || !bytes.Equal(f.Payload, payload) {
					t.Errorf("read back %+v with %d payload bytes", f.Header, len(f.Payload))
				}
				want, err := ws.CompileFrame(ws.NewFrame(op, true, payload))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(b, want) {
					t.Errorf("differs from ws.CompileFrame: % x", b[:tc.hdrSize])
				}
				if h := AppendHeader(nil, op, tc.n); !bytes.Equal(h, b[:tc.hdrSize]) {
					t.Errorf("AppendHeader = % x, want % x", h, b[:tc.hdrSize])
				}
			})
		}
	}
}

func TestAppendClose(t *testing.T) {
	cases := []struct {
		name   string
		code   ws.StatusCode
		reason string
		want   string // the reason sent
	}{
		{"empty", 0, "ignored", ""},
		{"code only", 1000, "", ""},
		{"code and reason", 1001, "going away", "going away"},
		{"private code", 4000, "slow consumer", "slow consumer"},
		{"123 bytes fit", 1008, pattern(123), pattern(123)},
		{"ASCII truncated", 1008, pattern(200), pattern(123)},
		{"2-byte rune straddles the limit", 1008, strings.Repeat("é", 100), strings.Repeat("é", 61)},
		{"3-byte rune straddles the limit", 1008, "a" + strings.Repeat("€", 50), "a" + strings.Repeat("€", 40)},
		{"4-byte rune straddles the limit", 1008, strings.Repeat("𝄞", 40), strings.Repeat("𝄞", 30)},
		{"rune ends at the limit", 1008, strings.Repeat("€", 41) + "z", strings.Repeat("€", 41)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := readServerFrame(t, AppendClose(nil, tc.code, tc.reason))
			if f.Header.OpCode != ws.OpClose {
				t.Fatalf("opcode %d, want close", f.Header.OpCode)
			}
			if tc.code == 0 {
				if len(f.Payload) != 0 {
					t.Fatalf("payload %q, want empty", f.Payload)
				}
				return
			}
			if len(f.Payload) > 125 {
				t.Fatalf("payload of %d bytes", len(f.Payload))
			}
			code, reason := ws.ParseCloseFrameData(f.Payload)
			if code != tc.code || reason != tc.want {
				t.Fatalf("close %d %q, want %d %q", code, reason, tc.code, tc.want)
			}
			if !utf8.ValidString(reason) {
				t.Fatalf("reason %q is not valid UTF-8", reason)
			}
			if _, ok, err := parseClose(f.Payload); !ok || err != nil {
				t.Fatalf("the decoder rejects it: %v", err)
			}
		})
	}
}

// TestAppendCloseTruncatesAtRunes cuts a long reason at every alignment
// against the limit.
func TestAppendCloseTruncatesAtRunes(t *testing.T) {
	for pad := range 4 {
		for _, r := range []string{"é", "€", "𝄞"} {
			reason := strings.Repeat("a", pad) + strings.Repeat(r, 130)
			f := readServerFrame(t, AppendClose(nil, ws.StatusGoingAway, reason))
			_, got := ws.ParseCloseFrameData(f.Payload)
			if len(got) > 123 || len(got) < 120 || !utf8.ValidString(got) || !strings.HasPrefix(reason, got) {
				t.Errorf("pad %d, rune %q: reason %q (%d bytes)", pad, r, got, len(got))
			}
		}
	}
}

// FuzzAppendClose checks that any reason comes out as a prefix of itself
// that fits the frame, and valid UTF-8 when it went in valid.
func FuzzAppendClose(f *testing.F) {
	f.Add(uint16(1000), "bye")
	f.Add(uint16(4000), strings.Repeat("é", 70))
	f.Fuzz(func(t *testing.T, code uint16, reason string) {
		fr := readServerFrame(t, AppendClose(nil, ws.StatusCode(code), reason))
		if code == 0 {
			if len(fr.Payload) != 0 {
				t.Fatalf("code 0 sent payload %q", fr.Payload)
			}
			return
		}
		if len(fr.Payload) < 2 || len(fr.Payload) > 125 {
			t.Fatalf("payload of %d bytes", len(fr.Payload))
		}
		got, sent := ws.ParseCloseFrameData(fr.Payload)
		if got != ws.StatusCode(code) || !strings.HasPrefix(reason, sent) {
			t.Fatalf("sent %d %q for %d %q", got, sent, code, reason)
		}
		if utf8.ValidString(reason) && (!utf8.ValidString(sent) || len(sent) < min(len(reason), 120)) {
			t.Fatalf("reason %q cut to %q", reason, sent)
		}
	})
}

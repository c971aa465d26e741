package mailbox

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
	"time"
)

var valueCases = []struct {
	name   string
	stored time.Time
	sender string
	data   []byte
}{
	{name: "typical", stored: time.Unix(1_700_000_000, 123), sender: "bob", data: []byte(`{"text":"hi"}`)},
	{name: "no sender", stored: time.Unix(1, 0), data: []byte("x")},
	{name: "empty", stored: time.Unix(0, 0)},
	{name: "long sender", stored: time.Unix(5, 0), sender: strings.Repeat("s", 300), data: []byte{0}},
	{name: "before 1970", stored: time.Unix(-5, 0), sender: "a"},
}

func TestValueRoundTrip(t *testing.T) {
	for _, tc := range valueCases {
		t.Run(tc.name, func(t *testing.T) {
			v := encodeValue(tc.stored, tc.sender, tc.data)
			got, ok := decodeValue(v)
			if !ok || got.stored != tc.stored.UnixNano() || string(got.sender) != tc.sender || !bytes.Equal(got.data, tc.data) {
				t.Fatalf("decode(encode) = %+v, %v", got, ok)
			}
			e := entry(idKey(7), got)
			if e.ID != 7 || !e.Stored.Equal(tc.stored) || e.Sender != tc.sender || !bytes.Equal(e.Data, tc.data) {
				t.Fatalf("entry = %+v", e)
			}
		})
	}
}

func TestDecodeMalformed(t *testing.T) {
	for _, v := range [][]byte{
		nil,
		{1, 2, 3},
		make([]byte, 8),                 // no sender length
		append(make([]byte, 8), 5, 'a'), // sender cut short
		append(make([]byte, 8), 0x80),   // varint cut short
		append(make([]byte, 8), bytes.Repeat([]byte{0xff}, 10)...), // varint overflows
	} {
		got, ok := decodeValue(v)
		if ok || got.stored != minNanos || got.sender != nil || got.data != nil {
			t.Errorf("decodeValue(%x) = %+v, %v; want the expired empty value", v, got, ok)
		}
	}
}

// FuzzDecodeValue: decoding any bytes never panics, a value that decodes
// re-encodes to one that decodes the same, and an undecodable one reads
// as expired and empty. Seeds are in testdata/fuzz/FuzzDecodeValue.
func FuzzDecodeValue(f *testing.F) {
	for _, tc := range valueCases {
		f.Add(encodeValue(tc.stored, tc.sender, tc.data))
	}
	f.Add(binary.BigEndian.AppendUint64(nil, 42)) // a schema 1 value with no data
	f.Fuzz(func(t *testing.T, v []byte) {
		got, ok := decodeValue(v)
		if !ok {
			if got.stored != minNanos || got.sender != nil || got.data != nil {
				t.Fatalf("malformed %x decoded as %+v", v, got)
			}
			return
		}
		if len(got.sender)+len(got.data) > len(v)-9 {
			t.Fatalf("%x: sender %d + data %d bytes from %d", v, len(got.sender), len(got.data), len(v))
		}
		again, ok := decodeValue(appendValue(nil, got.stored, string(got.sender), got.data))
		if !ok || again.stored != got.stored || !bytes.Equal(again.sender, got.sender) || !bytes.Equal(again.data, got.data) {
			t.Fatalf("%x: re-encoded %+v decodes as %+v, %v", v, got, again, ok)
		}
		if storedNanos(v) != got.stored {
			t.Fatalf("storedNanos disagrees with decodeValue")
		}
	})
}

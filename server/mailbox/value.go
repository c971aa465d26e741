package mailbox

import (
	"bytes"
	"encoding/binary"
	"time"
)

// An entry's value in the file (schema 2) is
//
//	stored  8 bytes, Entry.Stored as big-endian Unix nanoseconds
//	n       uvarint, len(Entry.Sender)
//	sender  n bytes
//	data    the rest: Entry.Data
//
// Schema 1 values were stored followed by data, with no sender; Open
// rewrites them (see rebuild). A value that does not decode (never written
// by this code) reads as stored at the oldest possible time, with no
// sender and no data: it has expired, is never returned, counts 0 bytes,
// and the next Load, Prune or full Put deletes it.

// value is a decoded entry value. Its slices alias the bytes it was
// decoded from, which bbolt owns only for the life of the transaction.
type value struct {
	stored int64
	sender []byte
	data   []byte
}

const minNanos = -1 << 63

func appendValue(dst []byte, stored int64, sender string, data []byte) []byte {
	dst = binary.BigEndian.AppendUint64(dst, uint64(stored))
	dst = binary.AppendUvarint(dst, uint64(len(sender)))
	dst = append(dst, sender...)
	return append(dst, data...)
}

func encodeValue(stored time.Time, sender string, data []byte) []byte {
	n := 8 + binary.MaxVarintLen64 + len(sender) + len(data)
	return appendValue(make([]byte, 0, n), stored.UnixNano(), sender, data)
}

// decodeValue decodes v; ok is false if v is malformed, and then the value
// is the expired, empty one described above.
func decodeValue(v []byte) (_ value, ok bool) {
	if len(v) < 9 {
		return value{stored: minNanos}, false
	}
	n, w := binary.Uvarint(v[8:])
	if w <= 0 || n > uint64(len(v)-8-w) {
		return value{stored: minNanos}, false
	}
	start, end := 8+w, 8+w+int(n)
	return value{
		stored: int64(binary.BigEndian.Uint64(v)),
		sender: v[start:end:end],
		data:   v[end:],
	}, true
}

// storedNanos reads the Stored time of a value; a malformed value reads as
// the oldest possible time, so it expires instead of being delivered.
func storedNanos(v []byte) int64 {
	val, _ := decodeValue(v)
	return val.stored
}

// decodeV1 decodes a schema 1 value: 8-byte stored time, then data.
func decodeV1(v []byte) (stored int64, data []byte) {
	if len(v) < 8 {
		return minNanos, nil
	}
	return int64(binary.BigEndian.Uint64(v)), v[8:]
}

// entry copies the entry with key k and value val out of the
// transaction's memory.
func entry(k []byte, val value) Entry {
	e := Entry{ID: keyID(k), Stored: time.Unix(0, val.stored), Sender: string(val.sender)}
	if len(val.data) > 0 {
		e.Data = bytes.Clone(val.data)
	}
	return e
}

package wire

import (
	"encoding/json"
	"strconv"
)

// The Append functions encode the server's chat messages by hand: each
// appends to dst exactly the bytes json.Marshal writes for the same value
// (field order, omitempty, escaping; append_test.go fuzzes each against
// json.Marshal), without reflection and, when dst has room, without
// allocating. The error, when a json.RawMessage field is not JSON, is
// json.Marshal's; dst is then returned as it was. Messages with no appender
// (login replies, who, rooms, seen) are rare enough for json.Marshal.

// AppendMessage appends m as json.Marshal encodes it.
func AppendMessage(dst []byte, m *Message) ([]byte, error) {
	n := len(dst)
	dst = append(dst, `{"type":`...)
	dst = AppendString(dst, m.Type)
	dst = append(dst, `,"id":`...)
	dst = strconv.AppendUint(dst, m.ID, 10)
	dst = append(dst, `,"sender":`...)
	dst = AppendString(dst, m.Sender)
	if m.Room != "" {
		dst = append(dst, `,"room":`...)
		dst = AppendString(dst, m.Room)
	}
	if m.Receiver != "" {
		dst = append(dst, `,"receiver":`...)
		dst = AppendString(dst, m.Receiver)
	}
	dst = append(dst, `,"data":`...)
	dst, err := appendRaw(dst, m.Data)
	if err != nil {
		return dst[:n], err
	}
	dst = append(dst, `,"ts":`...)
	dst = strconv.AppendInt(dst, m.TS, 10)
	if m.Seq != 0 {
		dst = append(dst, `,"seq":`...)
		dst = strconv.AppendUint(dst, m.Seq, 10)
	}
	if m.Offline {
		dst = append(dst, `,"offline":true`...)
	}
	return append(dst, '}'), nil
}

// AppendSent appends m as json.Marshal encodes it.
func AppendSent(dst []byte, m *Sent) ([]byte, error) {
	n := len(dst)
	dst = append(dst, `{"type":`...)
	dst = AppendString(dst, m.Type)
	dst = append(dst, `,"id":`...)
	dst = strconv.AppendUint(dst, m.ID, 10)
	dst = append(dst, `,"status":`...)
	dst = AppendString(dst, m.Status)
	return appendRef(dst, n, m.Ref)
}

// AppendError appends m as json.Marshal encodes it.
func AppendError(dst []byte, m *Error) ([]byte, error) {
	n := len(dst)
	dst = append(dst, `{"type":`...)
	dst = AppendString(dst, m.Type)
	dst = append(dst, `,"error":`...)
	dst = AppendString(dst, m.Error)
	return appendRef(dst, n, m.Ref)
}

// AppendPresence appends m as json.Marshal encodes it.
func AppendPresence(dst []byte, m *Presence) []byte {
	dst = append(dst, `{"type":`...)
	dst = AppendString(dst, m.Type)
	if m.User != "" {
		dst = append(dst, `,"user":`...)
		dst = AppendString(dst, m.User)
	}
	if m.Status != "" {
		dst = append(dst, `,"status":`...)
		dst = AppendString(dst, m.Status)
	}
	dst = append(dst, `,"room":`...)
	dst = AppendString(dst, m.Room)
	if m.LastSeen != 0 {
		dst = append(dst, `,"lastSeen":`...)
		dst = strconv.AppendInt(dst, m.LastSeen, 10)
	}
	if m.Reset {
		dst = append(dst, `,"reset":true`...)
	}
	return append(dst, '}')
}

// AppendMembership appends m (a "joined" or a "left") as json.Marshal
// encodes it.
func AppendMembership(dst []byte, m *Membership) ([]byte, error) {
	n := len(dst)
	dst = append(dst, `{"type":`...)
	dst = AppendString(dst, m.Type)
	dst = append(dst, `,"room":`...)
	dst = AppendString(dst, m.Room)
	dst = append(dst, `,"members":`...)
	dst = strconv.AppendInt(dst, int64(m.Members), 10)
	if m.Seq != 0 {
		dst = append(dst, `,"seq":`...)
		dst = strconv.AppendUint(dst, m.Seq, 10)
	}
	if m.Recovered != nil {
		dst = append(dst, `,"recovered":`...)
		dst = strconv.AppendBool(dst, *m.Recovered)
	}
	if m.Missed != 0 {
		dst = append(dst, `,"missed":`...)
		dst = strconv.AppendUint(dst, m.Missed, 10)
	}
	return appendRef(dst, n, m.Ref)
}

// AppendHistory appends m as json.Marshal encodes it. Each message is
// checked and compacted as json.Marshal does a json.RawMessage; messages
// the server wrote itself are compact already and only copied.
func AppendHistory(dst []byte, m *History) ([]byte, error) {
	n := len(dst)
	dst = append(dst, `{"type":`...)
	dst = AppendString(dst, m.Type)
	dst = append(dst, `,"room":`...)
	dst = AppendString(dst, m.Room)
	dst = append(dst, `,"messages":`...)
	if m.Messages == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '[')
		for i, raw := range m.Messages {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = appendRaw(dst, raw); err != nil {
				return dst[:n], err
			}
		}
		dst = append(dst, ']')
	}
	if m.More {
		dst = append(dst, `,"more":true`...)
	}
	return appendRef(dst, n, m.Ref)
}

// appendRef ends a message whose encoding started at dst[n] with its
// optional "ref" (omitempty) and the closing brace.
func appendRef(dst []byte, n int, ref json.RawMessage) ([]byte, error) {
	if len(ref) > 0 {
		dst = append(dst, `,"ref":`...)
		var err error
		if dst, err = appendRaw(dst, ref); err != nil {
			return dst[:n], err
		}
	}
	return append(dst, '}'), nil
}

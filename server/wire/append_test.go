package wire

import (
	"bytes"
	"encoding/json"
	"testing"
)

// appendCase is one value for an appender, shared by the tests and the
// benchmarks.
type appendCase struct {
	name string
	v    any // a *Message, *Sent, *Error, *Presence, *Membership or *History
}

// appendAny appends v with its appender.
func appendAny(dst []byte, v any) ([]byte, error) {
	switch m := v.(type) {
	case *Message:
		return AppendMessage(dst, m)
	case *Sent:
		return AppendSent(dst, m)
	case *Error:
		return AppendError(dst, m)
	case *Presence:
		return AppendPresence(dst, m), nil
	case *Membership:
		return AppendMembership(dst, m)
	case *History:
		return AppendHistory(dst, m)
	}
	panic("no appender")
}

var (
	yes, no = true, false

	appendCases = []appendCase{
		{"message", &Message{Type: TypeMessage, ID: 1747000000123001, Sender: "alice", Room: "lobby", Data: json.RawMessage(`"hello, world"`), TS: 1747000000123, Seq: 42}},
		{"message private offline", &Message{Type: TypeMessage, ID: 7, Sender: "alice", Receiver: "bob", Data: json.RawMessage(`{"a":[1,2.5e3,true,null],"b":{}}`), TS: 9, Offline: true}},
		{"message nil data", &Message{Type: TypeMessage, Sender: "a"}},
		{"message pretty data", &Message{Type: TypeMessage, Sender: "a", Data: json.RawMessage(" { \"a\" : [ 1 , 2 ] }\n")}},
		{"message html data", &Message{Type: TypeMessage, Sender: "a", Data: json.RawMessage(`"<b>&amp;</b>"`)}},
		{"message line separators", &Message{Type: TypeMessage, Sender: "a\u2028b", Room: "r\u2029", Data: json.RawMessage("\"x\u2028y\u2029\"")}},
		{"message escapes", &Message{Type: TypeMessage, Sender: "q\"b\\s\b\f\n\r\t\x00\x1f\x7f", Room: "<&>", Data: json.RawMessage(`"\u0041\n\"\/"`)}},
		{"message invalid utf8", &Message{Type: TypeMessage, Sender: "a\xffb\xc3", Room: "é漢🙂", Data: json.RawMessage("\"\xff\"")}},
		{"message negative ts", &Message{Type: TypeMessage, Sender: "a", TS: -1, Data: json.RawMessage(`-0.0e-0`)}},
		{"message empty data", &Message{Type: TypeMessage, Sender: "a", Data: json.RawMessage{}}},
		{"message bad data", &Message{Type: TypeMessage, Sender: "a", Data: json.RawMessage(`01`)}},
		{"message two values", &Message{Type: TypeMessage, Sender: "a", Data: json.RawMessage(`1 2`)}},
		{"sent", &Sent{Type: TypeSent, ID: 1747000000123001, Status: StatusDelivered, Ref: json.RawMessage(`"r1"`)}},
		{"sent no ref", &Sent{Type: TypeSent, ID: 7, Status: StatusStored}},
		{"sent empty ref", &Sent{Type: TypeSent, ID: 7, Status: StatusStored, Ref: json.RawMessage{}}},
		{"sent bad ref", &Sent{Type: TypeSent, ID: 7, Status: StatusStored, Ref: json.RawMessage(`{`)}},
		{"error", &Error{Type: TypeError, Error: `not a member of room dev: join it first`, Ref: json.RawMessage(`{"n":1}`)}},
		{"error pretty ref", &Error{Type: TypeError, Error: `x`, Ref: json.RawMessage(`{"n": 1}`)}},
		{"error quotes", &Error{Type: TypeError, Error: `unknown type "x<y>"`}},
		{"presence online", &Presence{Type: TypePresence, User: "bob", Status: StatusOnline, Room: "dev"}},
		{"presence offline", &Presence{Type: TypePresence, User: "bob", Status: StatusOffline, Room: "dev", LastSeen: 1747000000123}},
		{"presence reset", &Presence{Type: TypePresence, Room: "dev", Reset: true}},
		{"joined", &Membership{Type: TypeJoined, Room: "dev", Members: 3, Seq: 17, Recovered: &yes, Ref: json.RawMessage(`1`)}},
		{"joined lost", &Membership{Type: TypeJoined, Room: "dev", Members: -1, Recovered: &no, Missed: 4}},
		{"left", &Membership{Type: TypeLeft, Room: "dev"}},
		{"history", &History{Type: TypeHistory, Room: "dev", Messages: []json.RawMessage{
			json.RawMessage(`{"type":"message","id":1,"sender":"a","room":"dev","data":"x","ts":1,"seq":1}`),
			json.RawMessage(`{"type":"message","id":2,"sender":"b","room":"dev","data":{"k":[]},"ts":2,"seq":2}`),
		}, More: true, Ref: json.RawMessage(`7`)}},
		{"history empty", &History{Type: TypeHistory, Room: "dev", Messages: []json.RawMessage{}}},
		{"history nil", &History{Type: TypeHistory, Room: "dev"}},
		{"history nil message", &History{Type: TypeHistory, Room: "dev", Messages: []json.RawMessage{nil, json.RawMessage(` [ ] `)}}},
		{"history bad message", &History{Type: TypeHistory, Room: "dev", Messages: []json.RawMessage{json.RawMessage(`x`)}}},
	}
)

// checkMarshal fails t unless appending v after a prefix gives what
// json.Marshal gives: the same bytes, or the same error and the prefix
// untouched.
func checkMarshal(t *testing.T, v any) {
	t.Helper()
	want, wantErr := json.Marshal(v)
	prefix := []byte("prefix")
	got, err := appendAny(bytes.Clone(prefix), v)
	switch {
	case (err == nil) != (wantErr == nil):
		t.Fatalf("%#v:\nerror %v\nwant  %v", v, err, wantErr)
	case err != nil && err.Error() != wantErr.Error():
		t.Fatalf("%#v:\nerror %v\nwant  %v", v, err, wantErr)
	case err != nil && !bytes.Equal(got, prefix):
		t.Fatalf("%#v: failed append left %q", v, got)
	case err == nil && !bytes.Equal(got, append(prefix, want...)):
		t.Fatalf("%#v:\ngot  %s\nwant %s", v, got[len(prefix):], want)
	}
}

func TestAppendMatchesMarshal(t *testing.T) {
	for _, c := range appendCases {
		t.Run(c.name, func(t *testing.T) { checkMarshal(t, c.v) })
	}
}

func TestAppendString(t *testing.T) {
	for _, s := range []string{"", "plain", "é漢🙂", "\x00\x1f\x7f", "<>&'\"\\", "\u2028\u2029", "\xe2\x80", "\xe2\x80\xa8x", "a\xffb", "\xed\xa0\x80", "\xf4\x90\x80\x80"} {
		want, _ := json.Marshal(s)
		if got := AppendString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("AppendString(%q) = %s, want %s", s, got, want)
		}
		if got := AppendString(nil, []byte(s)); !bytes.Equal(got, want) {
			t.Errorf("AppendString([]byte(%q)) = %s, want %s", s, got, want)
		}
	}
}

// TestAppendNoAlloc: with room in dst, the appenders allocate nothing for
// compact data.
func TestAppendNoAlloc(t *testing.T) {
	dst := make([]byte, 0, 4096)
	for _, c := range appendCases[:3] {
		if n := testing.AllocsPerRun(100, func() { _, _ = appendAny(dst, c.v) }); n != 0 {
			t.Errorf("%s: %v allocs", c.name, n)
		}
	}
}

// fuzzRaw makes a json.RawMessage from fuzz input: nil when isNil.
func fuzzRaw(b []byte, isNil bool) json.RawMessage {
	if isNil {
		return nil
	}
	return json.RawMessage(b)
}

// rawSeeds are json.RawMessage seeds, valid and not.
var rawSeeds = []string{`"hi"`, `{"a":[1,2]}`, ` { "a" : 1 } `, `"<&>"`, "\"\u2028\"", `01`, `1e`, `"a\x"`, `[`, ``, `nul`, `-`, `1.`, `"\ud800"`, "\"\xff\"", `[[[[[[[[[[]]]]]]]]]]`, `{"a":1,}`, `1 2`}

func FuzzAppendMessage(f *testing.F) {
	for i, s := range rawSeeds {
		f.Add("message", uint64(i), "alice", "lobby", "", []byte(s), false, int64(i)-3, uint64(i), i%2 == 0)
	}
	f.Add("message", uint64(0), "a\u2028<", "", "b\xff", []byte(nil), true, int64(0), uint64(0), false)
	f.Fuzz(func(t *testing.T, typ string, id uint64, sender, room, receiver string, data []byte, nilData bool, ts int64, seq uint64, offline bool) {
		checkMarshal(t, &Message{Type: typ, ID: id, Sender: sender, Room: room, Receiver: receiver, Data: fuzzRaw(data, nilData), TS: ts, Seq: seq, Offline: offline})
	})
}

func FuzzAppendSent(f *testing.F) {
	for i, s := range rawSeeds {
		f.Add("sent", uint64(i), StatusDelivered, []byte(s))
	}
	f.Fuzz(func(t *testing.T, typ string, id uint64, status string, ref []byte) {
		checkMarshal(t, &Sent{Type: typ, ID: id, Status: status, Ref: ref})
	})
}

func FuzzAppendError(f *testing.F) {
	for _, s := range rawSeeds {
		f.Add("error", "invalid JSON: <"+s+">", []byte(s))
	}
	f.Fuzz(func(t *testing.T, typ, msg string, ref []byte) {
		checkMarshal(t, &Error{Type: typ, Error: msg, Ref: ref})
	})
}

func FuzzAppendPresence(f *testing.F) {
	f.Add("presence", "bob", StatusOnline, "dev", int64(0), false)
	f.Add("presence", "", "", "d\u2029", int64(-5), true)
	f.Fuzz(func(t *testing.T, typ, user, status, room string, lastSeen int64, reset bool) {
		checkMarshal(t, &Presence{Type: typ, User: user, Status: status, Room: room, LastSeen: lastSeen, Reset: reset})
	})
}

func FuzzAppendMembership(f *testing.F) {
	for i, s := range rawSeeds {
		f.Add(TypeJoined, "dev", i-2, uint64(i), uint8(i%3), uint64(i%2), []byte(s))
	}
	f.Fuzz(func(t *testing.T, typ, room string, members int, seq uint64, recovered uint8, missed uint64, ref []byte) {
		m := &Membership{Type: typ, Room: room, Members: members, Seq: seq, Missed: missed, Ref: ref}
		switch recovered % 3 {
		case 1:
			m.Recovered = &yes
		case 2:
			m.Recovered = &no
		}
		checkMarshal(t, m)
	})
}

func FuzzAppendHistory(f *testing.F) {
	for i, s := range rawSeeds {
		f.Add("history", "dev", []byte(s), []byte(`{"type":"message"}`), uint8(i%4), i%2 == 0, []byte(`"r"`))
	}
	f.Fuzz(func(t *testing.T, typ, room string, m1, m2 []byte, count uint8, more bool, ref []byte) {
		h := &History{Type: typ, Room: room, More: more, Ref: ref}
		switch count % 4 {
		case 1:
			h.Messages = []json.RawMessage{}
		case 2:
			h.Messages = []json.RawMessage{m1}
		case 3:
			h.Messages = []json.RawMessage{m1, nil, m2}
		}
		checkMarshal(t, h)
	})
}

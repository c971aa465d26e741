package scenario

import (
	"bytes"
	"encoding/json"
	"strconv"
	"sync"
	"time"

	"github.com/chatd/chatd/bench/check"
	"github.com/chatd/chatd/server/wire"
)

// envelope is the part of a server message the readers look at.
type envelope struct {
	Type   string `json:"type"`
	Error  string `json:"error"`
	Status string `json:"status"`
	Room   string `json:"room"`
}

// envelopeOf decodes a JSON server message that is not a chat message.
func envelopeOf(msg []byte) (envelope, bool) {
	var e envelope
	if len(msg) == 0 || msg[0] != '{' || json.Unmarshal(msg, &e) != nil {
		return e, false
	}
	return e, true
}

// chatMessage is what a reader needs of a {"type":"message"} delivery.
type chatMessage struct {
	sender  []byte
	data    []byte
	offline bool
}

var (
	messagePrefix = []byte(`{"type":"message"`)
	senderKey     = []byte(`"sender":"`)
	dataKey       = []byte(`"data":"`)
	offlineKey    = []byte(`"offline":true`)
)

// scanMessage picks sender and data out of a chat message without a full
// JSON decode: the readers see up to hundreds of thousands per second.
// Both must be plain strings (chatbench's payloads need no escapes); ok is
// false for anything else, which the caller decodes properly.
func scanMessage(msg []byte) (m chatMessage, ok bool) {
	if !bytes.HasPrefix(msg, messagePrefix) {
		return m, false
	}
	str := func(key []byte) []byte {
		i := bytes.Index(msg, key)
		if i < 0 {
			return nil
		}
		v := msg[i+len(key):]
		j := bytes.IndexByte(v, '"')
		if j < 0 || bytes.IndexByte(v[:j], '\\') >= 0 {
			return nil
		}
		return v[:j]
	}
	m.sender, m.data = str(senderKey), str(dataKey)
	m.offline = bytes.Contains(msg, offlineKey)
	return m, m.sender != nil && m.data != nil
}

// onChat handles one message read by a chat user.
func (w *worker) onChat(u *user, msg []byte) {
	m, ok := scanMessage(msg)
	if !ok {
		w.onOther(u, msg)
		return
	}
	s, seq, at, err := parsePayload(m.data, w.cfg.Size)
	if err != nil {
		if bytes.HasPrefix(m.data, []byte(payloadMagic)) {
			w.corruptPayload(m.data)
		} else {
			w.rec.Count(int(u.idx), "foreign", 1, time.Time{}) // someone else's traffic
		}
		return
	}
	if string(m.sender) != userName(w.cfg.Tag, int(s.From)) {
		w.corruptPayload(msg)
		return
	}
	if s.From == u.idx && s.Room {
		w.rec.Count(int(u.idx), "self", 1, time.Time{}) // own room message echoed back
		return
	}
	now := time.Now()
	out := u.inbox.Deliver(s, seq)
	w.live.delivered.Add(1)
	w.lastDelivery.Store(now.UnixNano())
	w.rec.Count(int(u.idx), "delivered", 1, now)
	if out == check.Duplicate {
		return
	}
	if m.offline {
		w.rec.Count(int(u.idx), "offline", 1, time.Time{})
	}
	if w.cfg.Scenario == Mailbox {
		// Time since the receivers were let in, not since sending.
		from := time.Unix(0, w.measureFrom.Load())
		w.rec.Latency(int(u.idx), "drain", now.Sub(from), now, true)
		return
	}
	if w.measured(at) {
		w.rec.Latency(int(u.idx), "latency", now.Sub(at), at, true)
	}
	if w.fan != nil && s.Room {
		w.fan.observe(s, seq, at, now)
	}
}

// onOther handles server messages other than chat messages.
func (w *worker) onOther(u *user, msg []byte) {
	env, ok := envelopeOf(msg)
	switch {
	case !ok:
		w.rec.Count(int(u.idx), "unparsed", 1, time.Time{})
	case env.Type == wire.TypeSent:
		u.acks.Add(1)
		w.rec.Count(int(u.idx), ackCounter(env.Status), 1, time.Time{})
	case env.Type == wire.TypeError:
		u.acks.Add(1) // a refusal is the reply to a message too
		w.error(int(u.idx), "server: "+env.Error)
	default:
		w.rec.Count(int(u.idx), "other_"+env.Type, 1, time.Time{})
	}
}

// appendPrivate appends {"id":1,"receiver":"NAME","data":"PAYLOAD"}: the
// id asks the server for a "sent" (delivered or stored), which the workers
// count and the mailbox scenario waits for.
func appendPrivate(b []byte, receiver string, payload func([]byte) []byte) []byte {
	b = append(b, `{"id":1,"receiver":`...)
	b = strconv.AppendQuote(b, receiver)
	b = append(b, `,"data":"`...)
	b = payload(b)
	return append(b, `"}`...)
}

// appendRoom appends a message to room: plain text for the lobby (which
// every server of the chat subset understands), else {"room":..,"data":..}.
func appendRoom(b []byte, room string, payload func([]byte) []byte) []byte {
	if room == "lobby" {
		return payload(b)
	}
	b = append(b, `{"room":`...)
	b = strconv.AppendQuote(b, room)
	b = append(b, `,"data":"`...)
	b = payload(b)
	return append(b, `"}`...)
}

// Fanout is one room message as a worker's receivers saw it: when it was
// due, when it reached the first and the last of them (Unix ns), and how
// many got it.
type Fanout struct {
	check.Stream
	Seq   uint32 `json:"seq"`
	At    int64  `json:"at"`
	First int64  `json:"first"`
	Last  int64  `json:"last"`
	N     int64  `json:"n"`
}

type fanKey struct {
	s   check.Stream
	seq uint32
}

// fanout collects Fanout records. It is safe for concurrent use.
type fanout struct {
	mu   sync.Mutex // guards recs
	recs map[fanKey]*Fanout
}

func newFanout() *fanout { return &fanout{recs: map[fanKey]*Fanout{}} }

func (f *fanout) observe(s check.Stream, seq uint32, at, now time.Time) {
	ns := now.UnixNano()
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.recs[fanKey{s, seq}]
	if r == nil {
		f.recs[fanKey{s, seq}] = &Fanout{Stream: s, Seq: seq, At: at.UnixNano(), First: ns, Last: ns, N: 1}
		return
	}
	r.First, r.Last = min(r.First, ns), max(r.Last, ns)
	r.N++
}

func (f *fanout) records() []Fanout {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Fanout, 0, len(f.recs))
	for _, r := range f.recs {
		out = append(out, *r)
	}
	return out
}

// ackCounter names the counter of a "sent" status without building the
// string for each ack.
func ackCounter(status string) string {
	switch status {
	case wire.StatusDelivered:
		return "acks_delivered"
	case wire.StatusStored:
		return "acks_stored"
	}
	return "acks_" + status
}

package chat_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/server/chat"
	"github.com/chatd/chatd/server/history"
)

// historyChat configures rooms without presence (so only messages and
// replies arrive), no rate limit, and applies more.
func historyChat(more func(h *chat.HistoryConfig)) func(*chat.Config) {
	return func(c *chat.Config) {
		c.Rooms.Presence = false
		c.Rate.MessagesPerSecond, c.Rate.Burst = 1e6, 1e6
		if more != nil {
			more(&c.History)
		}
	}
}

// joinAt sends a join of room (with since unless it is negative) and
// returns the joined reply.
func (c *client) joinAt(room string, since int64) map[string]any {
	c.t.Helper()
	req := map[string]any{"type": "join", "room": room}
	if since >= 0 {
		req["since"] = since
	}
	c.sendJSON(req)
	return c.expect(map[string]any{"type": "joined", "room": room})
}

// roomMsg is a room message as received: its frame's text and fields.
type roomMsg struct {
	raw  string
	seq  uint64
	data string
}

// readRoomMsg reads the next message, which must be a room message.
func (c *client) readRoomMsg() roomMsg {
	c.t.Helper()
	raw := c.text()
	var m struct {
		Type string `json:"type"`
		Seq  uint64 `json:"seq"`
		Data string `json:"data"`
	}
	if err := json.Unmarshal([]byte(raw), &m); err != nil || m.Type != "message" {
		c.t.Fatalf("want a room message, got %q", raw)
	}
	return roomMsg{raw: raw, seq: m.Seq, data: m.Data}
}

// historyReply is a decoded history answer.
type historyReply struct {
	Type     string            `json:"type"`
	Room     string            `json:"room"`
	Messages []json.RawMessage `json:"messages"`
	More     bool              `json:"more"`
	Error    string            `json:"error"`
}

// history asks for a page of room's history; cursor fields go in req.
func (c *client) history(room string, req map[string]any) historyReply {
	c.t.Helper()
	if req == nil {
		req = map[string]any{}
	}
	req["type"], req["room"] = "history", room
	c.sendJSON(req)
	var h historyReply
	raw := c.text()
	if err := json.Unmarshal([]byte(raw), &h); err != nil {
		c.t.Fatalf("history reply %q: %v", raw, err)
	}
	return h
}

// seqs returns the seq of each message of a history page.
func (h historyReply) seqs(t testing.TB) []uint64 {
	t.Helper()
	out := make([]uint64, len(h.Messages))
	for i, raw := range h.Messages {
		var m struct{ Seq uint64 }
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		out[i] = m.Seq
	}
	return out
}

func seqRange(from, to uint64) []uint64 {
	var out []uint64
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
}

func wantSeqs(t testing.TB, what string, got, want []uint64) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s: seqs %v, want %v", what, got, want)
	}
}

// TestHistoryRequest: room messages get seq 1, 2, 3... and a history
// request answers them in seq order, each exactly the JSON object members
// received live, paged by limit, before and after.
func TestHistoryRequest(t *testing.T) {
	e := start(t, options{chat: historyChat(func(h *chat.HistoryConfig) { h.Limit = 4 })})
	alice, bob := e.login(t, "alice"), e.login(t, "bob")
	alice.joinAt("dev", -1)
	if j := bob.joinAt("dev", -1); j["seq"] != nil {
		t.Fatalf("a room without messages: joined has seq %v", j["seq"])
	}
	empty := bob.history("dev", nil)
	if empty.Type != "history" || empty.Messages == nil || len(empty.Messages) != 0 || empty.More {
		t.Fatalf("empty room: %+v", empty)
	}
	live := map[uint64]string{}
	for i := 1; i <= 6; i++ {
		alice.sendJSON(map[string]any{"room": "dev", "data": fmt.Sprint("m", i)})
		m := bob.readRoomMsg()
		if m.seq != uint64(i) || m.data != fmt.Sprint("m", i) {
			t.Fatalf("message %d: got seq %d data %q", i, m.seq, m.data)
		}
		live[m.seq] = m.raw
	}
	if j := e.login(t, "carol").joinAt("dev", -1); j["seq"] != 6.0 {
		t.Fatalf("joined seq %v, want 6", j["seq"])
	}

	for _, tc := range []struct {
		name string
		req  map[string]any
		want []uint64
		more bool
	}{
		{"newest, default limit", nil, seqRange(3, 6), true},
		{"limit", map[string]any{"limit": 2}, seqRange(5, 6), true},
		{"limit over the cap", map[string]any{"limit": 50}, seqRange(3, 6), true},
		{"limit zero", map[string]any{"limit": 0}, seqRange(3, 6), true},
		{"before", map[string]any{"before": 5, "limit": 2}, seqRange(3, 4), true},
		{"before, first page", map[string]any{"before": 3}, seqRange(1, 2), false},
		{"before 1", map[string]any{"before": 1}, nil, false},
		{"before 0", map[string]any{"before": 0}, nil, false},
		{"before past the end", map[string]any{"before": 100, "limit": 1}, seqRange(6, 6), true},
		{"after", map[string]any{"after": 1, "limit": 2}, seqRange(2, 3), true},
		{"after 0", map[string]any{"after": 0}, seqRange(1, 4), true},
		{"after, last page", map[string]any{"after": 3}, seqRange(4, 6), false},
		{"after the last", map[string]any{"after": 6}, nil, false},
		{"cursor as a string", map[string]any{"after": "4"}, seqRange(5, 6), false},
		// 2^64-1: seq+1 wrapped to 0 and answered the oldest page.
		{"after the largest seq", map[string]any{"after": json.Number("18446744073709551615")}, nil, false},
		{"after the largest seq, as a string", map[string]any{"after": "18446744073709551615"}, nil, false},
		{"before the largest seq", map[string]any{"before": json.Number("18446744073709551615"), "limit": 2}, seqRange(5, 6), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := bob.history("dev", tc.req)
			if h.Type != "history" || h.Room != "dev" {
				t.Fatalf("reply %+v", h)
			}
			wantSeqs(t, "page", h.seqs(t), tc.want)
			if h.More != tc.more {
				t.Fatalf("more = %v, want %v", h.More, tc.more)
			}
			for _, raw := range h.Messages {
				var m struct{ Seq uint64 }
				_ = json.Unmarshal(raw, &m)
				if string(raw) != live[m.Seq] {
					t.Fatalf("seq %d in history:\n%s\nlive:\n%s", m.Seq, raw, live[m.Seq])
				}
			}
		})
	}

	// Walking back with before until more is false visits every message once.
	var all []uint64
	req := map[string]any{"limit": 4}
	for {
		h := bob.history("dev", req)
		all = append(h.seqs(t), all...)
		if !h.More {
			break
		}
		req = map[string]any{"limit": 4, "before": h.seqs(t)[0]}
	}
	wantSeqs(t, "walk", all, seqRange(1, 6))

	for _, tc := range []struct {
		name string
		req  string
		want string
	}{
		{"both cursors", `{"type":"history","room":"dev","before":3,"after":1,"id":7}`, `"before" or "after", not both`},
		{"not a number", `{"type":"history","room":"dev","before":"x","id":7}`, `"before" must be a seq`},
		{"negative", `{"type":"history","room":"dev","after":-1,"id":7}`, `"after" must be a seq`},
		{"fraction", `{"type":"history","room":"dev","after":1.5,"id":7}`, `"after" must be a seq`},
		{"exponent", `{"type":"history","room":"dev","after":1e3,"id":7}`, `"after" must be a seq`},
		{"too big", `{"type":"history","room":"dev","after":18446744073709551616,"id":7}`, `"after" must be a seq`},
		{"wrong type", `{"type":"history","id":7,"room":"dev","after":{}}`, `invalid JSON`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bob.send(tc.req)
			m := bob.expect(map[string]any{"type": "error", "ref": 7})
			if !strings.Contains(m["error"].(string), tc.want) {
				t.Fatalf("error %q, want it to contain %q", m["error"], tc.want)
			}
		})
	}
	bob.sendJSON(map[string]any{"room": "dev", "data": "still works"})
	alice.expect(map[string]any{"seq": 7, "data": "still works"})
}

// TestHistoryMembersOnly: only a member of a room may read its history.
func TestHistoryMembersOnly(t *testing.T) {
	e := start(t, options{chat: historyChat(nil)})
	alice, eve := e.login(t, "alice"), e.login(t, "eve")
	alice.joinAt("dev", -1)
	alice.sendJSON(map[string]any{"room": "dev", "data": "secret"})
	alice.sendJSON(map[string]any{"type": "history", "room": "dev"})
	if h := alice.next(); len(h["messages"].([]any)) != 1 {
		t.Fatalf("member: %v", h)
	}
	for _, room := range []string{"dev", "nowhere"} {
		eve.sendJSON(map[string]any{"type": "history", "room": room, "id": 1})
		m := eve.expect(map[string]any{"type": "error", "ref": 1})
		if !strings.Contains(m["error"].(string), "not a member") {
			t.Fatalf("room %q: %v", room, m)
		}
	}
	// Nor after leaving.
	alice.sendJSON(map[string]any{"type": "leave", "room": "dev"})
	alice.expect(map[string]any{"type": "left"})
	alice.sendJSON(map[string]any{"type": "history", "room": "dev", "id": 2})
	alice.expect(map[string]any{"type": "error", "ref": 2})
}

// TestJoinSince: a join with since replays the kept messages after it,
// right after the joined reply, and says whether that is all of them.
func TestJoinSince(t *testing.T) {
	e := start(t, options{chat: historyChat(func(h *chat.HistoryConfig) { h.Messages = 5 })})
	alice, bob := e.login(t, "alice"), e.login(t, "bob")
	alice.joinAt("dev", -1)
	for i := 1; i <= 10; i++ {
		alice.sendJSON(map[string]any{"room": "dev", "data": fmt.Sprint("m", i)})
	}
	alice.history("dev", nil) // answered after the messages went out
	// Kept: 6 to 10.
	for _, tc := range []struct {
		name      string
		since     int64
		recovered bool
		missed    float64
		replay    []uint64
	}{
		{"from the start", 0, false, 5, seqRange(6, 10)},
		{"too old", 2, false, 3, seqRange(6, 10)},
		{"just kept", 5, true, 0, seqRange(6, 10)},
		{"some", 8, true, 0, seqRange(9, 10)},
		{"up to date", 10, true, 0, nil},
		{"past the room's seq (seq reset)", 11, false, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := bob.joinAt("dev", tc.since)
			if j["seq"] != 10.0 || j["recovered"] != tc.recovered || (j["missed"] != nil && j["missed"] != tc.missed) ||
				(j["missed"] == nil && tc.missed != 0) {
				t.Fatalf("joined %v, want seq 10, recovered %v, missed %v", j, tc.recovered, tc.missed)
			}
			var got []uint64
			for range tc.replay {
				got = append(got, bob.readRoomMsg().seq)
			}
			wantSeqs(t, "replay", got, tc.replay)
			bob.sendJSON(map[string]any{"type": "leave", "room": "dev"})
			bob.expect(map[string]any{"type": "left"})
		})
	}

	// A plain join has no recovered; joining twice is still an error.
	j := bob.joinAt("dev", -1)
	if _, ok := j["recovered"]; ok {
		t.Fatalf("plain join: %v", j)
	}
	bob.sendJSON(map[string]any{"type": "join", "room": "dev", "since": 3, "id": 1})
	if m := bob.expect(map[string]any{"type": "error", "ref": 1}); !strings.Contains(m["error"].(string), "already in room") {
		t.Fatal(m)
	}
	for _, bad := range []string{`"x"`, `"5"`, `-1`, `1.5`, `{}`, `true`} {
		bob.send(`{"type":"join","room":"ops","id":2,"since":` + bad + `}`)
		m := bob.expect(map[string]any{"type": "error", "ref": 2})
		if !strings.Contains(m["error"].(string), `"since" must be`) {
			t.Fatalf("since %s: %v", bad, m)
		}
	}
	bob.send(`{"type":"join","room":"ops","since":null}`)
	bob.expect(map[string]any{"type": "joined", "room": "ops"})
}

// TestHistoryBounds: a room keeps at most chat.history.messages messages,
// max_bytes of them and none older than max_age.
func TestHistoryBounds(t *testing.T) {
	t.Run("messages", func(t *testing.T) {
		e := start(t, options{chat: historyChat(func(h *chat.HistoryConfig) { h.Messages = 3 })})
		a := e.login(t, "alice")
		a.joinAt("dev", -1)
		for i := range 7 {
			a.sendJSON(map[string]any{"room": "dev", "data": i})
		}
		h := a.history("dev", nil)
		wantSeqs(t, "kept", h.seqs(t), seqRange(5, 7))
		if h.More {
			t.Fatal("more with nothing older kept")
		}
	})
	t.Run("bytes", func(t *testing.T) {
		e := start(t, options{chat: historyChat(func(h *chat.HistoryConfig) { h.MaxBytes = 1024 })})
		a := e.login(t, "alice")
		a.joinAt("dev", -1)
		big := strings.Repeat("x", 300) // about 400 bytes of JSON each
		for range 6 {
			a.sendJSON(map[string]any{"room": "dev", "data": big})
		}
		h := a.history("dev", nil)
		size := 0
		for _, m := range h.Messages {
			size += len(m)
		}
		wantSeqs(t, "kept", h.seqs(t), seqRange(5, 6))
		if size > 1024 {
			t.Fatalf("kept %d bytes", size)
		}
		// A message bigger than max_bytes is not kept, but has its seq.
		a.sendJSON(map[string]any{"room": "dev", "data": strings.Repeat("y", 2000)})
		a.sendJSON(map[string]any{"room": "dev", "data": "small"})
		wantSeqs(t, "after a big one", a.history("dev", nil).seqs(t), []uint64{8})
	})
	t.Run("age", func(t *testing.T) {
		clock := newFakeClock()
		e := start(t, options{chat: historyChat(func(h *chat.HistoryConfig) { h.MaxAge = time.Hour }),
			opts: []chat.Option{chat.WithClock(clock.Now)}})
		a, b := e.login(t, "alice"), e.login(t, "bob")
		a.joinAt("dev", -1)
		b.joinAt("dev", -1)
		a.sendJSON(map[string]any{"room": "dev", "data": "old"})
		b.readRoomMsg()
		clock.Advance(40 * time.Minute)
		a.sendJSON(map[string]any{"room": "dev", "data": "newer"})
		b.readRoomMsg()
		wantSeqs(t, "both young", a.history("dev", nil).seqs(t), seqRange(1, 2))
		clock.Advance(30 * time.Minute) // "old" is 70 minutes old
		wantSeqs(t, "old expired", a.history("dev", nil).seqs(t), []uint64{2})
		// Missed counts the expired message.
		j := e.login(t, "carol").joinAt("dev", 0)
		if j["recovered"] != false || j["missed"] != 1.0 || j["seq"] != 2.0 {
			t.Fatalf("joined %v", j)
		}
		clock.Advance(time.Hour)
		if h := a.history("dev", nil); len(h.Messages) != 0 {
			t.Fatalf("all expired, still kept: %v", h.seqs(t))
		}
		a.sendJSON(map[string]any{"room": "dev", "data": "fresh"})
		wantSeqs(t, "seq goes on", a.history("dev", nil).seqs(t), []uint64{3})
	})
}

// TestHistoryOutlivesRoom: a room whose last member left keeps its history
// and seq; such kept rooms and rooms with members are at most
// chat.rooms.max_rooms together (a new room drops the one emptied longest
// ago), and one is dropped max_age after it emptied.
func TestHistoryOutlivesRoom(t *testing.T) {
	clock := newFakeClock()
	e := start(t, options{
		chat: historyChat(func(h *chat.HistoryConfig) { h.MaxAge = time.Hour }),
		opts: []chat.Option{chat.WithClock(clock.Now)},
	})
	// max_rooms is the default here; the bound is tested below.
	a := e.login(t, "alice")
	a.joinAt("dev", -1)
	a.sendJSON(map[string]any{"room": "dev", "data": "one"})
	a.sendJSON(map[string]any{"room": "dev", "data": "two"})
	a.sendJSON(map[string]any{"type": "leave", "room": "dev"})
	a.expect(map[string]any{"type": "left", "members": 0})
	a.sendJSON(map[string]any{"type": "rooms"})
	if r := a.next(); len(r["rooms"].([]any)) != 1 { // the lobby only
		t.Fatalf("an empty room is listed: %v", r)
	}
	j := a.joinAt("dev", 1)
	if j["seq"] != 2.0 || j["recovered"] != true {
		t.Fatalf("rejoined %v", j)
	}
	if m := a.readRoomMsg(); m.seq != 2 || m.data != "two" {
		t.Fatalf("replay %+v", m)
	}
	a.sendJSON(map[string]any{"room": "dev", "data": "three"})
	wantSeqs(t, "continued", a.history("dev", nil).seqs(t), seqRange(1, 3))

	// max_age after it emptied, the kept room is dropped (swept when a room
	// is created or emptied) and its seq starts again.
	a.sendJSON(map[string]any{"type": "leave", "room": "dev"})
	a.expect(map[string]any{"type": "left"})
	clock.Advance(time.Hour + time.Second)
	a.joinAt("other", -1) // sweeps
	if j := a.joinAt("dev", 3); j["seq"] != nil || j["recovered"] != false {
		t.Fatalf("after max_age: %v", j)
	}
}

// TestHistoryMaxRooms: kept histories of empty rooms count against
// chat.rooms.max_rooms; creating a room past it drops the one emptied
// longest ago, never refuses the join because of them.
func TestHistoryMaxRooms(t *testing.T) {
	e := start(t, options{chat: func(c *chat.Config) {
		historyChat(nil)(c)
		c.Rooms.MaxRooms = 3 // the lobby and two more
	}})
	a := e.login(t, "alice")
	fill := func(room string) {
		a.joinAt(room, -1)
		a.sendJSON(map[string]any{"room": room, "data": "x"})
		a.sendJSON(map[string]any{"type": "leave", "room": room})
		a.expect(map[string]any{"type": "left"})
	}
	fill("r1")
	fill("r2") // kept: r1, r2; with the lobby, 3 rooms
	fill("r3") // creating r3 drops r1, the one emptied longest ago
	for _, tc := range []struct {
		room string
		seq  any
	}{{"r3", 1.0}, {"r2", 1.0}, {"r1", nil}} {
		j := a.joinAt(tc.room, 0)
		if j["seq"] != tc.seq {
			t.Fatalf("%s: joined %v, want seq %v", tc.room, j, tc.seq)
		}
		if tc.seq != nil {
			a.readRoomMsg()
		}
		a.sendJSON(map[string]any{"type": "leave", "room": tc.room})
		a.expect(map[string]any{"type": "left"})
	}
	// Rooms with members are still capped as before.
	b, c := e.login(t, "bob"), e.login(t, "carol")
	b.joinAt("x1", -1)
	c.joinAt("x2", -1)
	a.sendJSON(map[string]any{"type": "join", "room": "x3", "id": 1})
	a.expect(map[string]any{"type": "error", "error": "too many rooms on this server", "ref": 1})
}

// TestHistoryOff: with chat.history.messages 0 nothing is kept; messages
// still have a seq, and a join with since reports them missed.
func TestHistoryOff(t *testing.T) {
	e := start(t, options{chat: historyChat(func(h *chat.HistoryConfig) { h.Messages = 0 })})
	a, b := e.login(t, "alice"), e.login(t, "bob")
	a.joinAt("dev", -1)
	b.joinAt("dev", -1)
	a.sendJSON(map[string]any{"room": "dev", "data": "x"})
	if m := b.readRoomMsg(); m.seq != 1 {
		t.Fatalf("seq %d", m.seq)
	}
	if h := a.history("dev", nil); h.Type != "history" || len(h.Messages) != 0 {
		t.Fatalf("history %+v", h)
	}
	j := e.login(t, "carol").joinAt("dev", 0)
	if j["recovered"] != false || j["missed"] != 1.0 {
		t.Fatalf("joined %v", j)
	}
}

// TestHistoryDurable: with a history store, a restart keeps each room's
// messages and seq; a clean shutdown loses nothing.
func TestHistoryDurable(t *testing.T) {
	dir := t.TempDir()
	open := func() *history.Store {
		st, err := history.Open(history.Config{Dir: dir, FlushInterval: time.Hour}, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	st := open()
	e1 := start(t, options{chat: historyChat(nil), opts: []chat.Option{chat.WithHistoryStore(st)}})
	a := e1.login(t, "alice")
	a.joinAt("dev", -1)
	var live []string
	b := e1.login(t, "bob")
	b.joinAt("dev", -1)
	for i := range 5 {
		a.sendJSON(map[string]any{"room": "dev", "data": fmt.Sprint(i)})
		live = append(live, b.readRoomMsg().raw)
	}
	// Stop the first server, then close the store: everything pending is
	// written (the hour-long interval never came).
	e1.stop(t)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	e2 := start(t, options{chat: historyChat(nil), opts: []chat.Option{chat.WithHistoryStore(open())}})
	c := e2.login(t, "carol")
	j := c.joinAt("dev", 0)
	if j["seq"] != 5.0 || j["recovered"] != true {
		t.Fatalf("after restart: %v", j)
	}
	for i := range 5 {
		if m := c.readRoomMsg(); m.raw != live[i] {
			t.Fatalf("replayed %s, live was %s", m.raw, live[i])
		}
	}
	d := e2.login(t, "dave")
	d.joinAt("dev", -1)
	d.sendJSON(map[string]any{"room": "dev", "data": "after"})
	if m := c.readRoomMsg(); m.seq != 6 {
		t.Fatalf("seq after restart %d, want 6", m.seq)
	}
}

// TestHistoryTextMode: a text-mode session gets a join's replay and a
// history reply as the lines it gets live messages as.
func TestHistoryTextMode(t *testing.T) {
	e := start(t, options{chat: historyChat(nil)})
	alice := e.login(t, "alice")
	alice.joinAt("dev", -1)
	alice.sendJSON(map[string]any{"room": "dev", "data": "one"})
	alice.sendJSON(map[string]any{"room": "dev", "data": map[string]any{"n": 2}})
	alice.history("dev", nil) // answered once both went out

	bob, _ := e.dialPath(t, "/ws?format=text")
	bob.send("bob")
	if got := bob.text(); got != "True" {
		t.Fatalf("login: %q", got)
	}
	bob.sendJSON(map[string]any{"type": "join", "room": "dev", "since": 0})
	for _, want := range []string{"joined dev (2 members), recovered", "[dev] alice: one", `[dev] alice: {"n":2}`} {
		if got := bob.text(); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	bob.sendJSON(map[string]any{"type": "history", "room": "dev"})
	if got, want := bob.text(), "history dev: 2 messages\n[dev] alice: one\n[dev] alice: {\"n\":2}"; got != want {
		t.Fatalf("history %q, want %q", got, want)
	}
	alice.sendJSON(map[string]any{"room": "dev", "data": "three"})
	if got := bob.text(); got != "[dev] alice: three" {
		t.Fatalf("live %q", got)
	}
}

// stop shuts the server down: every session closes.
func (e *env) stop(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.ts.Srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

// writeJSON sends v without failing the test, for other goroutines.
func writeJSON(c *client, v any) error {
	b, _ := json.Marshal(v)
	return c.c.WriteText(b) // within the Conn's 5 s
}

// readText reads the next text message without failing the test, for
// other goroutines.
func readText(c *client) (string, error) {
	return c.c.ReadText(5 * time.Second)
}

// fakeClock is a settable time source for chat.WithClock.
type fakeClock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Now()} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

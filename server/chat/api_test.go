package chat_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"go.uber.org/zap"

	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/api"
	"github.com/chatd/chatd/server/chat"
	"github.com/chatd/chatd/server/wire"
)

const apiKey = "0123456789abcdef-chat-api-test"

// apiClient talks to a running API.
type apiClient struct {
	t    testing.TB
	base string
	http *http.Client
}

// startAPI serves the API for e's chat service on 127.0.0.1:0, with its
// sender reserved, as chatd does.
func startAPI(t testing.TB, e *env, mutate func(*api.Config)) *apiClient {
	t.Helper()
	cfg := api.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.Key = apiKey
	if mutate != nil {
		mutate(&cfg)
	}
	e.svc.Reserve(cfg.Sender)
	s, err := api.Listen(cfg, api.NewHandler(cfg, apiKey, e.svc), zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	c := &apiClient{t: t, base: "http://" + s.Addr().String(), http: &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	t.Cleanup(func() {
		c.http.CloseIdleConnections()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("api shutdown: %v", err)
		}
	})
	return c
}

// call sends one request and decodes the answer into out (when not nil),
// returning the status.
func (c *apiClient) call(method, path string, body any, out any) int {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, r)
	req.Header.Set("Authorization", "Bearer "+apiKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Errorf("%s %s: %v", method, path, err)
		return 0
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Errorf("%s %s: %d %q: %v", method, path, resp.StatusCode, b, err)
		}
	}
	return resp.StatusCode
}

// TestAPIPublish: a publish reaches every member of the room as a room
// message from the API's sender, with the room's next seq, and is in the
// room's history; an unknown room is 404, a bad name 400.
func TestAPIPublish(t *testing.T) {
	e := start(t, options{})
	a := startAPI(t, e, func(c *api.Config) { c.Sender = "ops" })
	alice, bob := e.login(t, "alice"), e.login(t, "bob")
	for _, c := range []*client{alice, bob} {
		c.sendJSON(map[string]any{"type": "join", "room": "hall"})
		c.expect(map[string]any{"type": "joined", "room": "hall"})
	}
	alice.expect(map[string]any{"type": "presence", "user": "bob"})
	alice.sendJSON(map[string]any{"room": "hall", "data": "first"})
	bob.expect(map[string]any{"room": "hall", "data": "first", "seq": 1})

	var p api.Published
	if code := a.call("POST", "/api/publish", map[string]any{"room": "hall", "data": map[string]any{"k": "v"}}, &p); code != 200 {
		t.Fatalf("publish: %d", code)
	}
	if p.Seq != 2 || p.Room != "hall" || p.ID == 0 {
		t.Fatalf("publish answer %+v", p)
	}
	for _, c := range []*client{alice, bob} {
		c.expect(map[string]any{"type": "message", "room": "hall", "sender": "ops", "data": map[string]any{"k": "v"}, "seq": 2, "id": p.ID})
	}
	bob.sendJSON(map[string]any{"type": "history", "room": "hall", "id": "h"})
	h := bob.expect(map[string]any{"type": "history", "room": "hall"})
	msgs := h["messages"].([]any)
	if last := msgs[len(msgs)-1].(map[string]any); last["sender"] != "ops" || last["seq"] != float64(2) {
		t.Fatalf("history ends with %v", last)
	}
	var rm api.Room
	if code := a.call("GET", "/api/rooms/hall", nil, &rm); code != 200 || rm.Seq != 2 || rm.Members != 2 || !slices.Equal(rm.Users, []string{"alice", "bob"}) {
		t.Fatalf("room: %d %+v", code, rm)
	}
	var errAnswer struct{ Error string }
	if code := a.call("POST", "/api/publish", map[string]any{"room": "nowhere", "data": 1}, &errAnswer); code != 404 {
		t.Fatalf("unknown room: %d %v", code, errAnswer)
	}
	if code := a.call("POST", "/api/publish", map[string]any{"room": "no/such name", "data": 1}, &errAnswer); code != 400 {
		t.Fatalf("bad room name: %d %v", code, errAnswer)
	}
	if code := a.call("GET", "/api/rooms/nowhere", nil, &errAnswer); code != 404 {
		t.Fatalf("unknown room info: %d %v", code, errAnswer)
	}
}

// TestAPIPublishThousand publishes to a room of 1,000 members, each a real
// WebSocket connection: every member gets every message, with consecutive
// seqs, and the test logs the latency to the last member.
func TestAPIPublishThousand(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 1,000 connections")
	}
	const members, msgs = 1000, 5
	e := start(t, options{})
	a := startAPI(t, e, nil)
	clients := e.loginMembers(t, members, 60*time.Second)
	var rm api.Room
	if code := a.call("GET", "/api/rooms/lobby?limit=1", nil, &rm); code != 200 || rm.Members != members || !rm.More {
		t.Fatalf("lobby: %d %+v", code, rm)
	}
	first := rm.Seq + 1

	// Every member reads on its own goroutine and notes when it had all.
	var wg sync.WaitGroup
	got := make([]time.Time, members)
	errs := make(chan error, members)
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			deadline := time.Now().Add(60 * time.Second)
			want := first
			for want < first+msgs {
				op, b, err := c.c.ReadData(time.Until(deadline))
				if err != nil {
					errs <- fmt.Errorf("member %d: read: %v", i, err)
					return
				}
				var m wire.Message
				if op != ws.OpText || json.Unmarshal(b, &m) != nil || m.Type != wire.TypeMessage {
					continue // presence and the like
				}
				if m.Seq != want || m.Sender != "system" || m.Room != "lobby" {
					errs <- fmt.Errorf("member %d: got %s, want seq %d from system", i, b, want)
					return
				}
				want++
			}
			got[i] = time.Now()
		}()
	}
	begin := time.Now()
	var lat []time.Duration
	for k := 0; k < msgs; k++ {
		t0 := time.Now()
		var p api.Published
		if code := a.call("POST", "/api/publish", map[string]any{"room": "lobby", "data": fmt.Sprintf("news %d", k)}, &p); code != 200 || p.Seq != first+uint64(k) {
			t.Fatalf("publish %d: %d %+v", k, code, p)
		}
		lat = append(lat, time.Since(t0))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	last := slices.MaxFunc(got, func(a, b time.Time) int { return a.Compare(b) })
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	t.Logf("%d messages to %d members: publish answered in %v (median), all %d members had all in %v",
		msgs, members, lat[len(lat)/2].Round(time.Microsecond), members, last.Sub(begin).Round(time.Millisecond))
}

// TestAPISend: to an online user the answer is "delivered" and the user
// gets it from the API's sender; to an offline user it is "stored" and
// arrives at the next login; bad and reserved receivers are 400.
func TestAPISend(t *testing.T) {
	e := start(t, options{})
	a := startAPI(t, e, nil)
	bob := e.login(t, "bob")
	var s api.Sent
	if code := a.call("POST", "/api/send", map[string]any{"receiver": "bob", "data": "hello bob"}, &s); code != 200 || s.Status != wire.StatusDelivered {
		t.Fatalf("send to bob: %d %+v", code, s)
	}
	bob.expect(map[string]any{"type": "message", "sender": "system", "receiver": "bob", "data": "hello bob", "id": s.ID})

	if code := a.call("POST", "/api/send", map[string]any{"receiver": "carol", "data": "while you were out"}, &s); code != 200 || s.Status != wire.StatusStored {
		t.Fatalf("send to carol: %d %+v", code, s)
	}
	if n := e.box.count("carol"); n != 1 {
		t.Fatalf("carol's mailbox holds %d", n)
	}
	carol := e.login(t, "carol")
	carol.expect(map[string]any{"type": "message", "sender": "system", "data": "while you were out", "offline": true, "id": s.ID})

	var errAnswer struct{ Error string }
	for _, bad := range []string{"a b", "", "x:y", "system", "SYSTEM"} {
		if code := a.call("POST", "/api/send", map[string]any{"receiver": bad, "data": 1}, &errAnswer); code != 400 {
			t.Errorf("receiver %q: %d %v, want 400", bad, code, errAnswer)
		}
	}
}

// TestAPISendUnknownReceiver: with a backend that knows its users, a send
// to a name it does not know is 404 and stores nothing.
func TestAPISendUnknownReceiver(t *testing.T) {
	e := start(t, options{authn: &directoryAuth{fakeAuth{users: []string{"bob"}, maxSessions: 1}}})
	a := startAPI(t, e, nil)
	var errAnswer struct{ Error string }
	if code := a.call("POST", "/api/send", map[string]any{"receiver": "ghost", "data": 1}, &errAnswer); code != 404 {
		t.Fatalf("ghost: %d %v", code, errAnswer)
	}
	var s api.Sent
	if code := a.call("POST", "/api/send", map[string]any{"receiver": "bob", "data": 1}, &s); code != 200 || s.Status != wire.StatusStored {
		t.Fatalf("bob: %d %+v", code, s)
	}
}

// TestAPIDeliveredMeansWritten is TestDeliveredMeansWritten with the API as
// the sender: bob never reads and has a small receive buffer; many API
// sends run at once until bob is closed as a slow consumer. Every send
// answered "delivered" reached bob's socket, every "stored" one is in the
// mailbox, and some were stored (the test reached the close).
func TestAPIDeliveredMeansWritten(t *testing.T) {
	st := openStore(t)
	e := start(t, options{store: st, server: func(c *server.Config) {
		c.Limits.WriteBudgetBytes = 256 << 10
		c.CloseTimeout = 300 * time.Millisecond
	}})
	a := startAPI(t, e, func(c *api.Config) { c.SendTimeout = 30 * time.Second })
	bob := e.dialSlow(t)
	bob.send("bob")
	if got := bob.text(); got != "True" {
		t.Fatalf("login: %q", got)
	}
	const workers, each = 30, 10
	payload := bytes.Repeat([]byte("p"), 40000) // 12 MB in all
	var mu sync.Mutex
	status := map[uint64]string{}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				var s api.Sent
				if code := a.call("POST", "/api/send", map[string]any{"receiver": "bob", "data": fmt.Sprintf("%d.%d:%s", w, i, payload)}, &s); code != 200 {
					t.Errorf("send: %d", code)
					return
				}
				mu.Lock()
				status[s.ID] = s.Status
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	got := bob.privateIDs("bob")
	delivered, storedN := checkOutcomes(t, status, got, st, "bob")
	if storedN == 0 {
		t.Fatalf("all %d sends answered delivered to a reader that never read: the test did not reach the slow-consumer close", len(status))
	}
	t.Logf("%d delivered (all found on the socket), %d stored (all in the mailbox)", delivered, storedN)
}

// TestAPIDisconnect: every session of the user is closed with
// CloseDisconnected and the given reason; the answer counts them; a user
// who is not online has 0.
func TestAPIDisconnect(t *testing.T) {
	e := start(t, options{authn: &fakeAuth{maxSessions: 2}})
	a := startAPI(t, e, nil)
	b1, b2 := e.login(t, "bob"), e.login(t, "bob")
	alice := e.login(t, "alice")
	var d struct {
		User     string
		Sessions int
	}
	if code := a.call("POST", "/api/disconnect", map[string]any{"user": "bob", "reason": "account suspended"}, &d); code != 200 || d.Sessions != 2 {
		t.Fatalf("disconnect: %d %+v", code, d)
	}
	for _, c := range []*client{b1, b2} {
		if code := c.closeCode(); code != chat.CloseDisconnected {
			t.Fatalf("close code %d, want %d", code, chat.CloseDisconnected)
		}
		c.c.Close() // bob's sessions leave the online list once their close completes
	}
	waitFor(t, func() bool {
		var o struct{ Users []string }
		a.call("GET", "/api/online", nil, &o)
		return slices.Equal(o.Users, []string{"alice"})
	})
	if code := a.call("POST", "/api/disconnect", map[string]any{"user": "nobody"}, &d); code != 200 || d.Sessions != 0 {
		t.Fatalf("disconnect nobody: %d %+v", code, d)
	}
	if code := a.call("POST", "/api/disconnect", map[string]any{"user": "a b"}, nil); code != 400 {
		t.Fatalf("bad name: %d", code)
	}
	alice.sendJSON(map[string]any{"type": "who", "room": "lobby"})
	alice.expect(map[string]any{"type": "who", "users": []string{"alice"}})
}

// TestAPIReservedName: while the API is on, its sender's name, and a name
// that looks the same, cannot log in, nor be sent private messages; a
// session that had it when the API started is closed.
func TestAPIReservedName(t *testing.T) {
	e := start(t, options{})
	early := e.login(t, "system")
	startAPI(t, e, nil)
	if code := early.closeCode(); code != chat.CloseDisconnected {
		t.Fatalf("early session: close code %d", code)
	}
	for _, name := range []string{"system", "SYSTEM", "System"} {
		c := e.dial(t)
		c.sendJSON(map[string]any{"type": "login", "name": name})
		c.expect(map[string]any{"type": "login_error", "error": "name is reserved"})
	}
	alice := e.login(t, "systems") // only the name itself, and its lookalikes
	alice.sendJSON(map[string]any{"receiver": "System", "data": "hi", "id": 1})
	alice.expect(map[string]any{"type": "error", "error": "invalid receiver: name is reserved", "ref": 1})
	if n := e.box.count("system") + e.box.count("System"); n != 0 {
		t.Fatalf("%d messages stored for the reserved name", n)
	}
}

// TestAPIOnlineAndRooms pages through the online users and the rooms.
func TestAPIOnlineAndRooms(t *testing.T) {
	e := start(t, options{})
	a := startAPI(t, e, nil)
	for _, n := range []string{"carol", "alice", "bob"} {
		c := e.login(t, n)
		if n != "bob" {
			c.sendJSON(map[string]any{"type": "join", "room": "room-" + n})
			c.expect(map[string]any{"type": "joined"})
		}
	}
	var o struct {
		Users []string
		More  bool
		Next  string
	}
	if code := a.call("GET", "/api/online?limit=2", nil, &o); code != 200 || !slices.Equal(o.Users, []string{"alice", "bob"}) || !o.More || o.Next != "bob" {
		t.Fatalf("online page 1: %d %+v", code, o)
	}
	o.Users, o.More, o.Next = nil, false, ""
	if code := a.call("GET", "/api/online?limit=2&after=bob", nil, &o); code != 200 || !slices.Equal(o.Users, []string{"carol"}) || o.More || o.Next != "" {
		t.Fatalf("online page 2: %d %+v", code, o)
	}
	var r struct {
		Rooms []api.RoomInfo
		More  bool
		Next  string
	}
	if code := a.call("GET", "/api/rooms?limit=2", nil, &r); code != 200 || !r.More || r.Next != "room-alice" ||
		!slices.Equal(r.Rooms, []api.RoomInfo{{Name: "lobby", Members: 3}, {Name: "room-alice", Members: 1}}) {
		t.Fatalf("rooms page 1: %d %+v", code, r)
	}
	r.Rooms, r.More, r.Next = nil, false, ""
	if code := a.call("GET", "/api/rooms?after=room-alice", nil, &r); code != 200 || r.More ||
		!slices.Equal(r.Rooms, []api.RoomInfo{{Name: "room-carol", Members: 1}}) {
		t.Fatalf("rooms page 2: %d %+v", code, r)
	}
	var rm api.Room
	if code := a.call("GET", "/api/rooms/lobby?limit=2&after=alice", nil, &rm); code != 200 || rm.Members != 3 ||
		!slices.Equal(rm.Users, []string{"bob", "carol"}) || rm.More {
		t.Fatalf("lobby after alice: %d %+v", code, rm)
	}
}

// TestAPIPublishWhileRoomEmpties publishes to a room whose only member
// joins and leaves over and over: each publish is a message with the next
// seq (200) or finds no room (404), never anything else, and the member
// gets the ones answered 200 while it was in, in seq order.
func TestAPIPublishWhileRoomEmpties(t *testing.T) {
	e := start(t, options{chat: func(c *chat.Config) { c.Rate.MessagesPerSecond, c.Rate.Burst = 1e6, 1e6 }})
	a := startAPI(t, e, nil)
	m := e.login(t, "flapper")
	stop := make(chan struct{})
	codes := map[int]int{}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			var p api.Published
			codes[a.call("POST", "/api/publish", map[string]any{"room": "flap", "data": "x"}, &p)]++
		}
	}()
	var last float64
	for i := 0; i < 200; i++ {
		m.sendJSON(map[string]any{"type": "join", "room": "flap"})
		m.sendJSON(map[string]any{"type": "leave", "room": "flap"})
		for done := false; !done; {
			msg := m.next()
			switch msg["type"] {
			case "left":
				done = true
			case "message":
				if seq := msg["seq"].(float64); seq <= last {
					t.Fatalf("seq %v after %v", seq, last)
				} else {
					last = seq
				}
			}
		}
	}
	close(stop)
	wg.Wait()
	for code := range codes {
		if code != http.StatusOK && code != http.StatusNotFound {
			t.Fatalf("answers by status: %v; want only 200 and 404", codes)
		}
	}
	t.Logf("answers by status: %v", codes)
}

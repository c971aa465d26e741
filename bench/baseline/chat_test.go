package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/chatd/chatd/server/wire"
)

// TestLoginLoop: refused names are answered with chatd's reason and the
// connection waits for the next try; after "True" text is chat.
func TestLoginLoop(t *testing.T) {
	ts := MustRunServer(t)
	bob := ts.login(t, "bob")
	c := ts.dial(t, "/ws")
	cases := []struct{ name, send, want string }{
		{"empty", "", "name is empty"},
		{"space", "alice smith", "name contains whitespace"},
		{"trailing newline", "alice\n", "name contains whitespace"},
		{"json login", `{"type":"login","name":"alice"}`, "name contains ':'"},
		{"control", "al\x01ice", "name contains a control character"},
		{"too long", strings.Repeat("a", 33), "name is longer than 32 characters"},
		{"online", "bob", "name is already online"},
		{"good", "alice", wire.PlainLoginOK},
	}
	for _, tc := range cases {
		if got := ask(t, c, tc.send); got != tc.want {
			t.Errorf("%s: sent %q, got %q, want %q", tc.name, tc.send, got, tc.want)
		}
	}
	send(t, c, "bob") // logged in now: this is a lobby message, not a login
	var m wire.Message
	recvJSON(t, bob, wire.TypeMessage, &m)
	if m.Sender != "alice" || string(m.Data) != `"bob"` {
		t.Errorf("after login: bob got %+v", m)
	}
}

func TestLoginBinary(t *testing.T) {
	ts := MustRunServer(t)
	c := ts.dial(t, "/ws")
	if err := c.WriteMessage(websocket.BinaryMessage, []byte("alice")); err != nil {
		t.Fatal(err)
	}
	if got, want := recv(t, c), "binary messages are not accepted before login: send your name as text"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := ask(t, c, "alice"); got != wire.PlainLoginOK {
		t.Errorf("then: got %q", got)
	}
}

// TestDuplicateName: one session per name; the name is free again once its
// session has gone.
func TestDuplicateName(t *testing.T) {
	ts := MustRunServer(t)
	alice := ts.login(t, "alice")
	c := ts.dial(t, "/ws")
	for range 2 {
		if got := ask(t, c, "alice"); got != "name is already online" {
			t.Fatalf("second alice: got %q", got)
		}
	}
	alice.Close()
	deadline := time.Now().Add(waitFor)
	for ask(t, c, "alice") != wire.PlainLoginOK {
		if time.Now().After(deadline) {
			t.Fatal("alice's name not free after she left")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestLobby: lobby messages reach everyone but the sender, in chatd's
// exact form.
func TestLobby(t *testing.T) {
	ts := MustRunServer(t)
	alice, bob, carol := ts.login(t, "alice"), ts.login(t, "bob"), ts.login(t, "carol")
	before := time.Now().UnixMilli()
	send(t, alice, "hello everyone")
	send(t, alice, ` {"data":{"a":[1,2]}}`)
	send(t, alice, `{"type":"message","room":"lobby","sender":"alice","data":3,"id":7}`)
	for _, c := range []*websocket.Conn{bob, carol} {
		for _, data := range []string{`"hello everyone"`, `{"a":[1,2]}`, `3`} {
			got := recv(t, c)
			var m wire.Message
			if err := json.Unmarshal([]byte(got), &m); err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprintf(`{"type":"message","id":%d,"sender":"alice","room":"lobby","data":%s,"ts":%d}`, m.ID, data, m.TS)
			if got != want || m.ID == 0 || m.TS < before || m.TS > time.Now().UnixMilli() {
				t.Errorf("got  %s\nwant %s (id > 0, ts from %d)", got, want, before)
			}
		}
	}
	// The id'd message is acknowledged, and nothing of its own came back
	// before: alice's queue is FIFO.
	var sent wire.Sent
	recvJSON(t, alice, wire.TypeSent, &sent)
	if sent.Status != wire.StatusDelivered || string(sent.Ref) != "7" {
		t.Errorf("sent: %+v", sent)
	}
	send(t, alice, `{"receiver":"bob","data":"probe","id":8}`)
	recvJSON(t, alice, wire.TypeSent, &sent)
}

// TestPrivate: a private message reaches only its receiver, stamped with the
// sender, and the sender gets "sent" with the same id.
func TestPrivate(t *testing.T) {
	ts := MustRunServer(t)
	alice, bob, carol := ts.login(t, "alice"), ts.login(t, "bob"), ts.login(t, "carol")
	send(t, alice, `{"receiver":"bob","data":"hi bob","id":7}`)
	got := recv(t, bob)
	var m wire.Message
	if err := json.Unmarshal([]byte(got), &m); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf(`{"type":"message","id":%d,"sender":"alice","receiver":"bob","data":"hi bob","ts":%d}`, m.ID, m.TS)
	if got != want {
		t.Errorf("bob got  %s\nwant     %s", got, want)
	}
	if got, want := recv(t, alice), fmt.Sprintf(`{"type":"sent","id":%d,"status":"delivered","ref":7}`, m.ID); got != want {
		t.Errorf("alice got %s, want %s", got, want)
	}
	// carol's first message is the marker: the private one never came.
	send(t, bob, "marker")
	recvJSON(t, carol, wire.TypeMessage, &m)
	if m.Sender != "bob" || string(m.Data) != `"marker"` {
		t.Errorf("carol got %+v, want bob's marker first", m)
	}
	if got, want := ask(t, carol, `{"receiver":"dave","data":1,"id":"x"}`), `{"type":"error","error":"receiver not online","ref":"x"}`; got != want {
		t.Errorf("to dave: got %s, want %s", got, want)
	}
}

// TestErrors: what the baseline refuses after login, in chatd's words.
func TestErrors(t *testing.T) {
	ts := MustRunServer(t)
	alice := ts.login(t, "alice")
	cases := []struct{ name, send, want string }{
		{"invalid JSON", `{"data":`, `invalid JSON: unexpected end of JSON input`},
		{"no data", `{"receiver":"bob","id":1}`, `a message needs data","ref":1`},
		{"spoofed sender", `{"sender":"bob","data":1}`, `sender must be your own name, alice`},
		{"room and receiver", `{"room":"lobby","receiver":"bob","data":1}`, `a message goes to a room or a receiver, not both`},
		{"other room", `{"room":"dev","data":1}`, `not a member of room dev: join it first`},
		{"bad receiver", `{"receiver":"a b","data":1}`, `invalid receiver: name contains whitespace`},
		{"unknown type", `{"type":"join","room":"dev"}`, `unknown type \"join\"`},
	}
	for _, tc := range cases {
		want := `{"type":"error","error":"` + tc.want
		if !strings.HasSuffix(want, `"ref":1`) {
			want += `"`
		}
		want += "}"
		if got := ask(t, alice, tc.send); got != want {
			t.Errorf("%s: got %s, want %s", tc.name, got, want)
		}
	}
	if err := alice.WriteMessage(websocket.BinaryMessage, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if got, want := recv(t, alice), `{"type":"error","error":"binary messages are not supported: send text or JSON"}`; got != want {
		t.Errorf("binary: got %s, want %s", got, want)
	}
}

// TestSlowConsumer: a client that stops reading is dropped with 4008 once
// its send channel is full, and its name is free again.
func TestSlowConsumer(t *testing.T) {
	ts := MustRunServer(t)
	slow := ts.login(t, "slow")
	talker := ts.login(t, "talker")
	probe := ts.dial(t, "/ws")
	big := strings.Repeat("x", 60<<10)
	deadline := time.Now().Add(waitFor)
	for ask(t, probe, "slow") != wire.PlainLoginOK {
		if time.Now().After(deadline) {
			t.Fatal("slow client not dropped")
		}
		for range 64 {
			send(t, talker, big)
		}
	}
	// What was queued is still written, then the close frame.
	slow.SetReadDeadline(time.Now().Add(waitFor))
	for {
		_, _, err := slow.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != closeSlowConsumer {
			t.Fatalf("slow client: %v, want close %d", err, closeSlowConsumer)
		}
		break
	}
}

package wire

import (
	"encoding/json"
	"testing"
)

// TestEncoding pins the JSON of every server message to the examples in
// docs/PROTOCOL.md: a renamed field is a broken client.
func TestEncoding(t *testing.T) {
	ref := json.RawMessage(`1`)
	cases := []struct {
		name string
		v    any
		want string
	}{
		{"login_ok", LoginOK{Type: TypeLoginOK, User: "alice", Rooms: []string{"lobby"}, Ref: ref},
			`{"type":"login_ok","user":"alice","rooms":["lobby"],"ack":false,"ref":1}`},
		{"login_error", LoginError{Type: TypeLoginError, Error: "wrong password", AttemptsLeft: 4, Ref: ref},
			`{"type":"login_error","error":"wrong password","attemptsLeft":4,"ref":1}`},
		{"room message", Message{Type: TypeMessage, ID: 7, Sender: "alice", Room: "lobby", Data: json.RawMessage(`"hello"`), TS: 9},
			`{"type":"message","id":7,"sender":"alice","room":"lobby","data":"hello","ts":9}`},
		{"offline private message", Message{Type: TypeMessage, ID: 7, Sender: "alice", Receiver: "bob", Data: json.RawMessage(`{"a":1}`), TS: 9, Offline: true},
			`{"type":"message","id":7,"sender":"alice","receiver":"bob","data":{"a":1},"ts":9,"offline":true}`},
		{"sent", Sent{Type: TypeSent, ID: 7, Status: StatusStored},
			`{"type":"sent","id":7,"status":"stored"}`},
		{"joined", Membership{Type: TypeJoined, Room: "dev", Members: 1, Ref: ref},
			`{"type":"joined","room":"dev","members":1,"ref":1}`},
		{"who", Who{Type: TypeWho, Room: "dev", Users: []string{"alice", "bob"}},
			`{"type":"who","room":"dev","users":["alice","bob"]}`},
		{"rooms", Rooms{Type: TypeRooms, Rooms: []RoomInfo{{Name: "lobby", Members: 3, Joined: true}}},
			`{"type":"rooms","rooms":[{"name":"lobby","members":3,"joined":true}]}`},
		{"who page", Who{Type: TypeWho, Room: "dev", Users: []string{"alice", "bob"}, More: true, Next: "bob", Ref: ref},
			`{"type":"who","room":"dev","users":["alice","bob"],"more":true,"next":"bob","ref":1}`},
		{"rooms page", Rooms{Type: TypeRooms, Rooms: []RoomInfo{{Name: "dev", Members: 2}}, More: true, Next: "dev"},
			`{"type":"rooms","rooms":[{"name":"dev","members":2,"joined":false}],"more":true,"next":"dev"}`},
		{"presence online", Presence{Type: TypePresence, User: "bob", Status: StatusOnline, Room: "dev"},
			`{"type":"presence","user":"bob","status":"online","room":"dev"}`},
		{"presence left", Presence{Type: TypePresence, User: "bob", Status: StatusLeft, Room: "dev"},
			`{"type":"presence","user":"bob","status":"left","room":"dev"}`},
		{"presence", Presence{Type: TypePresence, User: "bob", Status: StatusOffline, Room: "dev", LastSeen: 5},
			`{"type":"presence","user":"bob","status":"offline","room":"dev","lastSeen":5}`},
		{"presence reset", Presence{Type: TypePresence, Room: "dev", Reset: true},
			`{"type":"presence","room":"dev","reset":true}`},
		{"seen", Seen{Type: TypeSeen, User: "bob", Online: true},
			`{"type":"seen","user":"bob","online":true}`},
		{"error", Error{Type: TypeError, Error: "a message needs data", Ref: ref},
			`{"type":"error","error":"a message needs data","ref":1}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := json.Marshal(tc.v)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestRequest decodes the client forms of docs/PROTOCOL.md.
func TestRequest(t *testing.T) {
	var r Request
	in := `{"type":"login","name":"bob","password":"pw","token":"t","ack":true,"id":"x"}`
	if err := json.Unmarshal([]byte(in), &r); err != nil {
		t.Fatal(err)
	}
	if r.Type != TypeLogin || r.Name != "bob" || r.Password != "pw" || r.Token != "t" || !r.Ack || string(r.ID) != `"x"` {
		t.Fatalf("login: %+v", r)
	}
	r = Request{}
	in = `{"sender":"alice","receiver":"bob","room":"r","data":[1,2],"user":"u"}`
	if err := json.Unmarshal([]byte(in), &r); err != nil {
		t.Fatal(err)
	}
	if r.Sender != "alice" || r.Receiver != "bob" || r.Room != "r" || string(r.Data) != "[1,2]" || r.User != "u" {
		t.Fatalf("message: %+v", r)
	}
	r = Request{}
	in = `{"type":"rooms","after":"dev","limit":50}`
	if err := json.Unmarshal([]byte(in), &r); err != nil {
		t.Fatal(err)
	}
	if r.Type != TypeRooms || r.After != "dev" || r.Limit != 50 {
		t.Fatalf("rooms page: %+v", r)
	}
	r = Request{}
	if err := json.Unmarshal([]byte(`{"receiver":"bob"}`), &r); err != nil || r.Data != nil {
		t.Fatalf("absent data must stay nil: %+v %v", r, err)
	}
}

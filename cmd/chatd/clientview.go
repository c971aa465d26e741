package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/chatd/chatd/server/wire"
)

// chatView turns typed lines into /ws requests and /ws messages into
// readable lines for `chatd client`:
//
//	True                       plain login accepted (shown as received)
//	name is already online     plain login refused (shown as received)
//	* logged in as alice (rooms: lobby)        JSON login accepted
//	! login: wrong password (4 attempts left)  JSON login refused
//	[lobby] alice: hi          room message
//	[alice -> you] hi          private message ("you" is the logged-in name)
//	[you -> bob] hi            private message from another session of yours
//	* bob joined dev           presence; also "left dev", "went offline (dev)"
//	* joined dev (2 members)   answer to /join; /leave gives "left dev (...)"
//	* dev: alice, bob          answer to /who
//	* rooms: dev (2, joined)   answer to /rooms
//	! not a member of room x   an error
//
// A message from the offline mailbox has " (offline)" after its prefix.
// Data that is not a JSON string is shown as JSON. `sent` acknowledgements
// are not shown; anything else is printed as received.
//
// Lines typed: /join ROOM, /leave ROOM, /msg USER TEXT, /who [ROOM] (default
// lobby) and /rooms become JSON requests; any other line is sent as typed.
//
// outgoing runs on the client's main loop and render on its read loop, so
// the state they share is guarded.
type chatView struct {
	mu      sync.Mutex // guards me and pending
	me      string     // the logged-in name, once known
	pending []string   // names of plain-text login attempts not answered yet
}

func newChatView() *chatView { return &chatView{} }

// outgoing returns the message to send for a typed line.
func (v *chatView) outgoing(line string) []byte {
	cmd, rest, _ := strings.Cut(line, " ")
	rest = strings.TrimSpace(rest)
	var req any
	switch cmd {
	case "/join":
		req = wire.Request{Type: wire.TypeJoin, Room: rest}
	case "/leave":
		req = wire.Request{Type: wire.TypeLeave, Room: rest}
	case "/who":
		if rest == "" {
			rest = "lobby"
		}
		req = wire.Request{Type: wire.TypeWho, Room: rest}
	case "/rooms":
		req = wire.Request{Type: wire.TypeRooms}
	case "/msg":
		user, text, _ := strings.Cut(rest, " ")
		data, _ := json.Marshal(strings.TrimSpace(text))
		req = wire.Request{Receiver: user, Data: data}
	default:
		v.mu.Lock()
		if v.me == "" && !strings.HasPrefix(line, "{") {
			name, _, _ := strings.Cut(line, ":") // passwords: name:password
			v.pending = append(v.pending, name)
		}
		v.mu.Unlock()
		return []byte(line)
	}
	b, _ := json.Marshal(req)
	return b
}

// render returns the line to print for a message received, and whether to
// print it at all.
func (v *chatView) render(msg []byte) (string, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	var head struct {
		Type string `json:"type"`
	}
	if len(msg) == 0 || msg[0] != '{' || json.Unmarshal(msg, &head) != nil {
		// A plain-text login answer, answering the oldest attempt.
		if len(v.pending) > 0 {
			if string(msg) == wire.PlainLoginOK && v.me == "" {
				v.me = v.pending[0]
			}
			v.pending = v.pending[1:]
		}
		return string(msg), true
	}
	if s, ok := v.renderJSON(head.Type, msg); ok {
		return s, s != ""
	}
	return string(msg), true
}

// renderJSON renders a message of type typ, or reports that it cannot.
func (v *chatView) renderJSON(typ string, msg []byte) (string, bool) {
	switch typ {
	case wire.TypeMessage:
		var m wire.Message
		if json.Unmarshal(msg, &m) != nil || m.Sender == "" {
			return "", false
		}
		var prefix string
		switch {
		case m.Room != "":
			prefix = fmt.Sprintf("[%s] %s:", m.Room, v.name(m.Sender))
		case m.Receiver != "":
			prefix = fmt.Sprintf("[%s -> %s]", v.name(m.Sender), v.name(m.Receiver))
		default:
			return "", false
		}
		if m.Offline {
			prefix += " (offline)"
		}
		return prefix + " " + dataText(m.Data), true
	case wire.TypeSent:
		return "", true // not shown: the client does not track requests
	case wire.TypeLoginOK:
		var m wire.LoginOK
		if json.Unmarshal(msg, &m) != nil {
			return "", false
		}
		v.me = m.User
		return fmt.Sprintf("* logged in as %s (rooms: %s)", m.User, strings.Join(m.Rooms, ", ")), true
	case wire.TypeLoginError:
		var m wire.LoginError
		if json.Unmarshal(msg, &m) != nil {
			return "", false
		}
		return fmt.Sprintf("! login: %s (%d attempts left)", m.Error, m.AttemptsLeft), true
	case wire.TypeError:
		var m wire.Error
		if json.Unmarshal(msg, &m) != nil {
			return "", false
		}
		return "! " + m.Error, true
	case wire.TypeJoined, wire.TypeLeft:
		var m wire.Membership
		if json.Unmarshal(msg, &m) != nil {
			return "", false
		}
		return fmt.Sprintf("* %s %s (%d members)", typ, m.Room, m.Members), true
	case wire.TypePresence:
		var m wire.Presence
		if json.Unmarshal(msg, &m) != nil {
			return "", false
		}
		switch {
		case m.Reset:
			return fmt.Sprintf("* %s: many comings and goings (/who %s)", m.Room, m.Room), true
		case m.Status == wire.StatusOnline:
			return fmt.Sprintf("* %s joined %s", m.User, m.Room), true
		case m.Status == wire.StatusLeft:
			return fmt.Sprintf("* %s left %s", m.User, m.Room), true
		case m.Status == wire.StatusOffline:
			return fmt.Sprintf("* %s went offline (%s)", m.User, m.Room), true
		}
	case wire.TypeWho:
		var m wire.Who
		if json.Unmarshal(msg, &m) != nil {
			return "", false
		}
		s := fmt.Sprintf("* %s: %s", m.Room, strings.Join(m.Users, ", "))
		if m.More {
			s += ", …"
		}
		return s, true
	case wire.TypeRooms:
		var m wire.Rooms
		if json.Unmarshal(msg, &m) != nil {
			return "", false
		}
		rooms := make([]string, len(m.Rooms))
		for i, r := range m.Rooms {
			rooms[i] = fmt.Sprintf("%s (%d)", r.Name, r.Members)
			if r.Joined {
				rooms[i] = fmt.Sprintf("%s (%d, joined)", r.Name, r.Members)
			}
		}
		s := "* rooms: " + strings.Join(rooms, ", ")
		if m.More {
			s += ", …"
		}
		return s, true
	case wire.TypeSeen:
		var m wire.Seen
		if json.Unmarshal(msg, &m) != nil {
			return "", false
		}
		switch {
		case m.Online:
			return fmt.Sprintf("* %s is online", m.User), true
		case m.LastSeen != 0:
			return fmt.Sprintf("* %s was last seen %s", m.User, time.UnixMilli(m.LastSeen).Format(time.DateTime)), true
		}
		return fmt.Sprintf("* %s is offline", m.User), true
	}
	return "", false
}

// name is user as shown: "you" for the logged-in name.
func (v *chatView) name(user string) string {
	if user == v.me && v.me != "" {
		return "you"
	}
	return user
}

// dataText is a message's data as shown: a string unquoted, else its JSON.
func dataText(data json.RawMessage) string {
	var s string
	if json.Unmarshal(data, &s) == nil {
		return s
	}
	return string(data)
}

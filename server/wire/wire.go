package wire

import (
	"encoding/json"
	"reflect"
)

// Message types sent by clients.
const (
	TypeLogin = "login"
	TypeJoin  = "join"
	TypeLeave = "leave"
	TypeWho   = "who"
	TypeRooms = "rooms"
	TypeAck   = "ack"
	TypeSeen  = "seen"
	// TypeHistory asks for a page of a room's recent messages; the answer
	// has the same type.
	TypeHistory = "history"
	// TypeMessage may be omitted: an object with "data" is a message.
	TypeMessage = "message"
)

// Message types sent by the server (besides TypeMessage, TypeWho,
// TypeRooms and TypeSeen, which answer the requests of the same name).
const (
	TypeLoginOK    = "login_ok"
	TypeLoginError = "login_error"
	TypeSent       = "sent"
	TypeJoined     = "joined"
	TypeLeft       = "left"
	TypePresence   = "presence"
	TypeError      = "error"
)

// Delivery statuses in Sent.
const (
	StatusDelivered = "delivered"
	StatusStored    = "stored"
)

// Presence statuses.
const (
	StatusOnline = "online"
	// StatusLeft: the user's last session left the room, but the user is
	// still online elsewhere.
	StatusLeft = "left"
	// StatusOffline: the user left the room by going offline altogether.
	StatusOffline = "offline"
)

// PlainLoginOK is the reply to an accepted plain-text login.
const PlainLoginOK = "True"

// Request is any JSON object a client sends. Which fields matter depends on
// Type.
type Request struct {
	Type string `json:"type,omitempty"`
	// ID is the request id, echoed as Ref; for TypeAck it is the id of the
	// last message acknowledged.
	ID json.RawMessage `json:"id,omitempty"`

	// Login.
	Name     string `json:"name,omitempty"`
	Password string `json:"password,omitempty"`
	Token    string `json:"token,omitempty"`
	Ack      bool   `json:"ack,omitempty"`
	// Resume is the token of an earlier session's LoginOK.
	Resume string `json:"resume,omitempty"`

	// Messages and commands.
	Room     string          `json:"room,omitempty"`
	Receiver string          `json:"receiver,omitempty"`
	Sender   string          `json:"sender,omitempty"`
	Data     json.RawMessage `json:"data,omitempty"`
	User     string          `json:"user,omitempty"`

	// Paging of TypeRooms and TypeWho: names after After, at most Limit
	// of them (0: the server's default). TypeHistory pages by seq: After
	// and Before are then numbers.
	After  Cursor `json:"after,omitempty"`
	Before Cursor `json:"before,omitempty"`
	Limit  int    `json:"limit,omitempty"`

	// Since is, for TypeJoin, the seq of the last message of the room the
	// client has (a number); for TypeLogin, an object of room name to that
	// seq, for the rooms joined at login.
	Since json.RawMessage `json:"since,omitempty"`
}

// Cursor is a paging position: a name (a JSON string) or a seq (a JSON
// number); either way it holds the text.
type Cursor string

// UnmarshalJSON accepts a string or a number.
func (c *Cursor) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*c = Cursor(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return &json.UnmarshalTypeError{Value: string(b), Type: reflect.TypeFor[Cursor]()}
	}
	*c = Cursor(n)
	return nil
}

// LoginOK accepts a JSON login.
type LoginOK struct {
	Type  string   `json:"type"`
	User  string   `json:"user"`
	Rooms []string `json:"rooms"`
	Ack   bool     `json:"ack"`
	// Resume is an opaque token: a later login with it is accepted for
	// User even at the session limit, and rejoins this session's rooms.
	Resume string          `json:"resume,omitempty"`
	Ref    json.RawMessage `json:"ref,omitempty"`
}

// LoginError refuses a JSON login attempt.
type LoginError struct {
	Type         string          `json:"type"`
	Error        string          `json:"error"`
	AttemptsLeft int             `json:"attemptsLeft"`
	Ref          json.RawMessage `json:"ref,omitempty"`
}

// Message is a chat message as delivered: to a room (Room set) or private
// (Receiver set).
type Message struct {
	Type     string          `json:"type"`
	ID       uint64          `json:"id"`
	Sender   string          `json:"sender"`
	Room     string          `json:"room,omitempty"`
	Receiver string          `json:"receiver,omitempty"`
	Data     json.RawMessage `json:"data"`
	// TS is the server's time of receipt, in Unix milliseconds.
	TS int64 `json:"ts"`
	// Seq is a room message's place in its room, increasing by one per
	// message.
	Seq uint64 `json:"seq,omitempty"`
	// Offline marks a message delivered from the offline mailbox.
	Offline bool `json:"offline,omitempty"`
}

// History answers a history request: messages of Room in seq order, each
// as members received it live.
type History struct {
	Type     string            `json:"type"`
	Room     string            `json:"room"`
	Messages []json.RawMessage `json:"messages"`
	// More is set when older (for before, or no cursor) or newer (for
	// after) messages than this page remain.
	More bool            `json:"more,omitempty"`
	Ref  json.RawMessage `json:"ref,omitempty"`
}

// Sent tells the sender what became of its message.
type Sent struct {
	Type   string          `json:"type"`
	ID     uint64          `json:"id"`
	Status string          `json:"status"`
	Ref    json.RawMessage `json:"ref,omitempty"`
}

// Membership answers join and leave.
type Membership struct {
	Type    string `json:"type"`
	Room    string `json:"room"`
	Members int    `json:"members"`
	// Seq is the room's last seq at the join (0: no message yet).
	Seq uint64 `json:"seq,omitempty"`
	// Recovered answers a join with since: true when every message after
	// since follows this reply; false when some were too old to keep, and
	// Missed says how many of them are lost.
	Recovered *bool           `json:"recovered,omitempty"`
	Missed    uint64          `json:"missed,omitempty"`
	Ref       json.RawMessage `json:"ref,omitempty"`
}

// Who lists the users online in a room, one page at a time.
type Who struct {
	Type  string   `json:"type"`
	Room  string   `json:"room"`
	Users []string `json:"users"`
	// More is set when users after this page remain; Next is then the
	// cursor to send as the next request's After.
	More bool            `json:"more,omitempty"`
	Next string          `json:"next,omitempty"`
	Ref  json.RawMessage `json:"ref,omitempty"`
}

// RoomInfo is one entry of Rooms.
type RoomInfo struct {
	Name    string `json:"name"`
	Members int    `json:"members"`
	Joined  bool   `json:"joined"`
}

// Rooms lists the rooms that have members, one page at a time.
type Rooms struct {
	Type  string     `json:"type"`
	Rooms []RoomInfo `json:"rooms"`
	// More is set when rooms after this page remain; Next is then the
	// cursor to send as the next request's After.
	More bool            `json:"more,omitempty"`
	Next string          `json:"next,omitempty"`
	Ref  json.RawMessage `json:"ref,omitempty"`
}

// Presence announces a user coming into or leaving a room, or, with Reset,
// that changes were too many to list: the member should ask Who again.
// User and Status are set unless Reset is.
type Presence struct {
	Type   string `json:"type"`
	User   string `json:"user,omitempty"`
	Status string `json:"status,omitempty"`
	Room   string `json:"room"`
	// LastSeen is set with StatusOffline (the user has no session left),
	// in Unix milliseconds.
	LastSeen int64 `json:"lastSeen,omitempty"`
	Reset    bool  `json:"reset,omitempty"`
}

// Seen answers whether a user is online and when it was last seen.
type Seen struct {
	Type     string          `json:"type"`
	User     string          `json:"user"`
	Online   bool            `json:"online"`
	LastSeen int64           `json:"lastSeen,omitempty"`
	Ref      json.RawMessage `json:"ref,omitempty"`
}

// Error reports a refused request. It does not close the connection.
type Error struct {
	Type  string          `json:"type"`
	Error string          `json:"error"`
	Ref   json.RawMessage `json:"ref,omitempty"`
}

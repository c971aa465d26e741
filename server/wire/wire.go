package wire

import "encoding/json"

// Message types sent by clients.
const (
	TypeLogin = "login"
	TypeJoin  = "join"
	TypeLeave = "leave"
	TypeWho   = "who"
	TypeRooms = "rooms"
	TypeAck   = "ack"
	TypeSeen  = "seen"
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

	// Messages and commands.
	Room     string          `json:"room,omitempty"`
	Receiver string          `json:"receiver,omitempty"`
	Sender   string          `json:"sender,omitempty"`
	Data     json.RawMessage `json:"data,omitempty"`
	User     string          `json:"user,omitempty"`

	// Paging of TypeRooms and TypeWho: names after After, at most Limit
	// of them (0: the server's default).
	After string `json:"after,omitempty"`
	Limit int    `json:"limit,omitempty"`
}

// LoginOK accepts a JSON login.
type LoginOK struct {
	Type  string          `json:"type"`
	User  string          `json:"user"`
	Rooms []string        `json:"rooms"`
	Ack   bool            `json:"ack"`
	Ref   json.RawMessage `json:"ref,omitempty"`
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
	// Offline marks a message delivered from the offline mailbox.
	Offline bool `json:"offline,omitempty"`
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
	Type    string          `json:"type"`
	Room    string          `json:"room"`
	Members int             `json:"members"`
	Ref     json.RawMessage `json:"ref,omitempty"`
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

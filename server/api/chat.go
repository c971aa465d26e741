package api

import (
	"context"
	"encoding/json"
	"errors"
)

// Chat is what the API needs of the chat service. *chat.Service
// implements it; tests use fakes.
type Chat interface {
	// Publish posts data to the room's members as a room message from
	// sender, with the room's next seq.
	Publish(ctx context.Context, sender, room string, data json.RawMessage) (Published, error)
	// Send delivers data to every session of receiver, or stores it in the
	// receiver's mailbox, and waits until it knows which (or ctx ends).
	Send(ctx context.Context, sender, receiver string, data json.RawMessage) (Sent, error)
	// Online returns up to limit online user names after after, sorted,
	// and whether more follow.
	Online(after string, limit int) (names []string, more bool)
	// Rooms returns up to limit rooms with members named after after, in
	// name order, and whether more follow.
	Rooms(after string, limit int) (rooms []RoomInfo, more bool)
	// Room describes one room, with a page of its users.
	Room(name, after string, limit int) (Room, error)
	// Disconnect closes every session of user with reason and returns how
	// many there were.
	Disconnect(user, reason string) (sessions int, err error)
}

// Errors a Chat returns, wrapped with a message for the client.
var (
	ErrInvalid     = errors.New("invalid")           // 400: a bad name or value
	ErrNotFound    = errors.New("not found")         // 404: no such room or user
	ErrNotKept     = errors.New("not kept")          // 409: offline, and no mail is kept for it
	ErrFull        = errors.New("full")              // 507: a mailbox or the store is full
	ErrUnavailable = errors.New("unavailable")       // 503: busy, try again
	ErrTimeout     = errors.New("outcome not known") // 504: waited api.send_timeout
)

// Published is the answer to a publish.
type Published struct {
	ID   uint64 `json:"id"`
	Room string `json:"room"`
	Seq  uint64 `json:"seq"`
}

// Sent is the answer to a send: Status is "delivered" or "stored".
type Sent struct {
	ID     uint64 `json:"id"`
	Status string `json:"status"`
}

// RoomInfo is one room of a rooms page.
type RoomInfo struct {
	Name    string `json:"name"`
	Members int    `json:"members"`
}

// Room is one room: its last seq, its member count (sessions), and a page
// of its users' names.
type Room struct {
	Name    string   `json:"name"`
	Seq     uint64   `json:"seq"`
	Members int      `json:"members"`
	Users   []string `json:"users"`
	More    bool     `json:"more"`
	Next    string   `json:"next,omitempty"`
}

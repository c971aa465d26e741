package wire

// Event types a webhook receives (package webhook; docs/API.md, Webhooks).
const (
	// EventLogin: a session logged in (User, Conn).
	EventLogin = "login"
	// EventLogout: a logged-in session ended (User, Conn, Code; Offline
	// when it was the user's last session).
	EventLogout = "logout"
	// EventJoin: a session entered a room (User, Conn, Room), by a join
	// request, an auto-join at login or a resumed login.
	EventJoin = "join"
	// EventLeave: a session left a room (User, Conn, Room), by a leave
	// request or because it ended (then before its logout).
	EventLeave = "leave"
	// EventStored: a private message was stored durably in the mailbox of
	// User, who is offline (Sender, Message: the message id). The data is
	// not included; it is delivered at User's next login.
	EventStored = "stored"
	// EventStart: chatd started (User is empty). Every session of an
	// earlier run has ended; after a crash or kill their logouts were
	// never sent.
	EventStart = "start"
)

// Event is one chat event as a webhook receiver gets it, inside
// Events. ID and Time are set by the sink when the event is queued.
type Event struct {
	// ID is unique and increasing: Unix milliseconds x 1000 plus a
	// counter, below 2^53; unique across restarts unless the clock goes
	// back. A receiver dedupes by it.
	ID   uint64 `json:"id"`
	Type string `json:"type"`
	// Time is when the event happened, in Unix milliseconds.
	Time int64  `json:"time"`
	User string `json:"user"`
	// Conn is the connection id of the session (login, logout, join,
	// leave).
	Conn    uint64 `json:"conn,omitempty"`
	Room    string `json:"room,omitempty"`
	Code    int    `json:"code,omitempty"`    // logout: the close code
	Offline bool   `json:"offline,omitempty"` // logout: the user has no session left
	Sender  string `json:"sender,omitempty"`  // stored
	Message uint64 `json:"message,omitempty"` // stored: the message id
}

// Events is the body of a webhook POST: one or more events, in id order.
type Events struct {
	Events []Event `json:"events"`
}

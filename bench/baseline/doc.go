// Command baseline is a reference WebSocket server of the well-known kind:
// net/http and github.com/gorilla/websocket, goroutines per connection, and
// for chat the hub of gorilla's chat example.
//
// It exists only so chatd's numbers have something to be compared with on
// the same machine in the same session (docs/BENCHMARKS.md). It is not part
// of chatd, has no configuration beyond -addr, and must not grow features
// beyond what the benchmarks exercise. It imports chatd's wire types
// (server/wire, standard library only), so its JSON is chatd's byte for
// byte, and nothing else of chatd.
//
// # /echo
//
// Every text or binary message is sent back unchanged, by one goroutine per
// connection blocked in ReadMessage and answering with WriteMessage.
// Messages are capped at 64 KiB, as chatd's default
// server.limits.max_message_bytes. There are no keepalive pings, here or on
// /ws.
//
// Each idle connection costs a goroutine stack plus the 4 KiB read and 4 KiB
// write buffers that the upgrader takes over from net/http: that is the
// per-connection memory chatd's epoll read path avoids.
//
// # /ws: the chat subset
//
// The subset of docs/PROTOCOL.md that chatbench drives, answered as chatd
// answers it with its default anonymous backend:
//
//   - Login. Every text message is a login attempt until one is accepted.
//     The message is the name; it is answered with exactly "True", or with
//     chatd's one-line reason ("name is empty", "name contains whitespace",
//     "name is already online", ...), and the connection waits for the next
//     try. One session per name.
//   - Lobby. Every logged-in client is in the room "lobby". Plain text (not
//     starting with '{') and {"data":...} go to everyone else in it as
//     {"type":"message","id":N,"sender":"alice","room":"lobby","data":...,"ts":MS}.
//   - Private. {"receiver":"bob","data":...} goes to bob only, with
//     "receiver" instead of "room", and the sender, when the request had
//     an "id", gets {"type":"sent","id":N,"status":"delivered","ref":ID}, or
//     {"type":"error","error":"receiver not online"}.
//
// Anything else after login gets a {"type":"error"} as from chatd. Not
// here: JSON login, other rooms, join/leave/who/rooms/seen, presence,
// offline mailboxes ("stored"), auth backends, several sessions per name,
// login attempt limits and timeouts, rate limits. Ids are a plain counter
// from 1, not chatd's milliseconds×1000 scheme; they are unique and
// increasing per server all the same.
//
// # The model
//
// One hub goroutine owns the map of logged-in clients and receives on
// register, unregister and broadcast channels. Each connection has a read
// goroutine (net/http's, which runs the handler) and a write goroutine that
// drains a buffered send channel of 256 frames and writes one WebSocket
// message per frame, each within 10 s. The read goroutine parses and
// encodes; the hub looks up receivers and queues frames, so a lobby
// message is encoded once whatever the number of receivers. A read goroutine
// blocks until the hub takes its message, so a busy hub slows the senders
// (TCP backpressure).
//
// Slow clients are dropped, as in gorilla's example: when the hub finds a
// client's send channel full it unregisters the client and closes the
// channel; the write goroutine writes what was queued, sends close 4008
// (chatd's "slow consumer" code) and closes the connection. The name is
// free again at once. chatd's policy differs in the trigger (a byte budget
// of pending output) but ends the same way.
//
// A send channel costs 256×24 bytes from the start, on top of the two
// goroutines and the buffers /echo pays for.
//
// # Shutdown
//
// On SIGINT or SIGTERM the server stops accepting, sends close 1001 to every
// connection and closes it without waiting for the answer, waits (up to
// 10 s) for the connection goroutines, stops the hub and exits.
//
// Usage:
//
//	go run ./bench/baseline -addr 127.0.0.1:8081
package main

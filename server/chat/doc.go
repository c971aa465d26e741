// Package chat is chatd's chat service, served on /ws: the login loop with a
// pluggable auth.Authenticator, the lobby and rooms, private messages,
// presence, and the durable offline mailbox.
//
// # Model
//
// Each connection is a session running on its connection's actor (package
// server): the session's state is touched only there, one message at a
// time. Sessions never block. Blocking work runs elsewhere and reports back
// with Conn.Notify: logins are checked on a bounded auth pool, and mailbox
// reads and writes run on per-user serial queues (offline.go).
//
// Routing state is shared under short locks: the users registry (who is
// online, with which sessions) and the rooms registry (who is in which
// room). A message is encoded once into WebSocket frame bytes and the same
// bytes are posted to every recipient's connection actor, which writes them.
// A recipient too far behind to take more is closed as a slow consumer; a
// slow member therefore never delays the others, and a fan-out to many
// members runs on the sender's actor without stalling logins or other rooms.
//
// # Ordering
//
// Messages from one sender reach each recipient in the order sent: the
// sender's actor posts them in order and every connection's mailbox is
// FIFO. For a user who is offline, storing a message and loading the
// mailbox at login are queued on the same per-user serial queue, and the
// decision "online or not" is taken under the users lock that also orders
// those queue operations; a message is therefore either delivered live or
// found by the next login's load. Stored messages are written to a new
// session before any live delivery, which the session buffers until then.
package chat

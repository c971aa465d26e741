// Package chat is chatd's chat service, served on /ws: the login loop with a
// pluggable auth.Authenticator, the lobby and rooms, private messages,
// presence, and the durable offline mailbox.
//
// # Model
//
// Each connection is a session running on its connection's actor, which
// runs on the connection's event loop (package server): the session's
// state is touched only on that loop, one thing at a time. Sessions never
// block. Work that may wait runs elsewhere and reports back with
// Conn.Notify: logins are checked on a bounded auth pool (inline, on the
// loop, for a backend that never waits: auth.Immediate), and mailbox
// reads and writes run on per-user serial queues (offline.go).
//
// The design card's shape, and where it stops. The login stage is one
// actor per logging-in connection: the connection's actor, with its login
// state in a struct of its own (loginState) that is dropped when the name
// is accepted (loggedInAs registers the user in the users registry and
// the same actor goes on as the chat session). There is no separate actor
// per user: a user's sessions are found in the users registry, and
// "delivered live, or stored for the next login" is decided in one place,
// privateSend.done, whichever session settles last. A user actor between
// sender and receiver would cost a post and an activation per message
// (BenchmarkActorHopOnLoop: about 210 ns on a loop, plus a wake-up when
// the user's actor is on another loop) and about 130 bytes per online user
// (an actor.Ref and its activation closure), against targets of 1.5 KiB
// per idle user and CPU per private message; it buys nothing the registry
// and the settle logic do not already give, so chatd does without it.
//
// Routing state is shared under short locks: the users registry (who is
// online, with which sessions) and the rooms registry (who is in which
// room, grouped by event loop). A message is encoded once into WebSocket
// frame bytes. A room message goes to each event loop with members once
// (server.Loop.Run), and that loop hands it to its members' sessions; a
// private message goes to each of the receiver's sessions the same way,
// on their loops. Their writes go out with the loop's flush, one write per
// connection however many messages it got in that wake. A recipient too
// far behind (over its write budget) is closed as a slow consumer; a slow
// member therefore never delays the others.
//
// # Ordering
//
// Messages from one sender reach each recipient in the order sent: the
// sender's session hands them to the recipient's loop in order, and a
// loop runs what one goroutine hands it in order. For a user who is offline, storing a message and loading the
// mailbox at login are queued on the same per-user serial queue, and the
// decision "online or not" is taken under the users lock that also orders
// those queue operations; a message is therefore either delivered live or
// found by the next login's load (the one exception: a private message that
// only reached closing sessions is routed again, after messages sent later
// may have gone out). Stored messages are written to a new
// session before any live delivery, which the session buffers until then.
//
// Each room message gets the room's next seq, and is recorded in the room's
// history and handed to the members' loops in one critical section under
// the room's lock (room.publish), so every member gets a room's messages
// in seq order, and a join's snapshot (the seq, and the replay after a since) is
// exact. A member drops a posted message that is stale: for a room it has
// left, or with a seq it already has from a replay (takeRoomFrame).
//
// # Formats and resume
//
// A session's format (JSON, or text lines) is fixed at Open from the
// subprotocol or the query (format.go); fan-outs encode each format at most
// once per message. A login may come from the URL (urllogin.go). A resume
// token (resume.go) is an HMAC of the connection id: nothing is stored per
// open session; closed sessions leave their rooms for chat.resume.ttl.
//
// # Presence
//
// Presence is coalesced per room (presence.go): joins and leaves record each
// user's latest state in the room's pending set, and the members hear of
// them in rounds at most chat.rooms.presence_interval apart, a change in a
// quiet room at once, the rest when the interval ends. A round announces
// only users whose state differs from the last one announced, so churn
// within an interval costs the members nothing. The pending set holds at
// most chat.rooms.presence_max_pending users; past that the round is one
// reset hint. A member therefore gets at most one round per interval, of
// bounded size, however fast others join and leave, and is not closed as a
// slow consumer for it. Each room with changes waiting has one timer,
// stopped when the room is deleted; a round runs on the timer's goroutine,
// or on the actor of the session whose change found the room quiet, posts
// through session.deliver like any fan-out, and never holds the rooms
// registry's lock. The registry keeps the
// rooms sorted, so a page of rooms is copied under its lock in O(log n +
// page); a page of who copies the room's names and sorts them outside.
//
// # Delivery promises
//
// The sender of a private message hears "delivered" only once the frame was
// written to the socket of an open session of the receiver: each session
// the message is handed to settles it exactly once (privateSend.done),
// with written=true from Conn.OnFlushed or false when it was closing,
// closed, too far behind, or its connection stopped with the message still
// queued (the actor's dead letters reach Session.Notify after Closed). If no
// session wrote it, it is routed again (a new session may have logged in)
// and then stored, and the sender hears "stored" only after the store's
// fsync. The offline mailbox is written in pages (drain.go): the next page
// is read only when the socket has taken the previous one, and without
// acks an entry is removed only after its page was written.
//
// # Server API
//
// api.go implements package api's Chat for backends, on the API's request
// goroutines (never on an actor). A publish is a room message like a
// member's (room.publish, with no member skipped and the API's sender);
// a room that emptied meanwhile is refused, not published to. A send is a
// privateSend whose origin is the waiting request instead of a session:
// it hears the same outcome a session would, so "delivered" and "stored"
// mean the same. The API's sender is reserved in the users registry: no
// login takes it, and sessions cannot send it private messages.
// Disconnect marks the user's sessions leaving and kicks them (4010).
//
// # Cluster
//
// With WithCluster the service is one node of several (cluster.go, and
// package cluster for the mechanism): a login claims its session slot
// cluster-wide on the auth pool; a private message is handed to the
// receiver's sessions here and to each other node with a session of the
// receiver, each node settling it once like a session, so privateSend.done
// decides "delivered or stored" as on one node; a room's messages go to
// the room's JetStream stream, which numbers them for every node, and each
// node with members fans them out from its follower of the stream
// (cluster_rooms.go), so seq, history and since are the same on every
// node; who and rooms list the whole cluster. A resume takes over an open
// session of its node, slot included (resume.go); otherwise it is an
// ordinary login. Cut off from NATS, the service refuses logins, private
// messages it cannot route and room messages, and serves its local users.
//
// # Events
//
// With WithEvents, login, logout (with the close code), join, leave (real
// ones only) and stored are emitted to an EventSink (events.go), which
// must only queue: package webhook sends them.
//
// # Bounds
//
// Per connection: what may be sent before login (chat.login.max_messages,
// max_bytes), the rate after it, rooms joined, the live messages held while
// the mailbox drains or login replays are written
// (chat.mailbox.live_buffer_bytes), one large reply (a replay, a history
// page) in flight with at most 64 requests waiting behind it (paced.go);
// in a cluster, likewise behind the first join of a room on the node.
// Per room: its history in count, bytes and age (chat.history). Server-wide:
// all histories (chat.history.max_total_bytes), the rooms with members or
// kept histories (chat.rooms.max_rooms), closed sessions kept for a resume
// (chat.resume.max_closed), login attempts per source address and failed
// logins per name (package auth/throttle, maps bounded and swept; chatd
// shares one throttle with the bridge), the auth queue, the offline queue
// in jobs and bytes (chat.mailbox.queue_bytes), the store's quotas
// (package mailbox). The
// users registry holds only online users; last-seen times live in the
// store and expire there.
//
// # Configuration
//
// Config is the chat: section of chatd.yaml and AuthConfig chat's keys of
// the auth: section (sessions_per_user, workers, queue), each with its
// defaults (DefaultConfig, DefaultAuthConfig) and a Validate that names bad
// keys by their paths; New refuses invalid ones. Which backend checks
// logins is not chat's choice: cmd/chatd selects and builds it from
// auth.backend and passes it in as a Backend, saying whether it is
// anonymous (then offline mail is kept only with chat.mailbox.anonymous).
package chat

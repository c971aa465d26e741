// Package cluster makes chatd processes one chat: nodes share who is
// online, private messages, rooms and the offline mailbox over NATS
// (github.com/nats-io/nats.go), optionally running the NATS server inside
// chatd (StartEmbedded, nats-server with JetStream). Package jsmail is the
// offline mailbox in JetStream; package chat uses a *Node through its
// Cluster interface.
//
// # Subjects and buckets
//
//   - chatd.node.<node>.private: private messages for users on <node>;
//     answers go to chatd.node.<sender's node>.outcome.<id> (route.go).
//     chatd.node.<node>.copy: a private message for its sender's sessions
//     there; chatd.node.<node>.disconnect: the server API's disconnect.
//   - chatd.mail: "mail was stored for <user>", to every node, whose
//     sessions of the user read their mailbox again (a store can cross a
//     login on another node).
//   - chatd.room.<room>: a room's messages, captured by the room's stream
//     chatd_room_<room> (memory storage, or file with history.durable;
//     cluster.nats.replicas), which the nodes with members follow
//     (history.go, follow.go, sweep.go). <room> and user names in keys
//     are unpadded base64url.
//   - KV bucket chatd_sessions (memory storage, cluster.nats.replicas):
//     n.<node> heartbeats with a per-message TTL, s.<user>.<slot> session
//     claims, r.<room>.<user>.<node> room memberships (presence.go,
//     members.go).
//   - Stream chatd_mail and KV bucket chatd_seen: the offline mailbox and
//     last-seen times (package jsmail, file storage).
//
// # Guarantees
//
// Names and sessions: a login takes one of the user's sessions_per_user
// slots with the KV's atomic create, so two nodes never hold the same slot
// and a name is never online on more sessions than it may have, anywhere.
// A claim lives as long as its node's heartbeat (one key per node, written
// every presence_ttl/3 with a TTL of presence_ttl), so when a node dies
// its users are free to log in elsewhere within presence_ttl (plus the
// bucket's delete marker reaching the other nodes: milliseconds); a node
// restarted under the same name has a new incarnation, which frees its old
// claims at once.
//
// Private messages: the sender's node hands a message to the receiver's
// sessions on it and to every other node where the receiver has a claim;
// each node answers whether one of its sessions wrote the frame to its
// socket. "delivered" is said only on such an answer; no answer (the node
// died, PrivateTimeout) counts as not delivered, and then the message is
// stored. So a message is never lost between nodes; in the rare case where
// a node wrote it and its answer was lost, it is also stored and arrives
// twice (at least once, never a false "delivered"). "stored" is said only
// after JetStream acknowledged the write (jsmail).
//
// Order: per sender, as on one node. A node publishes on one connection
// and NATS keeps one publisher's order for each subscriber; each node
// handles its inbox and each room subscription on one goroutine.
//
// Rooms: a room message is written to the room's stream, whose sequence
// is the room's seq on every node. A node follows a room's stream (an
// ordered consumer) only while it has members, starting at the first
// message the stream keeps, and fans each message out locally, encoding it
// once per format; so seq, history and since are the same on every node,
// and each member gets a room's messages in seq order. who and rooms come
// from the bucket's room memberships, cluster-wide.
//
// # NATS unavailable
//
// A node that loses NATS reports Degraded (logged, and on /healthz) and
// reconnects by itself for ever. Meanwhile it serves its own users: local
// private messages and local room fan-out go on, and what it cannot
// promise is refused: a new login (no claim can be made), and a private
// message to a user who is not on this node (neither delivery nor storage
// can be promised). Room messages published meanwhile are buffered by the
// NATS client (up to its reconnect buffer) and reach other nodes after the
// reconnection, or never if it overflows. When NATS is back, the node
// writes its heartbeat, recreates the sessions bucket if the NATS server
// lost it (memory storage), and claims again every session and room
// membership it holds.
//
// # Costs
//
// Per online user: one claim key (about 150 bytes in NATS, replicated)
// and an entry in every node's in-memory view. Per login: a few KV round
// trips on the auth pool, never on an event loop. Refreshing presence is
// one write per node per presence_ttl/3, whatever the number of users.
// Every node watches the whole bucket, so every login, logout, join and
// leave anywhere reaches every node: that is the traffic that bounds the
// cluster's size (docs/CLUSTER.md).
//
// # Configuration
//
// Config is the cluster: section of chatd.yaml (config.go); StartEmbedded
// runs the embedded NATS server with JetStream syncing every write
// (sync_interval always), so "stored" survives a kill -9 and a power loss
// of the NATS server.
package cluster

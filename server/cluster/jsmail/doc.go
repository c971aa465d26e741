// Package jsmail is chatd's offline mailbox in cluster mode: the same
// contract as the bbolt store (server/mailbox), kept in NATS JetStream so
// that every node sees every user's mail and a node's death loses none.
//
// # Model
//
// Open creates (or updates to the Config) one stream, Prefix_mail, with a
// subject per user, Prefix.mail.<user in base64url>, and one key-value
// bucket, Prefix_seen, for last-seen times. An entry is one message on its
// user's subject: Data is the body, and the header Chatd-Entry holds ID,
// Stored and Sender. Put appends, LoadPage reads pages with batched direct
// gets, and Ack purges the head of the subject. SetSeen and Seen put and
// get the user's key in the bucket. The Store keeps no per-user state
// apart from paging hints (Memory), so any node's Store serves any user.
//
// # Durability
//
// Put returns nil only after JetStream acknowledged the publish, and Ack
// and SetSeen return after theirs. What "acknowledged" survives is the
// NATS server's to decide, not this package's:
//
//   - Replicas 1 on a single server: the server has written the message to
//     its file (nats-server v2.15.3 does so before it acks a stream with no
//     Raft log), so a kill -9 of chatd or of the NATS server loses
//     nothing; the file is fsynced every sync_interval (default 2 minutes),
//     so a power loss or kernel crash can lose the last 2 minutes of
//     acknowledged entries unless the server runs with sync_interval:
//     always (server.Options.SyncAlways). Losing that server's disk loses
//     the mail.
//   - Replicas 3: a majority of the stream's servers have the message, so
//     any one server (or chat node with an embedded server) may die; with
//     sync_interval: always on each, so may the whole mesh at once.
//
// The tests that check durability run the embedded server with SyncAlways
// and restart it on the same directory (a graceful shutdown: they do not
// cut power). A Put whose ack is lost or late may or may not have stored
// the entry; Put then returns an error (never nil), and the sender is told
// "not stored" for a message that may be delivered anyway.
//
// Retries inside one Put are safe: each entry carries a Nats-Msg-Id made
// of this Store's random nonce, the user and the ID, and a Put that finds
// that id in the mailbox (its own earlier attempt) returns nil without
// storing it again. Another node putting the same ID stores its own entry:
// IDs from different nodes may collide, and dropping one would lose mail.
//
// # Ordering
//
// A mailbox is in stored order: the order in which JetStream accepted the
// entries (stream sequence). On one node that is ID order, as in the bbolt
// store. Across nodes it is not: each node's IDs increase, but its clock
// is not the others', so a later entry may have a lower ID. So "after" and
// Ack are defined by place, not by comparing IDs:
//
//   - LoadPage(after) returns what comes after the place of the entry with
//     ID after: where this Store's last LoadPage for the user ended with
//     it (a paging hint, valid even once that entry has been acked away);
//     failing that, the first entry with that ID; failing that (no such
//     entry: it was acked or expired), the head of the mailbox. A page
//     never skips an entry it has not shown before, which a rule
//     comparing IDs would (an entry with a lower ID stored after the last
//     page), and a later cumulative Ack would then drop unread.
//   - Ack(upTo) removes the head of the mailbox up to and including the
//     first entry with ID upTo: everything stored before it was on an
//     earlier page or the same one. If no entry has that ID (an ack of a
//     live message's ID, or of one already removed), it removes the
//     leading entries with lower IDs and stops at the first with a higher
//     one. It never removes an entry stored after the acknowledged one.
//
// With increasing IDs both rules are the bbolt store's, and one test suite
// (conform_test.go) runs against both stores. They differ where IDs are
// out of order, and for LoadPage(after) when no entry has ID after and
// this Store holds no hint: the bbolt store returns the IDs above after,
// this one starts at the head. A cumulative ack of an ID absent from the
// mailbox removes an entry with a lower ID that arrived after the drain
// ended without its being delivered; on one node that needs the same race
// (a message stored just as its receiver logged in), which chat closes by
// routing stored messages once more to a new session.
//
// # Bounds
//
// JetStream enforces two bounds itself, atomically: Config.MaxMessages per
// user (the stream's MaxMsgsPerSubject with DiscardNew and
// DiscardNewPerSubject: a refused publish is mailbox.ErrFull) and
// Config.MaxTotalBytes for the stream (its MaxBytes with DiscardNew:
// mailbox.ErrStoreFull, as is a server or account out of storage).
// MaxTotalBytes counts what JetStream stores, subject and headers
// included: about 240 bytes per entry besides Data, so a store of 200-byte
// messages holds about 45% Data. A NATS message is at most the server's
// max_payload (1 MiB by default): a larger entry fails with an error that
// is not a bound's.
//
// Config.MaxBytes per user (mailbox.ErrFull) and Config.MaxBytesPerSender
// per sender in a mailbox (mailbox.ErrSenderQuota) have no JetStream
// equivalent. Put reads the whole mailbox, sums the bytes, and publishes
// with Nats-Expected-Last-Subject-Sequence set to the last sequence it
// read. If any writer, on any node, appended meanwhile, JetStream refuses
// the publish and Put reads again (after a random pause of up to a few
// milliseconds), until its Config.Timeout. So concurrent Puts never
// overshoot these bounds either; the price is that a Put reads the whole
// mailbox, about 12 µs per entry here (BenchmarkPut). Removals (Ack,
// expiry) only free room, so they need no such check.
//
// Before refusing, Put drops the mailbox's leading expired entries, as the
// bbolt store does. Entries older than Config.MaxAge are otherwise removed
// by JetStream (the stream's MaxAge, counted from when it stored them),
// and LoadPage skips entries older than MaxAge by Entry.Stored at its now,
// so an expired entry is never returned. Those removals are not counted or
// logged here; Prune has nothing to do and returns 0. Last-seen records
// expire by the bucket's TTL (SeenMaxAge after the write), and Seen never
// reports a time older than SeenMaxAge.
//
// # Memory
//
// Mail lives in the NATS server, not in the chatd heap. A Store holds the
// paging hints, at most 4096 (one user name and two numbers each), and
// the results of reads in flight: a LoadPage holds its page (within its
// bounds; an unbounded one holds the mailbox, at most MaxBytes), and Put's
// and Ack's reads hold counters while up to 256 entries at a time arrive
// on the connection.
//
// # Concurrency
//
// All methods are safe for concurrent use, from any number of goroutines
// and nodes. Every method waits for the NATS server (bounded by
// Config.Timeout) and must run off the actors, on a bounded pool. As with
// the bbolt store, operations on one user are not ordered against each
// other unless the caller orders them; chat serialises each user's
// operations on a node, and Put's expectation on the last sequence orders
// Puts from different nodes. Reads use direct gets, which any replica of a
// replicated stream may answer, a little behind the leader: a LoadPage
// may miss an entry acknowledged a moment earlier (it is delivered at the
// next login) or return one just acked (delivered twice). Put's check is
// not weakened by this: a read that is behind fails the expectation and
// is repeated. The Store starts no goroutines; the NATS connection is the
// caller's, and NATS being unreachable makes calls fail after
// Config.Timeout.
package jsmail

// Package mailbox is chatd's durable offline mailbox: private messages for
// users with no online session wait here, on disk, until they are delivered.
// The same file keeps each user's last-seen time.
//
// # Model
//
// A Store is one bbolt file, Config.Dir/mailbox.db, holding one mailbox per
// user. The chat layer stores a message with Put, naming its sender in
// Entry.Sender, before it tells the sender "stored". At the recipient's
// next login it reads the mailbox with Load, or pages through it with
// LoadPage (bounded in entries and in bytes) or LoadAfter, and delivers
// those messages, in ID order, before any live ones. Entries leave a
// mailbox only through Ack, which is cumulative (every ID <= N), or through
// expiry. With client acks, chatd calls Ack when the client acks, so
// entries not acked are delivered again, with the same ID, at the next
// login. Without client acks, chatd calls Ack once the messages have been
// written to the socket.
//
// SetSeen records when a user was last seen and Seen reads it back; the
// records live in their own bucket, on disk, and expire after
// Config.SeenMaxAge, so the set of names ever seen is neither held in
// memory nor kept forever.
//
// # Durability
//
// Put returns nil only after the transaction holding the entry has
// committed, and bbolt's commit fsyncs (fdatasync) the data pages and then
// the meta page. A crash, kill -9 or power loss after that keeps the entry;
// a crash before it leaves the file as of the previous commit, never torn.
//
// Writes are group-committed: the Store's one goroutine runs the commits,
// and every Put, Ack, SetSeen or cleanup that arrives while a commit is on
// disk joins the next transaction, so one fsync covers them all and each
// caller still waits for its own durable commit. A lone Put is committed
// at once, with no batching delay. (bbolt's db.Batch shares fsyncs too,
// but waits a fixed delay before every batch; BenchmarkPut measures both,
// and Stats.Commits counts the fsyncs.) Ack, SetSeen and the expiry
// cleanups are durable the same way. When Open creates the file it also
// fsyncs the directory, so the file's name survives power loss too. A
// second Open of the same file, from this process or another, fails after
// about a second with ErrLocked (bbolt's flock), so two chatd processes
// never share it.
//
// The usage counters the bounds need (entries and bytes per mailbox, bytes
// per sender in each mailbox, bytes in the store) are written in the same
// transaction as the entries they count, so they are exactly as durable and
// never drift. A file written before they existed (schema 1, with no
// sender in the values) is migrated by Open: it rewrites the values and
// rebuilds the counters by a scan, in transactions of a few hundred
// mailboxes, resuming after a crash where it stopped; a file that lost its
// counters gets them rebuilt the same way. Once migration has begun the
// file says schema 2, so an older chatd refuses it rather than misread it.
//
// # Ordering
//
// Keys are 8-byte big-endian IDs, so every mailbox is read in ID order,
// whatever order the Puts happened in. IDs come from the caller (chatd's
// global, increasing message id); putting an ID already stored replaces that
// entry, which makes retrying a failed Put safe.
//
// # Bounds
//
// Sizes are len(Entry.Data); the few bytes per entry of time, sender and
// bbolt's own overhead are not counted. Put refuses an entry that would
// take
//
//   - the mailbox over Config.MaxMessages entries or Config.MaxBytes
//     bytes: ErrFull ("recipient's mailbox is full");
//   - the sender's bytes in that mailbox over Config.MaxBytesPerSender:
//     ErrSenderQuota ("you have too much mail waiting for this
//     recipient"), so no one sender can fill another's mailbox;
//   - the whole store over Config.MaxTotalBytes: ErrStoreFull. This bounds
//     the messages' share of the file; bbolt adds per-entry and per-page
//     overhead, and the file never shrinks (freed pages are reused).
//
// The check runs inside Put's write transaction, against counters kept in
// the file, so concurrent Puts never overshoot a bound. A bound is checked
// only when the Put raises what it counts: replacing an entry with one no
// larger (a retry) always succeeds. Before refusing, Put drops the
// mailbox's expired entries; if the entry still does not fit, it returns
// the error and writes nothing, and the chat layer reports an error to the
// sender. Nothing is ever dropped to make room. Expired entries of other
// mailboxes hold room in the store until Prune drops them.
//
// Entries older than Config.MaxAge (by their Stored time) expire. Expiry is
// the only way a message leaves a mailbox without being delivered: Load never
// returns expired entries and deletes them, Prune (run by a periodic
// janitor) deletes them from every mailbox, and a Put over a bound deletes
// them before deciding. Every expired entry is counted in Stats.Expired and
// logged at Info (one line per mailbox, or one per Prune call).
//
// Last-seen records are bounded by age only: Prune deletes those older than
// Config.SeenMaxAge (Stats.SeenPruned), about 40 bytes of file each, so
// their number is the distinct names seen in that time; the chat layer's
// login limits bound how fast new names arrive.
//
// # Memory
//
// Offline users' messages and last-seen times are not held in the Go heap:
// the Store keeps no per-user state at all. bbolt maps the file read-only
// into memory, so the kernel's page cache may hold recently used pages,
// which it can reclaim at any time. Memory is used only by the result of a
// read, at most MaxMessages entries and MaxBytes of Data for a Load, and
// less for a LoadPage, by Prune's list of mailboxes with expired heads, and
// by the transactions in flight. A migration holds one transaction's
// mailboxes (a few MiB, or one whole mailbox if larger).
//
// # Concurrency
//
// All methods are safe for concurrent use. Every method blocks on disk and
// must run off the actors, on a bounded pool. The store does not order
// operations on one user against each other: overlapping calls are safe,
// but take effect in commit order, so the chat layer serialises each
// user's Put, Load and Ack to get the order it means.
package mailbox

// Package mailbox is chatd's durable offline mailbox: private messages for
// users with no online session wait here, on disk, until they are delivered.
//
// # Model
//
// A Store is one bbolt file, Config.Dir/mailbox.db, holding one mailbox per
// user. The chat layer stores a message with Put before it tells the sender
// "stored". At the recipient's next login it reads the mailbox with Load (or
// pages through it with LoadAfter) and delivers those messages, in ID order,
// before any live ones. Entries leave a mailbox only through Ack, which is
// cumulative (every ID <= N), or through expiry. With client acks, chatd
// calls Ack when the client acks, so entries not acked are delivered again,
// with the same ID, at the next login. Without client acks, chatd calls Ack
// once the messages have been written to the socket.
//
// # Durability
//
// Put returns nil only after the transaction holding the entry has
// committed, and bbolt's commit fsyncs (fdatasync) the data pages and then
// the meta page. A crash, kill -9 or power loss after that keeps the entry;
// a crash before it leaves the file as of the previous commit, never torn.
//
// Writes are group-committed: the Store's one goroutine runs the commits,
// and every Put, Ack or cleanup that arrives while a commit is on disk joins
// the next transaction, so one fsync covers them all and each caller still
// waits for its own durable commit. A lone Put is committed at once, with no
// batching delay. (bbolt's db.Batch shares fsyncs too, but waits a fixed
// delay before every batch; BenchmarkPut measures both, and Stats.Commits
// counts the fsyncs.) Ack and the expiry cleanups are durable the same way. When Open creates the file it also fsyncs the
// directory, so the file's name survives power loss too. A second Open of
// the same file, from this process or another, fails after about a second
// with ErrLocked (bbolt's flock), so two chatd processes never share it.
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
// Each mailbox holds at most Config.MaxMessages entries. A Put to a full
// mailbox first drops entries that have expired; if the mailbox is still
// full it returns ErrFull and writes nothing, and the chat layer reports an
// error to the sender. Nothing is ever dropped to make room.
//
// Entries older than Config.MaxAge (by their Stored time) expire. Expiry is
// the only way a message leaves a mailbox without being delivered: Load never
// returns expired entries and deletes them, Prune (run by a periodic
// janitor) deletes them from every mailbox, and a full Put deletes them
// before deciding. Every expired entry is counted in Stats.Expired and
// logged at Info (one line per mailbox, or one per Prune call).
//
// # Memory
//
// Offline users' messages are not held in the Go heap: the Store keeps no
// per-user state at all. bbolt maps the file read-only into memory, so the
// kernel's page cache may hold recently used pages, which it can reclaim at
// any time. Memory is used only by the result of a Load, up to MaxMessages
// entries of one user, and by the transactions in flight.
//
// # Concurrency
//
// All methods are safe for concurrent use. Every method blocks on disk and
// must run off the actors, on a bounded pool. The store does not order
// operations on one user against each other: overlapping calls are safe,
// but take effect in commit order, so the chat layer serialises each
// user's Put, Load and Ack to get the order it means.
package mailbox

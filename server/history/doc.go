// Package history is chatd's durable room history: each room's last seq
// and its newest messages, written behind so that rooms keep them across
// restarts (chat.history.durable).
//
// # Model
//
// The chat layer keeps every room's history in memory and is the only
// reader while it runs: the Store is written to, and read once, by Open,
// which gives the rooms back (Rooms) for the chat layer to hold again. The
// chat layer tells the Store of each room message (Append, with the
// oldest seq the room still keeps), of messages dropped for their age
// (Trim) and of rooms it forgets (Drop). A Store is one bbolt file,
// Config.Dir/history.db (chatd uses chat.mailbox.dir, next to the
// mailbox).
//
// # Durability
//
// Nothing is written per message. Append, Trim and Drop only record the
// change in memory; the Store's goroutine writes what has gathered every
// Config.FlushInterval (chat.history.flush_interval, 100 ms) in one bbolt
// transaction, whose commit fsyncs. So:
//
//   - A clean shutdown loses nothing: Close writes what is pending, marks
//     the file closed cleanly (meta/clean) in the same transaction, and
//     closes it. chatd closes the Store after the chat service, once no
//     session can publish.
//   - A kill -9, a crash or a power loss loses the changes recorded since
//     the last commit: at most the room messages of the last
//     FlushInterval, plus those of a commit still in flight (longer only
//     if the disk stalls the commits). Those messages were delivered live;
//     they are only missing from the history after the restart. The file
//     itself is never torn: it is as of its last commit.
//   - Their seqs are not given again. Open sees that the file was not
//     closed cleanly and moves each room's seq CrashGap (2^20) on from the
//     last one written, recording the skipped range in Room.Lost. A client
//     that joins with a since inside that range, or before it, hears that
//     it did not recover everything (the chat layer's "recovered": false),
//     instead of silently getting different messages under seqs it
//     already has. A room created since the last commit has no record at
//     all and starts again at seq 1; a client that saw its first messages
//     then hears "recovered": false only while its since is past the
//     room's seq.
//
// A failed commit is logged and counted (Stats.Errors); its changes are
// lost from the file, as after a crash, and later commits go on.
//
// # Ordering
//
// Entries are keyed by their 8-byte big-endian seq, so a room's cursor
// walks it in seq order. Changes to one room are recorded under the room's
// lock in seq order, and commits happen in the order their changes were
// taken (flushMu), so the file always holds, per room, a suffix of its
// messages up to the seq it records, as of some moment.
//
// # Bounds
//
// The Store applies no bounds of its own while running: the chat layer's
// (chat.history.messages, max_bytes, max_age, and chat.rooms.max_rooms
// rooms) reach it as the first seq each room keeps and as Drops, and it
// deletes what falls outside. Open loads per room only the newest
// Config.Messages messages within Config.MaxBytes and Config.MaxAge, so a
// file written under larger bounds loads within the current ones. The file
// holds about the same as memory does, plus bbolt's overhead; it never
// shrinks (freed pages are reused).
//
// # Memory
//
// What waits for the next commit is bounded like the history itself: a
// room's pending messages older than the first seq it keeps are dropped
// before they are written, so at most each room's bound waits, whatever
// the message rate. The data of pending entries is shared with the chat
// layer's history, not copied. Rooms holds what Open loaded until the chat
// layer takes it.
//
// # Concurrency
//
// All methods are safe for concurrent use. Append, Trim and Drop take a
// short lock and never block on disk, so they may be called under a
// room's lock on any actor; Sync and Close block until their commit is on
// disk, and Open reads the whole file. Open starts one goroutine, Close
// stops it. A second Open of the same file, from this process or another,
// fails after about a second with ErrLocked (bbolt's flock).
package history

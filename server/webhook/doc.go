// Package webhook sends chatd's chat events (login, logout, join, leave,
// stored) to a backend as signed HTTP POSTs: the hook a backend needs to
// learn who came and went, and to push a notification when a message waits
// in an offline user's mailbox.
//
// # Model
//
// The chat service calls Sink.Emit at each event (chat.EventSink). Emit
// gives the event its id and time and appends it to an in-memory FIFO
// queue; one worker goroutine POSTs the front of the queue, up to
// Config.BatchEvents events, as {"events":[...]} to Config.URL, and
// removes them once the answer is 2xx. The first event of a POST waits up
// to Config.BatchWait (20 ms) for others to share it, unless a full batch
// is queued sooner: at a login's few events, one POST instead of four. When Config.Secret is set, the
// X-Chatd-Signature header is "sha256=" and the hex HMAC-SHA256 of the
// body keyed by the secret (Sign, Verify). Events are of type
// wire.Event.
//
// # Delivery
//
// At least once, within the bounds below. A POST fails on a network
// error, after Config.Timeout, or with an answer that is not 2xx (a
// redirect too: it is not followed). A failed POST is sent again, with the
// same events first, after a backoff: Config.RetryMin doubled after each
// consecutive failure up to Config.RetryMax, each wait drawn from its
// upper half (jitter); there is no limit on attempts. An event is lost
// only when
//
//   - the queue was full when it was emitted (dropped, counted in
//     Stats.Dropped, logged at most every 10 s);
//   - Close's deadline passed before it was delivered and Config.Durable
//     is off (counted, logged, and Close returns an error saying how many);
//   - chatd was killed or crashed while it was queued: without Durable,
//     any queued event; with Durable, only one emitted in the last
//     persistEvery (100 ms) before the crash.
//
// A receiver may see an event twice: when its 2xx answer was lost or came
// after the timeout, and, with Durable, after a crash, for the events
// delivered in the last 100 ms before it (the file still held them).
// Receivers dedupe by id.
//
// # Durability
//
// With Config.Durable, the queue is also kept in Dir/webhooks.db (bbolt,
// keys are 8-byte big-endian ids, values the events' JSON). A second
// goroutine, every persistEvery, writes the events queued since its last
// round and deletes those delivered since, in one transaction whose commit
// fsyncs; a round with nothing new writes nothing. Close writes what is
// left. New loads the file in id order, up to the queue's bounds (the rest
// is dropped and counted), and sends it before any new event; new ids are
// above the loaded ones.
//
// # Ordering
//
// Ids are unique and increasing (Unix ms x 1000 plus a counter; with
// Durable, above every kept id), given under the queue's lock, so queue
// order is id order. One POST is in flight at a time and a failed batch is
// retried before anything after it, so bodies arrive in id order and each
// body is in id order; only a duplicate (above) comes out of order. The
// order of ids is the order in which the events were emitted: for one
// session, its login, joins, leaves and logout are emitted in the order
// they happened, on its actor; events of different sessions interleave as
// they happened to be queued.
//
// # Bounds
//
// The queue holds at most Config.QueueEvents events and
// Config.QueueBytes bytes (estimated JSON size, the batch in flight
// included); past either, Emit drops the event and counts it. One body is
// at most Config.BatchEvents events; an answer's body is read up to
// 64 KiB and thrown away.
//
// # Memory
//
// The queued events: about 200 bytes each (the file is not read after
// New, so Durable adds no memory but a round's new events), plus the
// queue slice, which
// keeps the capacity of its largest backlog below 4096 events and gives a
// larger one back when it empties. The batch in flight is encoded once per
// attempt.
//
// # Concurrency
//
// Emit is safe for concurrent use and never blocks: it takes the queue's
// mutex for O(1) work and signals the worker without waiting, so it may be
// called from actors. One goroutine (the worker) does the HTTP I/O, and
// with Durable one more writes the file; New starts them and Close stops
// them, waiting for them. Close stops Emit (later
// events are dropped and counted), sends what is queued until its context
// is done, then aborts the POST in flight and, with Durable, writes what is
// left to the file in one fsynced transaction. chatd closes the Sink after the server and
// the chat service, so the logouts of the shutdown are queued first.
package webhook

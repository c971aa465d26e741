// Package evloop is an event loop on easygo's epoll: one epoll instance and
// its wait goroutine, an inbox through which other goroutines hand the loop
// work, and a list of connections whose output is flushed once per wake.
//
// # Model
//
// Every callback of a Loop runs on its wait goroutine: the socket callbacks
// registered with Add, the tasks posted with Post, and the Flush of each
// Flusher marked with Dirty. One goroutine runs them all, one at a time, so
// state that only they touch needs no lock. A callback must never block.
//
// A wake is one socket callback, or one read of the inbox's eventfd. After
// the callback, and before the loop waits again, the loop runs the tasks in
// its inbox (up to a budget, so that a stream of posts from elsewhere
// cannot keep it from its sockets) and then flushes every Flusher marked
// dirty during the wake, each once. Work a callback produces for the loop's
// own connections therefore goes out in that wake, with one write per
// connection however many frames it queued.
//
// # Inbox
//
// Post pushes a task onto a lock-free stack (a compare-and-swap per push;
// the loop takes the whole stack with one swap and reverses it, so tasks
// run in the order posted by each goroutine). A post from a goroutine other
// than the loop's writes the loop's eventfd only when the loop is neither
// inside a wake (it drains the inbox before it waits again) nor already
// notified: wake-ups are coalesced, and none is lost (the proof is at
// leave).
//
// # Triggering
//
// Sockets are registered once, level-triggered, without one-shot: a wake
// costs no epoll_ctl. A socket with more input than a wake's read budget is
// reported again by the next epoll_wait, after every other ready socket of
// that batch, so one busy connection cannot starve the others. Interest
// changes (Mod) are for the rare cases: input paused on a full mailbox,
// output waiting for the socket to drain.
//
// # Failures
//
// easygo's wait goroutine has no recover. The loop recovers a panic in a
// task or a Flush, logs it and goes on; socket callbacks are expected to
// recover their own panics and close only the connection at fault (the
// loop recovers them too, as a last resort).
package evloop

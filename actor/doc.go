// Package actor is a small, chat-agnostic actor runtime: an actor is a
// struct plus a bounded queue, and it owns a goroutine only while it has
// messages to process. It depends on the standard library and zap only.
//
// # Model
//
// Spawn creates an actor from a Receiver and returns its *Ref. A new actor
// is idle: it has no goroutine and no ring storage, only its Ref (96 bytes
// on amd64, 112 once it has run; the package tests hold it under 256). The first Post to
// an idle actor schedules one activation, a goroutine started and counted
// by the System. The activation takes messages one at a time and calls
// Receive for each; when it finds the queue empty it marks the actor idle,
// gives its ring buffers back to a pool shared by all actors of the same
// message type, and returns. The emptiness check and the idle mark happen
// under the same lock that Post takes to queue a message and decide whether
// to schedule, so a wake-up is never lost: a message is either seen by the
// running activation or starts a new one.
//
// # Queue, lanes and ordering
//
// The queue has two lanes. The normal lane is bounded by the capacity
// given to Spawn; Post never blocks and returns ErrQueueFull when the lane
// is full, leaving the overflow policy (drop, disconnect the slow consumer,
// stop reading the socket) to the caller. The system lane, fed by
// PostSystem, has no bound and is meant for rare control messages; it is
// checked before every normal message, so a system message overtakes every
// normal message still queued. Receive calls are sequential, and messages
// posted by one goroutine to one lane are received in the order posted.
// There is no order between different senders, nor between the two lanes
// beyond the priority rule.
//
// # Receive must not block
//
// An activation is a goroutine, so a blocking Receive does not stall other
// actors, but it stalls its own queue (senders start getting
// ErrQueueFull) and it delays System.Shutdown. Blocking work (password
// hashing, HTTP calls, disk) belongs on a bounded worker pool that posts
// its result back to the actor as a message. Receive may Post to any actor,
// including its own Ref, and may call Stop.
//
// # Failures
//
// A panic in Receive is recovered at the activation boundary, logged at
// Error with its stack, and stops that actor only: its queued messages are
// dropped, later posts return ErrStopped, and its OnStop callback (see
// WithOnStop) receives a *PanicError. Other actors, and the process, carry
// on. Stop ends an actor deliberately; OnStop then receives nil.
//
// # Lifecycle
//
// A System tracks every goroutine it starts: activations, and long-running
// loops started with System.Go. System.Shutdown makes every later Post and
// PostSystem return ErrStopped, then waits, bounded by its context, for
// running activations to drain what was already queued and for every
// System.Go goroutine to return (they watch System.Closing).
package actor

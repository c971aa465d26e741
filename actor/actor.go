package actor

import (
	"errors"
	"fmt"
)

// Receiver processes the messages of one actor.
//
// Concurrency: Receive is never called concurrently for the same actor, and
// every call happens after the previous one returned (a happens-before edge
// exists between consecutive calls even when they run on different
// goroutines), so a Receiver may keep unsynchronised state that only Receive
// touches. Receive must not block: see the package documentation.
type Receiver[M any] interface {
	Receive(msg M)
}

// ReceiverFunc adapts an ordinary function to the Receiver interface.
//
// Concurrency: the same as Receiver; the function is called by one
// activation at a time.
type ReceiverFunc[M any] func(msg M)

// Receive calls f(msg).
func (f ReceiverFunc[M]) Receive(msg M) { f(msg) }

var (
	// ErrQueueFull is returned by Ref.Post when the normal lane already
	// holds its capacity of messages. Nothing was queued; the caller applies
	// its own overflow policy (drop, disconnect, retry later).
	ErrQueueFull = errors.New("actor: queue full")

	// ErrStopped is returned by Ref.Post and Ref.PostSystem after the actor
	// stopped (Ref.Stop or a panic in Receive) or after System.Shutdown
	// began. Nothing was queued.
	ErrStopped = errors.New("actor: stopped")
)

// PanicError reports a panic recovered from Receive. It is what the
// WithOnStop callback receives when an actor stops because of a panic.
//
// Concurrency: a PanicError is immutable once built and safe to share.
type PanicError struct {
	// Value is the value passed to panic.
	Value any
	// Stack is the stack of the panicking goroutine, as runtime/debug.Stack
	// formats it, captured before the stack unwound.
	Stack []byte
}

// Error implements error. It does not include the stack.
func (e *PanicError) Error() string {
	return fmt.Sprintf("actor: panic in Receive: %v", e.Value)
}

// Unwrap returns Value when it is an error (panic(err)), so errors.Is and
// errors.As see through the panic.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

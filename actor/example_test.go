package actor_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/chatd/chatd/actor"
)

// counter is an actor: plain state, touched only by Receive.
type counter struct {
	n      int
	report chan int
}

func (c *counter) Receive(msg string) {
	if msg == "report" {
		c.report <- c.n
		return
	}
	c.n++
}

func ExampleSpawn() {
	sys := actor.NewSystem(zap.NewNop())
	defer sys.Shutdown(context.Background())

	c := &counter{report: make(chan int)}
	ref := actor.Spawn[string](sys, c, 16) // idle: no goroutine yet
	for range 3 {
		_ = ref.Post("hello") // schedules an activation, which drains and goes idle
	}
	_ = ref.Post("report")
	fmt.Println("count:", <-c.report)
	// Output: count: 3
}

func ExampleReceiverFunc() {
	sys := actor.NewSystem(zap.NewNop())
	defer sys.Shutdown(context.Background())

	done := make(chan struct{})
	ref := actor.Spawn[string](sys, actor.ReceiverFunc[string](func(name string) {
		fmt.Println("hello,", name)
		close(done)
	}), 1)
	_ = ref.Post("gopher")
	<-done
	// Output: hello, gopher
}

// A full queue is reported, never waited on: the sender applies its own
// policy, here counting drops.
func ExampleRef_Post() {
	sys := actor.NewSystem(zap.NewNop())
	defer sys.Shutdown(context.Background())

	started, release := make(chan struct{}), make(chan struct{})
	ref := actor.Spawn[int](sys, actor.ReceiverFunc[int](func(i int) {
		if i == 0 {
			close(started)
		}
		<-release
	}), 2)
	defer close(release)

	_ = ref.Post(0)
	<-started // message 0 is in progress, the queue is empty
	dropped := 0
	for i := 1; i < 10; i++ {
		if err := ref.Post(i); errors.Is(err, actor.ErrQueueFull) {
			dropped++
		}
	}
	fmt.Println("queued:", ref.Len(), "dropped:", dropped)
	// Output: queued: 2 dropped: 7
}

// System messages overtake normal ones still queued.
func ExampleRef_PostSystem() {
	sys := actor.NewSystem(zap.NewNop())
	defer sys.Shutdown(context.Background())

	started, release, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
	ref := actor.Spawn[string](sys, actor.ReceiverFunc[string](func(m string) {
		switch m {
		case "busy":
			close(started)
			<-release
		case "last":
			close(done)
		default:
			fmt.Println(m)
		}
	}), 8)
	_ = ref.Post("busy")
	<-started // hold the actor so the next messages queue up
	_ = ref.Post("chat message")
	_ = ref.Post("last")
	_ = ref.PostSystem("kick")
	close(release)
	<-done
	// Output:
	// kick
	// chat message
}

// OnStop reports why the actor stopped: nil after Stop, *PanicError after a
// panic in Receive. Only the panicking actor stops.
func ExampleWithOnStop() {
	sys := actor.NewSystem(zap.NewNop())
	defer sys.Shutdown(context.Background())

	stopped := make(chan error, 1)
	ref := actor.Spawn[int](sys, actor.ReceiverFunc[int](func(i int) {
		_ = 10 / i // panics when i == 0
	}), 4, actor.WithOnStop(func(err error) { stopped <- err }))

	_ = ref.Post(0)
	var perr *actor.PanicError
	if err := <-stopped; errors.As(err, &perr) {
		fmt.Println("stopped by panic:", perr.Value)
	}
	fmt.Println("post after stop:", ref.Post(1))
	// Output:
	// stopped by panic: runtime error: integer divide by zero
	// post after stop: actor: stopped
}

// Long-running loops are started with Go and watch Closing; Shutdown waits
// for them and for every activation, bounded by its context.
func ExampleSystem_Shutdown() {
	sys := actor.NewSystem(zap.NewNop())
	ticks := make(chan struct{})
	sys.Go(func() {
		defer close(ticks)
		<-sys.Closing() // a real loop would also serve its work here
	})

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	fmt.Println("shutdown:", sys.Shutdown(ctx))
	<-ticks
	fmt.Println("loop ended")
	// Output:
	// shutdown: <nil>
	// loop ended
}

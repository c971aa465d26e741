package server

import (
	"sync"
	"testing"

	"go.uber.org/zap"

	"github.com/chatd/chatd/actor"
	"github.com/chatd/chatd/server/internal/evloop"
)

// counter is an actor that counts what it receives; the last of a round
// tells the benchmark.
type counter struct {
	round *sync.WaitGroup
}

func (c *counter) Receive(int) { c.round.Done() }

// BenchmarkActorHopOnLoop measures what one more actor on a message's way
// costs when actors run on an event loop, as a per-user actor between a
// sender's session and the receiver's would: a post to an idle actor of
// the same loop and its activation. Each op is a round of one message to
// each of 1,000 actors, posted from a task on the loop; ns/hop is per
// message.
func BenchmarkActorHopOnLoop(b *testing.B) {
	el, err := evloop.New(zap.NewNop(), 4096)
	if err != nil {
		b.Fatal(err)
	}
	defer el.Close()
	sys := actor.NewSystem(zap.NewNop(), actor.WithDispatcher(el.Post), actor.WithBudget(activationBudget))
	const actors = 1000
	var round sync.WaitGroup
	refs := make([]*actor.Ref[int], actors)
	for i := range refs {
		refs[i] = actor.Spawn[int](sys, &counter{round: &round}, 256)
	}
	post := func() {
		for i, r := range refs {
			_ = r.Post(i)
		}
	}
	b.ResetTimer()
	for range b.N {
		round.Add(actors)
		el.Post(post)
		round.Wait()
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*actors), "ns/hop")
}

package server

import (
	"runtime"
	"sync"
)

// runPool starts connection-actor activations on long-lived goroutines.
//
// With the actor runtime's default, each activation is a new goroutine whose
// small stack grows again on the write path every time (about a sixth of
// the server's CPU in the echo profile, docs/BENCHMARKS.md). A pool
// goroutine keeps its grown stack. dispatch hands an activation to an idle
// pool goroutine if one is waiting and otherwise starts a new goroutine, so
// it never blocks and never queues an activation behind another.
type runPool struct {
	runs chan func()
	wg   sync.WaitGroup
}

// poolPerCPU is the number of pool goroutines per CPU.
const poolPerCPU = 4

func newRunPool() *runPool {
	p := &runPool{runs: make(chan func())}
	n := poolPerCPU * runtime.GOMAXPROCS(0)
	p.wg.Add(n)
	for i := 0; i < n; i++ {
		go p.loop()
	}
	return p
}

func (p *runPool) loop() {
	defer p.wg.Done()
	for run := range p.runs {
		run()
	}
}

func (p *runPool) dispatch(run func()) {
	select {
	case p.runs <- run:
	default:
		go run()
	}
}

// stop ends the pool goroutines once no activation can be dispatched any
// more (after the actor system has shut down).
func (p *runPool) stop() {
	close(p.runs)
	p.wg.Wait()
}

package evloop

import (
	"sync"
	"sync/atomic"
)

// node is one posted task.
type node struct {
	task func()
	next *node
}

var nodePool = sync.Pool{New: func() any { return new(node) }}

// inbox is a multi-producer, single-consumer queue of tasks: a Treiber
// stack that the consumer takes whole. push is one compare-and-swap;
// takeAll is one swap, so there is no ABA problem however nodes are reused.
//
// Concurrency: push from any goroutine; takeAll from the loop only.
type inbox struct {
	head atomic.Pointer[node]
}

func (q *inbox) push(task func()) {
	n := nodePool.Get().(*node)
	n.task = task
	for {
		old := q.head.Load()
		n.next = old
		if q.head.CompareAndSwap(old, n) {
			return
		}
	}
}

// takeAll removes every queued task and returns them oldest first.
func (q *inbox) takeAll() *node {
	n := q.head.Swap(nil)
	var fifo *node
	for n != nil {
		next := n.next
		n.next = fifo
		fifo = n
		n = next
	}
	return fifo
}

func (q *inbox) empty() bool { return q.head.Load() == nil }

// release gives a run node back to the pool.
func release(n *node) {
	n.task, n.next = nil, nil
	nodePool.Put(n)
}

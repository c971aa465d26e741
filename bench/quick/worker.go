package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// An idle worker opens a share of the idle-mode connections, proves each
// alive with one echo, holds them (reading, so keepalive pings are
// answered) until told to finish, proves them alive again and closes them. It runs in the parent's process when one process
// suffices, otherwise as a child process (quick -worker) because every
// connection costs the client one file descriptor and a process may hold
// at most 20,000.
//
// The protocol is line-based: the worker writes one JSON workerReport line
// with Phase "ready" once its connections are open, then waits for any line
// (or EOF) on its input, then writes a "done" report and exits. EOF on the
// input (the parent died) also ends it, so no worker outlives its parent.

// workerJob is one worker's share: connections first … first+n-1.
type workerJob struct {
	dialer dialer
	first  int // global index of the worker's first connection
	n      int
	dials  int // concurrent dials and echo checks
}

// workerReport is one line of a worker's output.
type workerReport struct {
	Phase    string  `json:"phase"` // "ready" or "done"
	Opened   int     `json:"opened"`
	Failed   int     `json:"failed"`
	OpenSecs float64 `json:"open_secs"`
	Alive    int     `json:"alive"` // done: connections that echoed again
	FirstErr string  `json:"first_err,omitempty"`
}

// echoTimeout bounds one liveness echo.
const echoTimeout = 10 * time.Second

// runWorker does job, reading its finish signal from in and writing its
// reports to out.
func runWorker(ctx context.Context, job workerJob, in io.Reader, out io.Writer) error {
	enc := json.NewEncoder(out)
	start := time.Now()
	conns := make([]*idleConn, job.n)
	var failed atomic.Int64
	var firstErr errOnce
	forEach(ctx, job.n, job.dials, func(i int) {
		c, err := job.dialer.dial(ctx, job.first+i)
		if err == nil {
			if err = echoOnce(c, pingMsg(job.first+i), make([]byte, 64), echoTimeout); err != nil {
				c.Close()
				err = fmt.Errorf("connection %d: first echo: %w", job.first+i, err)
			}
		}
		if err != nil {
			failed.Add(1)
			firstErr.set(err)
			return
		}
		conns[i] = holdConn(c)
	})
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.close()
			}
		}
	}()
	ready := workerReport{
		Phase:    "ready",
		Failed:   int(failed.Load()),
		OpenSecs: time.Since(start).Seconds(),
		FirstErr: firstErr.String(),
	}
	ready.Opened = job.n - ready.Failed
	if err := enc.Encode(ready); err != nil {
		return err
	}

	// Hold until the parent says finish (any line) or goes away (EOF).
	_, _ = bufio.NewReader(in).ReadString('\n')

	var alive atomic.Int64
	var checkErr errOnce
	forEach(ctx, job.n, job.dials, func(i int) {
		c := conns[i]
		if c == nil {
			return
		}
		if err := c.echo(pingMsg(job.first+i), echoTimeout); err != nil {
			checkErr.set(fmt.Errorf("connection %d: last echo: %w", job.first+i, err))
			return
		}
		alive.Add(1)
	})
	return enc.Encode(workerReport{
		Phase:    "done",
		Opened:   ready.Opened,
		Failed:   ready.Failed,
		OpenSecs: ready.OpenSecs,
		Alive:    int(alive.Load()),
		FirstErr: checkErr.String(),
	})
}

// pingMsg is the liveness message of connection i: small and unique.
func pingMsg(i int) []byte { return fmt.Appendf(nil, "quick-idle-%d", i) }

// idleConn is a held connection. Like a real idle client (a browser tab)
// it keeps reading, so it answers the server's keepalive pings (the library
// replies with a pong) and notices when the server closes it.
//
// Concurrency: the reader goroutine is the only reader; echo is the only
// data writer and is called by one goroutine at a time. gorilla/websocket
// allows the pong writes to run concurrently with it.
type idleConn struct {
	c    *websocket.Conn
	got  chan []byte   // data messages the reader received
	dead chan struct{} // closed when the reader stops
	err  error         // why the reader stopped; read after dead is closed
}

// holdConn starts the connection's reader.
func holdConn(c *websocket.Conn) *idleConn {
	ic := &idleConn{c: c, got: make(chan []byte, 1), dead: make(chan struct{})}
	go ic.read()
	return ic
}

func (ic *idleConn) read() {
	defer close(ic.dead)
	for {
		_, msg, err := ic.c.ReadMessage()
		if err != nil {
			ic.err = err
			return
		}
		select {
		case ic.got <- msg:
		default: // unexpected extra message: drop it; echo will notice
		}
	}
}

// echo sends msg and waits up to timeout for the reader to see it back.
func (ic *idleConn) echo(msg []byte, timeout time.Duration) error {
	_ = ic.c.SetWriteDeadline(time.Now().Add(timeout))
	if err := ic.c.WriteMessage(websocket.BinaryMessage, msg); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case got := <-ic.got:
		if !bytes.Equal(got, msg) {
			return fmt.Errorf("echo mismatch: sent %q, got %q", msg, got)
		}
		return nil
	case <-ic.dead:
		return fmt.Errorf("connection closed during the hold: %w", ic.err)
	case <-t.C:
		return fmt.Errorf("no echo within %v", timeout)
	}
}

// close closes the connection without a close handshake (the server sees
// EOF, as when a client vanishes) and waits for its reader.
func (ic *idleConn) close() {
	ic.c.NetConn().Close()
	<-ic.dead
}

// forEach calls fn(i) for i in [0, n) on up to par goroutines, and stops
// handing out indexes once ctx ends.
func forEach(ctx context.Context, n, par int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(par, n) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				fn(i)
			}
		})
	}
	wg.Wait()
}

// errOnce keeps the first error set. It is safe for concurrent use.
type errOnce struct {
	mu  sync.Mutex // guards err
	err error
}

func (e *errOnce) set(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.err == nil {
		e.err = err
	}
}

func (e *errOnce) get() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.err
}

// String is the first error's text, or "".
func (e *errOnce) String() string {
	if err := e.get(); err != nil {
		return err.Error()
	}
	return ""
}

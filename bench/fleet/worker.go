package fleet

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/chatd/chatd/bench/scenario"
)

// toWorker is one line from the parent.
type toWorker struct {
	Job     *scenario.Job `json:"job,omitempty"`
	Release string        `json:"release,omitempty"`
	At      time.Time     `json:"at,omitzero"`
}

// fromWorker is one line from a worker.
type fromWorker struct {
	Sync     string             `json:"sync,omitempty"`
	Progress *scenario.Progress `json:"progress,omitempty"`
	Result   *scenario.Result   `json:"result,omitempty"`
	Error    string             `json:"error,omitempty"`
}

// maxLine bounds one protocol line (a result holds the worker's ledger).
const maxLine = 1 << 30

// Serve is a worker: it reads its job from in, runs it, and writes its
// progress, phases and result to out. It returns when the job is done, or
// when in reaches EOF or ctx ends (the parent is gone).
func Serve(ctx context.Context, in io.Reader, out io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	lines := bufio.NewScanner(in)
	lines.Buffer(make([]byte, 64<<10), maxLine)
	if !lines.Scan() {
		return fmt.Errorf("no job: %v", lines.Err())
	}
	var first toWorker
	if err := json.Unmarshal(lines.Bytes(), &first); err != nil || first.Job == nil {
		return fmt.Errorf("first line is not a job: %v", err)
	}

	c := &coord{out: json.NewEncoder(out), releases: make(chan toWorker, 16)}
	readDone := make(chan struct{})
	go func() { // the parent's releases; EOF means the parent is gone
		defer close(readDone)
		defer cancel()
		for lines.Scan() {
			var m toWorker
			if json.Unmarshal(lines.Bytes(), &m) == nil && m.Release != "" {
				select {
				case c.releases <- m:
				case <-ctx.Done():
					return
				}
			}
		}
	}()

	res, err := scenario.Run(ctx, *first.Job, c)
	if err != nil {
		c.send(fromWorker{Error: err.Error()})
	} else if err = c.send(fromWorker{Result: &res}); err != nil {
		err = fmt.Errorf("send result: %w", err)
	}
	cancel()
	if closer, ok := in.(io.Closer); ok {
		closer.Close() // unblock the reader when in is a pipe
	}
	<-readDone
	return err
}

// coord is the worker's side of the protocol. It is safe for concurrent
// use: Progress comes from a ticker goroutine.
type coord struct {
	mu       sync.Mutex // guards out
	out      *json.Encoder
	releases chan toWorker
}

func (c *coord) send(m fromWorker) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.Encode(m)
}

// Sync implements scenario.Coord.
func (c *coord) Sync(ctx context.Context, phase string) (time.Time, error) {
	if err := c.send(fromWorker{Sync: phase}); err != nil {
		return time.Time{}, err
	}
	select {
	case m := <-c.releases:
		if m.Release != phase {
			return time.Time{}, fmt.Errorf("released from %q while at %q", m.Release, phase)
		}
		return m.At, nil
	case <-ctx.Done():
		return time.Time{}, errors.Join(errors.New("parent gone while at "+phase), ctx.Err())
	}
}

// Progress implements scenario.Coord.
func (c *coord) Progress(p scenario.Progress) { _ = c.send(fromWorker{Progress: &p}) }

package bridge

import "github.com/chatd/chatd/server"

// feeder puts a connection's messages on a process's stdin queue without
// blocking the actor. When the queue is full, the message waits in
// pending and the connection's reads are paused (Conn.PauseReading), so
// TCP backpressure reaches the client; the stdin writer's wake-up (a
// roomMsg posted to the connection) drains pending and resumes reading.
// Messages already in the connection's mailbox when reads paused still
// arrive, so pending holds at most server.limits.queue_size messages.
// It is used on the actor only.
type feeder struct {
	c       *server.Conn
	pending [][]byte
	// wait asks the stdin writer for a roomMsg after it next takes a
	// message; it reports true if that was asked already.
	wait func() bool
}

// roomMsg: the stdin writer took a message from a queue that was full.
type roomMsg struct{}

// send queues msg, or holds it and pauses reading.
func (f *feeder) send(in chan<- []byte, msg []byte) {
	if len(f.pending) == 0 {
		select {
		case in <- msg:
			return
		default:
		}
		f.c.PauseReading()
	}
	f.pending = append(f.pending, msg)
	f.drain(in)
}

// drain queues what is pending while there is room; once all is queued,
// reading resumes.
func (f *feeder) drain(in chan<- []byte) {
	for len(f.pending) > 0 {
		select {
		case in <- f.pending[0]:
			f.pending[0] = nil
			f.pending = f.pending[1:]
			continue
		default:
		}
		// Full. Ask for a wake-up, then try once more: the writer may
		// have taken a message before it could see the request.
		if f.wait() {
			return
		}
	}
	f.pending = nil
	f.c.ResumeReading()
}

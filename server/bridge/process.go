package bridge

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"go.uber.org/zap"
)

// sink is where a process's output goes: a connection (per_connection) or
// the members of a shared path. Its methods run on the process's stdout
// goroutine, except room, which runs on its stdin writer.
type sink interface {
	// line delivers one stdout line (text mode, without its newline) or
	// chunk (binary mode); the slice is the sink's. It may block, which
	// slows the program down. It returns false when nobody wants the
	// output any more: reading stops and the pipe is closed.
	line(p *process, data []byte) bool
	// tooLong reports a line over bridge.max_line_bytes; the process is
	// being stopped.
	tooLong(p *process)
	// exited reports the process's end, after its last line, with its
	// status ("exit status 1", "signal: killed").
	exited(p *process, status string)
	// room is called after the stdin writer took a message from the queue.
	room()
}

// process is one running program.
//
// Concurrency: the fields are set before the goroutines start and not
// written after, except status, written by the stdout goroutine before it
// closes done. stop may be called from any goroutine, any number of times.
type process struct {
	b      *Bridge
	ep     *endpoint
	cmd    *exec.Cmd
	pid    int
	stdin  io.WriteCloser
	stdout io.ReadCloser
	pidfd  *os.File    // watched by watchExit; nil without pidfd support
	in     chan []byte // the stdin queue, drained by writeStdin
	sink   sink

	quit     chan struct{} // closed by stop: the writer stops, stdin is closed
	done     chan struct{} // closed once the process is reaped
	status   string        // valid after done
	quitOnce sync.Once
	stopOnce sync.Once
}

// errTooMany: a process limit was reached.
var errTooMany = errors.New("too many processes")

// spawn starts ep's program with env, its output going to s and its input
// taken from in. It counts the process against the limits, and starts its
// stdout, stderr and stdin goroutines.
func (b *Bridge) spawn(ep *endpoint, env []string, in chan []byte, s sink) (*process, error) {
	if !b.reserve(ep) {
		return nil, errTooMany
	}
	p, err := b.start(ep, env, in, s)
	if err != nil {
		b.release(ep)
		return nil, err
	}
	return p, nil
}

func (b *Bridge) start(ep *endpoint, env []string, in chan []byte, s sink) (*process, error) {
	cmd := exec.Command(ep.argv[0], ep.argv[1:]...)
	cmd.Env = env
	// Its own process group, so that signals reach what it started too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{b: b, ep: ep, cmd: cmd, pid: cmd.Process.Pid, stdin: stdin, stdout: stdout,
		pidfd: openPidfd(cmd.Process.Pid), in: in, sink: s, quit: make(chan struct{}), done: make(chan struct{})}
	b.track(p)
	if ce := b.log.Check(zap.DebugLevel, "program started"); ce != nil {
		ce.Write(zap.String("path", ep.prog.Path), zap.Int("pid", p.pid))
	}
	b.wg.Add(4)
	go p.watchExit()
	go p.readStdout()
	go p.readStderr(stderr)
	go p.writeStdin()
	return p, nil
}

// stop ends the process: its stdin is closed at once, SIGTERM follows
// after bridge.stdin_grace and SIGKILL after bridge.kill_grace more, each
// to its whole process group and only while it has not been reaped.
func (p *process) stop() {
	p.stopOnce.Do(func() {
		p.closeStdin()
		select {
		case <-p.done:
			return
		default:
		}
		p.b.wg.Add(1)
		go p.escalate()
	})
}

// closeStdin stops the writer and closes stdin; a Write in progress
// returns.
func (p *process) closeStdin() {
	p.quitOnce.Do(func() {
		close(p.quit)
		p.stdin.Close()
	})
}

// escalate signals the process group until the process is reaped. It runs
// only while a process is stopping.
func (p *process) escalate() {
	defer p.b.wg.Done()
	cfg := p.b.cfg
	t := time.NewTimer(cfg.StdinGrace)
	defer t.Stop()
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		select {
		case <-p.done:
			return
		case <-t.C:
		}
		// Not reaped: the pid (and so the group id) is still ours.
		_ = syscall.Kill(-p.pid, sig)
		if sig == syscall.SIGKILL {
			p.b.log.Warn("program killed", zap.String("path", p.ep.prog.Path), zap.Int("pid", p.pid),
				zap.Duration("kill_grace", cfg.KillGrace))
			return
		}
		t.Reset(cfg.KillGrace)
	}
}

// readStdout hands the program's output to the sink until EOF (or the
// sink is done with it), then reaps the process.
func (p *process) readStdout() {
	defer p.b.wg.Done()
	if p.ep.prog.Binary {
		p.readChunks()
	} else {
		p.readLines()
	}
	// Whether EOF or the sink gave up: reading is over. Closing the pipe
	// makes a program still writing fail (EPIPE) rather than block.
	p.stdout.Close()
	err := p.cmd.Wait()
	p.status = "exit status 0"
	if err != nil {
		p.status = err.Error()
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			p.b.log.Warn("program wait", zap.String("path", p.ep.prog.Path), zap.Int("pid", p.pid), zap.Error(err))
		}
	}
	p.b.untrack(p)
	p.b.release(p.ep)
	close(p.done)
	if p.pidfd != nil {
		_ = p.pidfd.SetReadDeadline(time.Now()) // watchExit: reaped, stop waiting
	}
	p.closeStdin()
	if ce := p.b.log.Check(zap.DebugLevel, "program exited"); ce != nil {
		ce.Write(zap.String("path", p.ep.prog.Path), zap.Int("pid", p.pid), zap.String("status", p.status))
	}
	p.sink.exited(p, p.status)
}

// readLines reads the program's stdout as lines (splitLines); a line over
// max_line_bytes, or a sink that takes no more, stops the process.
func (p *process) readLines() {
	switch splitLines(p.stdout, p.b.cfg.MaxLineBytes, func(line []byte) bool { return p.sink.line(p, line) }) {
	case linesTooLong:
		p.sink.tooLong(p)
		p.stop()
	case linesRefused:
		p.stop()
	}
}

// How splitLines ended.
type linesEnd uint8

const (
	linesEOF     linesEnd = iota // end of input, or a read error
	linesTooLong                 // a line over max, not passed
	linesRefused                 // emit returned false
)

// splitLines reads newline-terminated lines of at most max bytes from r
// (a trailing "\r" before the newline is dropped too; a last line without
// a newline is passed as it is) through a 4 KiB buffer, and hands each to
// emit, which owns it, until the end of r, a line over max (not passed),
// or emit returning false.
func splitLines(r io.Reader, max int, emit func(line []byte) bool) linesEnd {
	br := bufio.NewReaderSize(r, 4096)
	var long []byte // a line longer than the buffer, so far
	for {
		frag, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			if len(long)+len(frag) > max+2 { // room for "\r\n"
				return linesTooLong
			}
			long = append(long, frag...)
			continue
		}
		if len(frag) > 0 || len(long) > 0 {
			line := make([]byte, 0, len(long)+len(frag))
			line = append(append(line, long...), frag...)
			long = nil
			line = bytes.TrimSuffix(line, []byte("\n"))
			if err == nil {
				line = bytes.TrimSuffix(line, []byte("\r"))
			}
			if len(line) > max {
				return linesTooLong
			}
			if !emit(line) {
				return linesRefused
			}
		}
		if err != nil {
			return linesEOF // EOF, or the pipe was closed
		}
	}
}

// readChunks passes whatever each read returns, up to max_line_bytes.
func (p *process) readChunks() {
	buf := make([]byte, min(p.b.cfg.MaxLineBytes, 32<<10))
	for {
		n, err := p.stdout.Read(buf)
		if n > 0 && !p.sink.line(p, bytes.Clone(buf[:n])) {
			p.stop()
			return
		}
		if err != nil {
			return
		}
	}
}

// writeStdin writes queued messages to stdin until stop. After a failed
// write (the program closed its stdin or exited) messages are taken and
// dropped, so that clients waiting for room are not held forever.
func (p *process) writeStdin() {
	defer p.b.wg.Done()
	broken := false
	for {
		select {
		case <-p.quit:
			return
		case msg := <-p.in:
			if !broken {
				if _, err := p.stdin.Write(msg); err != nil {
					broken = true
				}
			}
			p.sink.room()
		}
	}
}

// readStderr logs the program's stderr, line by line, with the path and
// pid, within the path's rate.
func (p *process) readStderr(stderr io.Reader) {
	defer p.b.wg.Done()
	sc := bufio.NewScanner(stderr)
	sc.Buffer(make([]byte, 0, 512), 4096)
	for {
		if !sc.Scan() {
			if errors.Is(sc.Err(), bufio.ErrTooLong) {
				// A line over 4 KiB: log its start, skip the rest.
				p.logStderr(sc.Bytes())
				sc = bufio.NewScanner(stderr)
				sc.Buffer(make([]byte, 0, 512), 4096)
				continue
			}
			return
		}
		p.logStderr(sc.Bytes())
	}
}

func (p *process) logStderr(line []byte) {
	lim := p.ep.stderr
	if !lim.Allow() {
		p.ep.stderrDropped.Add(1)
		return
	}
	fields := []zap.Field{zap.String("path", p.ep.prog.Path), zap.Int("pid", p.pid), zap.String("line", string(line))}
	if n := p.ep.stderrDropped.Swap(0); n > 0 {
		fields = append(fields, zap.Int64("dropped_before", n))
	}
	p.b.log.Info("program stderr", fields...)
}

// statusReason is the close reason for an exit status, within a close
// frame's 123 bytes.
func statusReason(status string) string {
	r := fmt.Sprintf("program exited: %s", status)
	if len(r) > 123 {
		r = r[:123]
	}
	return r
}

// environ returns the values of names in chatd's environment, as
// NAME=value, skipping those not set.
func environ(names []string) []string {
	var env []string
	for _, n := range names {
		if v, ok := os.LookupEnv(n); ok {
			env = append(env, n+"="+v)
		}
	}
	return env
}

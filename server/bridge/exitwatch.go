package bridge

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// exitDrain is how long the program's output is still read after it
// exited before its stdout is closed: what it wrote before exiting is in
// the pipe and normally read at once; only a descendant that kept the pipe
// open (a background child, `setsid cmd &`) makes the reader wait for EOF,
// and it must not keep the exited program unreaped, its slot taken and its
// client unanswered.
const exitDrain = 200 * time.Millisecond

// openPidfd returns a pidfd for pid in Go's poller, or nil if the kernel
// has none (the reader's EOF is then the only exit signal, as before).
func openPidfd(pid int) *os.File {
	fd, err := unix.PidfdOpen(pid, unix.PIDFD_NONBLOCK)
	if err != nil {
		return nil
	}
	return os.NewFile(uintptr(fd), "pidfd")
}

// watchExit waits for the program to exit without reaping it (its pidfd
// in Go's poller: no thread is held), then, after exitDrain, closes its
// stdout so that readStdout reaches its end and reaps it even when a
// descendant still holds the pipe. readStdout unblocks it once the process
// is reaped (a deadline on the pidfd).
func (p *process) watchExit() {
	defer p.b.wg.Done()
	if p.pidfd == nil {
		return
	}
	defer p.pidfd.Close()
	if !waitExited(p.pidfd, p.pid) {
		return
	}
	t := time.NewTimer(exitDrain)
	defer t.Stop()
	select {
	case <-p.done:
	case <-t.C:
		p.stdout.Close() // the reader's Read returns: its end, then Wait
	}
}

// waitExited blocks until process pid has exited (it stays unreaped) and
// reports true, or false when the pidfd's deadline passed first (the
// process was reaped: nothing to wait for).
func waitExited(f *os.File, pid int) bool {
	rc, err := f.SyscallConn()
	if err != nil {
		return false
	}
	exited := false
	err = rc.Read(func(uintptr) bool {
		var info unix.Siginfo
		// WNOWAIT: look, do not reap; WNOHANG: do not block the thread.
		if unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil) != nil {
			return true // reaped already: nothing to wait for
		}
		exited = info.Signo != 0 // SIGCHLD once it exited; 0 while it runs
		return exited            // false: wait until the pidfd is readable
	})
	return err == nil && exited
}

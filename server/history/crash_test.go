package history

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
)

// crashDirEnv names the directory TestCrashChild writes to; set only in
// the child process TestKill9 starts.
const crashDirEnv = "CHATD_HISTORY_CRASH_DIR"

// TestKill9: a process killed with SIGKILL loses from the file exactly
// the changes recorded since its last commit, and the next Open moves each
// room's seq CrashGap on, recording the skipped seqs in Lost, so none of
// the lost messages' seqs is given again. A clean Close after that adds no
// second gap.
func TestKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a subprocess")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.v")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.TrimSpace(sc.Text()) == "ready" {
				ready <- nil
				return
			}
		}
		ready <- sc.Err()
	}()
	select {
	case err := <-ready:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("the child never got ready")
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	s := openTest(t, Config{Dir: dir})
	rooms := byName(t, s)
	gap := uint64(CrashGap)
	// dev: 1..10 committed, 11..15 recorded after: lost.
	wantRoom(t, rooms["dev"], 10+gap, seqRange(1, 10), [2]uint64{10, 10 + gap})
	// ops: committed in full before the crash.
	wantRoom(t, rooms["ops"], 3+gap, seqRange(1, 3), [2]uint64{3, 3 + gap})
	// new: created after the last commit: no record at all.
	if _, ok := rooms["new"]; ok || len(rooms) != 2 {
		t.Fatalf("rooms %v", rooms)
	}
	s.Append("dev", msg("dev", 11+gap, time.Now().UnixMilli()), 1)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	rooms = byName(t, openTest(t, Config{Dir: dir}))
	wantRoom(t, rooms["dev"], 11+gap, append(seqRange(1, 10), 11+gap), [2]uint64{10, 10 + gap})
	wantRoom(t, rooms["ops"], 3+gap, seqRange(1, 3), [2]uint64{3, 3 + gap})
}

// TestCrashChild is the process TestKill9 kills: it commits some changes,
// records more, says "ready" and waits to be killed.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("run by TestKill9")
	}
	s, err := Open(Config{Dir: dir, FlushInterval: time.Hour}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UnixMilli()
	appendRange(s, "dev", 1, 10, now, 0)
	appendRange(s, "ops", 1, 3, now, 0)
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	appendRange(s, "dev", 11, 15, now, 0)
	appendRange(s, "new", 1, 2, now, 0)
	os.Stdout.WriteString("ready\n")
	<-time.After(time.Minute) // killed before this
	t.Fatal("not killed")
}

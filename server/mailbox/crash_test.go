package mailbox

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The kill -9 test re-runs this test binary as a child that writes to the
// store until it is killed. These name the child's settings.
const (
	helperDirEnv   = "CHATD_MAILBOX_HELPER_DIR"
	helperStartEnv = "CHATD_MAILBOX_HELPER_START"
	// crashWriters write concurrently, one user each, so the child's Puts
	// share batches when it dies; each writer's IDs are start+i*crashWriters+w.
	crashWriters = 4
	// crashKillAfter is how many "stored" lines the parent reads before it
	// sends SIGKILL; the writers are mid-Put at that moment.
	crashKillAfter = 120
	// crashLimit bounds a child that is never killed.
	crashLimit = 100_000
)

func crashUser(w int) string { return fmt.Sprintf("user%d", w) }

// TestHelperProcess is the child of TestKill9Durability; it is skipped in
// a normal run. It prints "stored K" after each Put of ID K returns nil.
func TestHelperProcess(t *testing.T) {
	dir := os.Getenv(helperDirEnv)
	if dir == "" {
		t.Skip("child process of TestKill9Durability")
	}
	start, err := strconv.ParseUint(os.Getenv(helperStartEnv), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(Config{Dir: dir, MaxMessages: crashLimit * crashWriters}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var mu sync.Mutex // serialises writes to stdout
	var wg sync.WaitGroup
	for w := range crashWriters {
		wg.Go(func() {
			for i := range uint64(crashLimit) {
				id := start + i*crashWriters + uint64(w)
				if err := s.Put(crashUser(w), Entry{ID: id, Data: data(id)}); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				fmt.Fprintf(os.Stdout, "stored %d\n", id)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

// TestKill9Durability kills a writing child with SIGKILL, three times on
// the same file, and checks that every entry the child reported stored is
// there, in order, with no hole in any user's sequence.
func TestKill9Durability(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	dir := t.TempDir()
	for round := range 3 {
		start := uint64(round+1) * 1_000_000
		reported := runAndKill(t, dir, start)
		if len(reported) < crashKillAfter {
			t.Fatalf("round %d: child reported only %d stored entries", round, len(reported))
		}

		s := openTest(t, Config{Dir: dir, MaxMessages: crashLimit * crashWriters})
		checkFile(t, s)
		for w := range crashWriters {
			ids := loadIDs(t, s, crashUser(w), time.Now())
			// The writer's IDs from all rounds so far, in order, with no
			// hole: a Put only starts after the previous one returned.
			var want []uint64
			for r := range round + 1 {
				first := uint64(r+1)*1_000_000 + uint64(w)
				for id := first; len(ids) > len(want) && ids[len(want)] == id; id += crashWriters {
					want = append(want, id)
				}
			}
			wantIDs(t, ids, want...)
			present := make(map[uint64]bool, len(ids))
			for _, id := range ids {
				present[id] = true
			}
			for id := range reported {
				if int((id-start)%crashWriters) == w && !present[id] {
					t.Fatalf("round %d: entry %d was reported stored but is missing", round, id)
				}
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		t.Logf("round %d: killed after %d reported Puts", round, len(reported))
	}
}

// runAndKill starts the child, reads its "stored K" lines, kills it with
// SIGKILL after crashKillAfter of them, and returns every ID it reported
// before it died.
func runAndKill(t *testing.T, dir string, start uint64) map[uint64]bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperDirEnv+"="+dir, helperStartEnv+"="+strconv.FormatUint(start, 10))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	reported := make(map[uint64]bool)
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		// Lines after the kill were written before the child died: the
		// Puts they report returned nil, so they count too.
		rest, ok := strings.CutPrefix(sc.Text(), "stored ")
		if !ok {
			continue
		}
		id, err := strconv.ParseUint(rest, 10, 64)
		if err != nil {
			t.Fatalf("child printed %q", sc.Text())
		}
		reported[id] = true
		if len(reported) == crashKillAfter {
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
		}
	}
	err = cmd.Wait()
	if ctx.Err() != nil {
		t.Fatalf("child did not finish in time; stderr:\n%s", stderr.Bytes())
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child was not killed by SIGKILL: %v; stderr:\n%s", err, stderr.Bytes())
	}
	return reported
}

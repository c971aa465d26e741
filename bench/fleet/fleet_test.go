package fleet

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"go.uber.org/goleak"

	"github.com/chatd/chatd/bench/scenario"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// echoServer is a minimal RFC 6455 echo server on a free port.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	conns := make(chan net.Conn, 64)
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns <- c
			go func() {
				defer c.Close()
				if _, err := ws.Upgrade(c); err != nil {
					return
				}
				for {
					msg, op, err := wsutil.ReadClientData(c)
					if err != nil {
						return
					}
					if err := wsutil.WriteServerMessage(c, op, msg); err != nil {
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		close(conns)
		for c := range conns {
			c.Close()
		}
		time.Sleep(50 * time.Millisecond) // let the handlers see their conns closed
	})
	return ln.Addr().String()
}

// TestRunInProcess runs a small echo scenario through the parent's loop
// with one in-process worker: job, phases, progress and result.
func TestRunInProcess(t *testing.T) {
	addr := echoServer(t)
	cfg := scenario.Config{
		Scenario: scenario.Echo, URL: "ws://" + addr + "/echo", N: 4, Tag: "t",
		Duration: scenario.Duration(300 * time.Millisecond), Warmup: scenario.Duration(100 * time.Millisecond),
		Interval: scenario.Duration(100 * time.Millisecond), Quiet: scenario.Duration(100 * time.Millisecond),
	}.WithDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	var phases []string
	progressed := false
	opt := Options{
		Hold: func(phase string) time.Duration {
			phases = append(phases, phase)
			return 10 * time.Millisecond
		},
		Progress: func(string, scenario.Progress) { progressed = true },
	}
	results, tl, err := Run(context.Background(), cfg, opt)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(phases, ","); got != "ready,warm,measured" {
		t.Errorf("phases %s", got)
	}
	if len(tl.Phases) != 3 || !progressed || len(results) != 1 {
		t.Fatalf("timeline %+v, progressed %v, %d results", tl.Phases, progressed, len(results))
	}
	r, err := scenario.Summarize(cfg, results, tl)
	if err != nil {
		t.Fatal(err)
	}
	if r.Failed != 0 || r.Verdict == nil || r.Verdict.Expected == 0 {
		t.Fatalf("%d failed, verdict %+v, errors %v", r.Failed, r.Verdict, r.Errors)
	}
	// The client's CPU is cumulative and counted in clock ticks (10 ms): an
	// early phase may still read 0, the last one may not.
	for i, p := range tl.Phases {
		if p.ClientCPU < 0 || i > 0 && p.ClientCPU < tl.Phases[i-1].ClientCPU {
			t.Errorf("phase %s: client CPU %v after %v", p.Name, p.ClientCPU, tl.Phases[max(i-1, 0)].ClientCPU)
		}
	}
	if last := tl.Phases[len(tl.Phases)-1]; last.ClientCPU <= 0 {
		t.Errorf("phase %s: no client CPU counted at all", last.Name)
	}
	if _, ok := r.Metric("client CPU per round trip"); !ok {
		t.Errorf("no client CPU per round trip in %+v", r.Metrics)
	}
}

// TestServeParentGone: a worker whose parent goes away (EOF on its input)
// while it waits at a phase stops and reports the error.
func TestServeParentGone(t *testing.T) {
	addr := echoServer(t)
	cfg := scenario.Config{Scenario: scenario.Connect, URL: "ws://" + addr + "/echo", N: 2, Tag: "t"}.WithDefaults()
	job, _ := json.Marshal(toWorker{Job: &scenario.Job{Config: cfg, Shard: scenario.Shards(cfg)[0], Epoch: time.Now()}})
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	errc := make(chan error, 1)
	go func() { errc <- Serve(context.Background(), inR, outW); outW.Close() }()
	if _, err := inW.Write(append(job, '\n')); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(outR)
	for sc.Scan() {
		var m fromWorker
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		if m.Sync == scenario.PhaseReady {
			inW.Close() // the parent dies while the worker waits
		}
		if m.Error != "" {
			if !strings.Contains(m.Error, "parent gone") {
				t.Errorf("error %q", m.Error)
			}
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, outR) }()
	select {
	case <-errc:
	case <-time.After(10 * time.Second):
		t.Fatal("worker did not stop")
	}
}

package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/chatd/chatd/bench/procfs"
	"github.com/gorilla/websocket"
)

// echoConfig configures echo mode.
type echoConfig struct {
	dialer dialer
	conns  int
	size   int // payload bytes per message
	dials  int
	warmup time.Duration // runs before the measured window, not counted
	dur    time.Duration // the measured window
	pid    int           // server process to sample; 0: none
}

// echoResult is what echo mode reports. Latencies are in microseconds.
type echoResult struct {
	Mode       string  `json:"mode"`
	URL        string  `json:"url"`
	Conns      int     `json:"conns"`
	Size       int     `json:"size"`
	Secs       float64 `json:"secs"`
	RoundTrips int64   `json:"round_trips"`
	RTPerSec   float64 `json:"rt_per_sec"`
	P50        float64 `json:"p50_us"`
	P90        float64 `json:"p90_us"`
	P99        float64 `json:"p99_us"`
	Max        float64 `json:"max_us"`
	// ServerCPUSecs is the server's user+system CPU time during the window.
	ServerCPUSecs float64 `json:"server_cpu_secs"`
	ServerUSPerRT float64 `json:"server_cpu_us_per_rt"`
	ServerCPUUtil float64 `json:"server_cpu_util"` // cores busy on average
	ClientUSPerRT float64 `json:"client_cpu_us_per_rt"`
	Errors        int64   `json:"errors"`
	FirstErr      string  `json:"first_err,omitempty"`
}

// runEcho opens cfg.conns connections and runs one closed loop on each: send
// a message, wait for its echo, repeat. Only round trips that complete inside
// the measured window count.
func runEcho(ctx context.Context, cfg echoConfig) (echoResult, error) {
	res := echoResult{Mode: "echo", URL: cfg.dialer.url, Conns: cfg.conns, Size: cfg.size}
	conns := make([]*websocket.Conn, cfg.conns)
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.NetConn().Close()
			}
		}
	}()
	var dialErr errOnce
	forEach(ctx, cfg.conns, cfg.dials, func(i int) {
		c, err := cfg.dialer.dial(ctx, i)
		if err != nil {
			dialErr.set(err)
			return
		}
		conns[i] = c
	})
	if err := dialErr.get(); err != nil {
		return res, err
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}

	var (
		measuring atomic.Bool
		stop      atomic.Bool
		errs      atomic.Int64
		firstErr  errOnce
		wg        sync.WaitGroup
	)
	samples := make([][]time.Duration, cfg.conns)
	// One deadline for the whole run, so a stalled server ends the run
	// without a per-message deadline cost on the client.
	deadline := time.Now().Add(cfg.warmup + cfg.dur + echoTimeout)
	for i, c := range conns {
		wg.Go(func() {
			msg := make([]byte, cfg.size)
			_, _ = rand.Read(msg)
			buf := make([]byte, cfg.size+1)
			lat := make([]time.Duration, 0, 1<<14)
			_ = c.SetReadDeadline(deadline)
			_ = c.SetWriteDeadline(deadline)
			for !stop.Load() && ctx.Err() == nil {
				t := time.Now()
				if err := roundTrip(c, msg, buf); err != nil {
					errs.Add(1)
					firstErr.set(fmt.Errorf("connection %d: %w", i, err))
					break
				}
				d := time.Since(t)
				if measuring.Load() {
					lat = append(lat, d)
				}
			}
			samples[i] = lat
		})
	}

	sleep(ctx, cfg.warmup)
	cpu0, err := serverCPU(cfg.pid)
	if err != nil {
		stop.Store(true)
		wg.Wait()
		return res, err
	}
	self0 := selfCPU()
	t0 := time.Now()
	measuring.Store(true)
	sleep(ctx, cfg.dur)
	measuring.Store(false)
	elapsed := time.Since(t0)
	cpu1, err := serverCPU(cfg.pid)
	self1 := selfCPU()
	stop.Store(true)
	wg.Wait()
	if err != nil {
		return res, err
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}

	all := slices.Concat(samples...)
	slices.Sort(all)
	res.Secs = elapsed.Seconds()
	res.RoundTrips = int64(len(all))
	res.RTPerSec = float64(len(all)) / res.Secs
	res.P50 = micros(percentile(all, 0.50))
	res.P90 = micros(percentile(all, 0.90))
	res.P99 = micros(percentile(all, 0.99))
	res.Max = micros(percentile(all, 1))
	res.Errors = errs.Load()
	res.FirstErr = firstErr.String()
	if len(all) > 0 {
		res.ClientUSPerRT = micros(self1-self0) / float64(len(all))
		if cfg.pid > 0 {
			res.ServerCPUSecs = (cpu1 - cpu0).Seconds()
			res.ServerUSPerRT = micros(cpu1-cpu0) / float64(len(all))
			res.ServerCPUUtil = res.ServerCPUSecs / res.Secs
		}
	}
	return res, nil
}

// roundTrip sends msg and reads its echo into buf (len(msg)+1 bytes).
func roundTrip(c *websocket.Conn, msg, buf []byte) error {
	if err := c.WriteMessage(websocket.BinaryMessage, msg); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	n, err := readMessage(c, buf)
	if err != nil {
		return fmt.Errorf("read: %w", err)
	}
	if !bytes.Equal(buf[:n], msg) {
		return fmt.Errorf("echo mismatch: sent %d bytes, got %d different bytes", len(msg), n)
	}
	return nil
}

// percentile is the nearest-rank q-quantile of sorted samples (q in (0, 1]).
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// serverCPU is pid's CPU time so far, or 0 when no server is sampled.
func serverCPU(pid int) (time.Duration, error) {
	if pid <= 0 {
		return 0, nil
	}
	return procfs.CPUTime(pid)
}

// selfCPU is this process's user+system CPU time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

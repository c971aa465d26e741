package main

import (
	"fmt"
	"io"
)

// printIdle writes idle mode's human-readable report.
func printIdle(w io.Writer, r idleResult) {
	fmt.Fprintf(w, "idle %s: %d requested, %d opened (%d failed), %d alive after %.0fs hold, %d client process(es)\n",
		r.URL, r.Conns, r.Opened, r.Failed, r.Alive, r.HoldSecs, r.Procs)
	fmt.Fprintf(w, "  connect:     %.2fs, %.0f conn/s", r.ConnectSecs, r.ConnectRate)
	if r.ConnectCPU > 0 {
		fmt.Fprintf(w, ", server CPU %.0f µs per connection", r.ConnectCPU)
	}
	fmt.Fprintln(w)
	if r.RSSBefore > 0 {
		fmt.Fprintf(w, "  server RSS:  %.1f MiB before, %.1f MiB held (peak %.1f MiB)\n",
			mib(r.RSSBefore), mib(r.RSSAfter), mib(r.RSSPeak))
		fmt.Fprintf(w, "  per conn:    %.0f bytes RSS (%.2f KiB)\n", r.BytesPerConn, r.BytesPerConn/1024)
		fmt.Fprintf(w, "  server fds:  %d before, %d held (held - conns = %d)\n",
			r.FDsBefore, r.FDsAfter, r.FDsAfter-r.Opened)
		fmt.Fprintf(w, "  threads:     %d before, %d held\n", r.ThreadsBefore, r.ThreadsAfter)
	}
	if r.FirstErr != "" {
		fmt.Fprintf(w, "  first error: %s\n", r.FirstErr)
	}
}

// printEcho writes echo mode's human-readable report.
func printEcho(w io.Writer, r echoResult) {
	fmt.Fprintf(w, "echo %s: %d conn(s), %d-byte messages, %.1fs measured\n", r.URL, r.Conns, r.Size, r.Secs)
	fmt.Fprintf(w, "  round trips: %d (%.0f/s), %d errors\n", r.RoundTrips, r.RTPerSec, r.Errors)
	fmt.Fprintf(w, "  latency:     p50 %.1f µs, p90 %.1f µs, p99 %.1f µs, max %.1f µs\n", r.P50, r.P90, r.P99, r.Max)
	if r.ServerCPUSecs > 0 {
		fmt.Fprintf(w, "  server CPU:  %.2f s (%.2f cores), %.2f µs per round trip\n",
			r.ServerCPUSecs, r.ServerCPUUtil, r.ServerUSPerRT)
	}
	fmt.Fprintf(w, "  client CPU:  %.2f µs per round trip\n", r.ClientUSPerRT)
	if r.FirstErr != "" {
		fmt.Fprintf(w, "  first error: %s\n", r.FirstErr)
	}
}

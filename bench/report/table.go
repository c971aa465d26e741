package report

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/chatd/chatd/bench/check"
)

// histOrder is the order histograms appear in the table.
var histOrder = []string{"connect", "login", "latency", "first_member", "last_member", "drain", "send_lag"}

// Table writes r as a readable table, ending with the invariants and the
// line "N passed, M failed".
func (r *Report) Table(w io.Writer) {
	fmt.Fprintf(w, "chatbench %s  %s  %d conns, %d proc(s), %.1fs\n", r.Scenario, r.URL, r.Conns.Requested, r.Procs, r.Seconds)
	fmt.Fprintf(w, "connections: %d opened, %d failed, %d lost\n", r.Conns.Opened, r.Conns.Failed, r.Conns.Lost)

	if len(r.Metrics) > 0 {
		fmt.Fprintln(w)
		for _, m := range r.Metrics {
			fmt.Fprintf(w, "  %-28s %12s %s\n", m.Name, num(m.Value), m.Unit)
		}
	}

	names := slices.Collect(maps.Keys(r.Latency))
	slices.SortFunc(names, func(a, b string) int { return rank(a) - rank(b) })
	if len(names) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintf(w, "  %-14s %10s %9s %9s %9s %9s %9s\n", "latency (ms)", "count", "p50", "p90", "p99", "p99.9", "max")
		for _, n := range names {
			s := r.Latency[n]
			fmt.Fprintf(w, "  %-14s %10d %9s %9s %9s %9s %9s\n", n, s.Count, ms(s.P50), ms(s.P90), ms(s.P99), ms(s.P999), ms(s.Max))
		}
	}

	if lag, ok := r.Latency["send_lag"]; ok && lag.P99 > 1000 {
		fmt.Fprintf(w, "  note: the client fell behind its schedule (send lag p99 %s ms); latency counts from the\n"+
			"        intended send time, so it includes that delay. Use -procs, or a lower rate, to tell them apart.\n", ms(lag.P99))
	}

	fmt.Fprintln(w)
	fmt.Fprintf(w, "errors:      %s\n", byCount(r.Errors))
	fmt.Fprintf(w, "close codes: %s\n", byCount(r.Closes))
	if s := r.Server; s != nil {
		name := "server " + strconv.Itoa(s.PID)
		if len(s.PIDs) > 1 {
			pids := make([]string, len(s.PIDs))
			for i, p := range s.PIDs {
				pids[i] = strconv.Itoa(p)
			}
			name = "servers " + strings.Join(pids, ",") + " (sum)"
		}
		fmt.Fprintf(w, "%s:  RSS %.1f → %.1f MiB (peak %.1f), fds %d → %d, threads %d → %d, CPU %.2f s\n",
			name, mib(s.RSSBefore), mib(s.RSSHeld), mib(s.RSSPeak), s.FDsBefore, s.FDsHeld, s.ThreadsBefore, s.ThreadsHeld, s.CPUSecs)
	}

	fmt.Fprintln(w)
	fmt.Fprintln(w, "invariants:")
	for _, inv := range r.Invariants {
		mark := "PASS"
		if !inv.Pass {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "  %s  %s: %s\n", mark, inv.Name, inv.Detail)
	}
	if v := r.Verdict; v != nil {
		for _, ex := range v.Examples {
			fmt.Fprintf(w, "        e.g. %s\n", ex)
		}
	}
	if r.Soak != nil {
		for _, n := range r.Soak.Notes {
			fmt.Fprintf(w, "  note: %s\n", n)
		}
	}
	fmt.Fprintln(w, check.Line(r.Invariants))
}

func rank(name string) int {
	if i := slices.Index(histOrder, name); i >= 0 {
		return i
	}
	return len(histOrder)
}

// byCount lists a tally as "cause: n, …", largest first, or "none".
func byCount(m map[string]int64) string {
	if len(m) == 0 {
		return "none"
	}
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b string) int {
		if m[a] != m[b] {
			return int(m[b] - m[a])
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s: %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// Number formats a metric with a precision that suits its size: 12,345,
// 123.4, 1.234.
func Number(v float64) string { return num(v) }

// num formats a metric with a precision that suits its size.
func num(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v >= 1000 || v <= -1000:
		return thousands(int64(v + 0.5))
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
}

// thousands writes n with thin separators: 12,345.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func ms(us float64) string { return strconv.FormatFloat(us/1000, 'f', 3, 64) }

func mib(b int64) float64 { return float64(b) / (1 << 20) }

package scenario

import (
	"fmt"

	"github.com/chatd/chatd/bench/check"
)

// metrics computes the scenario's headline numbers.
func (s *summary) metrics() {
	c, tl := s.set.Counters, s.tl
	opened := c["opened"]
	ready, _ := tl.phase(PhaseReady)
	switch s.cfg.Scenario {
	case Connect, Idle:
		from, ok1 := s.first("connect_start")
		to, ok2 := s.last("connect_end")
		if ok1 && ok2 {
			s.metric("connects/s", rate(opened, from, to), "conn/s")
		}
		if cpu, ok := tl.cpuBetween("", PhaseReady); ok && opened > 0 {
			s.metric("server CPU per connect", micros(cpu)/float64(opened), "µs")
		}
		if srv := s.r.Server; srv != nil && opened > 0 {
			s.metric("server RSS per connection", float64(srv.RSSHeld-srv.RSSBefore)/float64(opened), "B")
			s.metric("server fds per connection", float64(srv.FDsHeld-srv.FDsBefore)/float64(opened), "")
		}
		if s.cfg.Scenario == Idle {
			s.metric("alive after hold", float64(c["alive"]), "conns")
		}
	case Echo:
		warm, ok1 := tl.phase(PhaseWarm)
		meas, ok2 := tl.phase(PhaseMeasured)
		if ok1 && ok2 {
			s.metric("round trips/s", rate(c["measured"], warm.At, meas.At), "RT/s")
			if cpu, ok := tl.cpuBetween(PhaseWarm, PhaseMeasured); ok && c["measured"] > 0 {
				s.metric("server CPU per round trip", micros(cpu)/float64(c["measured"]), "µs")
				s.metric("server CPU", cpu.Seconds()/meas.At.Sub(warm.At).Seconds(), "cores")
			}
			if cpu, ok := tl.clientCPUBetween(PhaseWarm, PhaseMeasured); ok && c["measured"] > 0 {
				s.metric("client CPU per round trip", micros(cpu)/float64(c["measured"]), "µs")
				s.metric("client CPU", cpu.Seconds()/meas.At.Sub(warm.At).Seconds(), "cores")
			}
		}
	case Private, Room:
		sendEnd, _ := s.last("send_end")
		lastDel, okDel := s.last("last_delivery")
		s.metric("offered rate", s.cfg.Rate, "msg/s")
		s.metric("sent/s", rate(c["sent"], ready.At, sendEnd), "msg/s")
		if okDel {
			s.metric("deliveries/s", rate(c["delivered"], ready.At, lastDel), "deliveries/s")
		}
		// Through PhaseDrained: deliveries that arrive after the last send
		// cost server CPU too.
		if cpu, ok := tl.cpuBetween(PhaseReady, PhaseDrained); ok && c["delivered"] > 0 {
			s.metric("server CPU per delivery", micros(cpu)/float64(c["delivered"]), "µs")
		}
	case Mailbox:
		storeEnd, ok := s.last("store_end")
		if ok {
			s.metric("store rate", rate(c["sent"], ready.At, storeEnd), "msg/s")
		}
		login, ok1 := s.first("login_start")
		lastDel, ok2 := s.last("last_delivery")
		if ok1 && ok2 {
			s.metric("drain rate", rate(c["delivered"], login, lastDel), "msg/s")
			s.metric("drain time", lastDel.Sub(login).Seconds(), "s")
		}
	}
}

// invariants checks what every scenario promises, then the deliveries.
func (s *summary) invariants(parts []check.Partial) {
	c, r := s.set.Counters, s.r
	add := func(name string, pass bool, format string, args ...any) {
		r.Invariants = append(r.Invariants, check.Invariant{Name: name, Pass: pass, Detail: fmt.Sprintf(format, args...)})
	}
	want := int64(s.cfg.Users())
	add("every connection opened", c["opened"] == want && c["failed"] == 0,
		"%d of %d (%s)", c["opened"], want, topCause(s.set.Errors))
	add("no connection closed by the server", c["lost"] == 0,
		"%d lost; close codes: %v", c["lost"], s.r.Closes)
	if s.cfg.Scenario == Idle {
		add("every connection alive after the hold", c["alive"] == c["opened"],
			"%d of %d answered a ping", c["alive"], c["opened"])
	}
	if s.cfg.Scenario == Connect || s.cfg.Scenario == Idle {
		return
	}
	add("every message written", c["unsent"] == 0 && sendErrors(s.set.Errors) == 0,
		"%d written, %d not written", c["sent"], c["unsent"]+sendErrors(s.set.Errors))
	if s.cfg.Scenario != Echo {
		n, first := s.refused()
		add("no message refused by the server", n == 0, "%d error replies %s", n, first)
	}
	v := check.Verify(parts, PlanFor(s.cfg))
	r.Verdict = &v
	r.Invariants = append(r.Invariants, v.Invariants()...)
	if s.cfg.Scenario == Mailbox {
		add("every message acknowledged as stored", c["acks_stored"] == c["sent"],
			"%d of %d (%d delivered live)", c["acks_stored"], c["sent"], c["acks_delivered"])
		add("every stored message delivered as offline", c["offline"] == v.Delivered,
			"%d of %d marked offline", c["offline"], v.Delivered)
	}
}

// sendErrors counts the errors of failed writes.
func sendErrors(errs map[string]int64) int64 {
	var n int64
	for cause, c := range errs {
		if len(cause) > 6 && cause[:6] == "send: " {
			n += c
		}
	}
	return n
}

// topCause names the most frequent error, for the detail of a failed check.
func topCause(errs map[string]int64) string {
	best, bn := "no errors", int64(0)
	for cause, n := range errs {
		if n > bn || n == bn && cause < best {
			best, bn = cause, n
		}
	}
	if bn == 0 {
		return best
	}
	return fmt.Sprintf("most often %q ×%d", best, bn)
}

package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// fault is what faultProxy does to the n-th server message that match
// selects (counted over all connections, from 1).
type fault struct {
	match func(msg []byte) bool
	n     int64
	dup   bool // send it twice; else drop it
	seen  atomic.Int64
	hit   atomic.Bool
}

// faultProxy stands between chatbench and chatd: it passes everything
// through but breaks one server message per fault, as a buggy server
// would. It parses only server frames, which chatd never masks or
// fragments (docs/PROTOCOL.md).
type faultProxy struct {
	ln     net.Listener
	target string
	faults []*fault
	wg     sync.WaitGroup
}

func startFaultProxy(t *testing.T, target string, faults ...*fault) *faultProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{ln: ln, target: target, faults: faults}
	var mu sync.Mutex
	var conns []net.Conn
	p.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, s)
			mu.Unlock()
			p.wg.Go(func() { _, _ = io.Copy(s, c); s.Close() })
			p.wg.Go(func() { p.serverToClient(s, c); c.Close() })
		}
	})
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		p.wg.Wait()
	})
	return p
}

func (p *faultProxy) addr() string { return p.ln.Addr().String() }

// serverToClient copies the handshake answer, then frame by frame.
func (p *faultProxy) serverToClient(s, c net.Conn) {
	br := bufio.NewReader(s)
	for { // the HTTP answer, up to its blank line
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		if _, err := io.WriteString(c, line); err != nil || line == "\r\n" {
			if err != nil {
				return
			}
			break
		}
	}
	for {
		frame, payload, err := readServerFrame(br)
		if err != nil {
			return
		}
		out := 1
		for _, f := range p.faults {
			if frame[0]&0x0f == 1 && f.match(payload) && f.seen.Add(1) == f.n {
				f.hit.Store(true)
				out = 0
				if f.dup {
					out = 2
				}
			}
		}
		for range out {
			if _, err := c.Write(frame); err != nil {
				return
			}
		}
	}
}

// readServerFrame reads one unmasked frame and returns it whole and its payload.
func readServerFrame(br *bufio.Reader) (frame, payload []byte, err error) {
	h := make([]byte, 2, 10)
	if _, err := io.ReadFull(br, h); err != nil {
		return nil, nil, err
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		ext := make([]byte, 2)
		if _, err := io.ReadFull(br, ext); err != nil {
			return nil, nil, err
		}
		h, n = append(h, ext...), uint64(binary.BigEndian.Uint16(ext))
	case 127:
		ext := make([]byte, 8)
		if _, err := io.ReadFull(br, ext); err != nil {
			return nil, nil, err
		}
		h, n = append(h, ext...), binary.BigEndian.Uint64(ext)
	}
	frame = make([]byte, len(h)+int(n))
	copy(frame, h)
	if _, err := io.ReadFull(br, frame[len(h):]); err != nil {
		return nil, nil, err
	}
	return frame, frame[len(h):], nil
}

// isLivePrivate and isRoom select chat messages of the soak's own rooms
// or private ones.
func isLivePrivate(m []byte) bool {
	return bytes.HasPrefix(m, []byte(`{"type":"message"`)) && bytes.Contains(m, []byte(`"receiver":`)) &&
		!bytes.Contains(m, []byte(`"offline":true`))
}

func isRoom(m []byte) bool {
	return bytes.HasPrefix(m, []byte(`{"type":"message"`)) && bytes.Contains(m, []byte(`"room":"cb`))
}

// TestSoakDetectsFaults runs a short soak through a proxy that drops one
// live private message, duplicates one room message and drops another:
// each must fail its invariant, and only those.
func TestSoakDetectsFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs chatd; skipped with -short")
	}
	addr, _, pid := startSoakChatd(t, chatdBinary(t, t.TempDir()))
	lostPM := &fault{match: isLivePrivate, n: 40}
	dupRoom := &fault{match: isRoom, n: 60, dup: true}
	lostRoom := &fault{match: isRoom, n: 200}
	p := startFaultProxy(t, addr, lostPM, dupRoom, lostRoom)
	// No churn, drops or moves: nothing may excuse the faults.
	code, out, r := runSoak(t, soakQuick("ws://"+p.addr()+"/ws", "-d", "6s", "-churn", "0", "-drops", "0", "-moves", "0",
		"-pid", itoa(pid), "-p99-slack", "10000")...)
	for i, f := range []*fault{lostPM, dupRoom, lostRoom} {
		if !f.hit.Load() {
			t.Fatalf("fault %d never applied (%d matching messages)", i, f.seen.Load())
		}
	}
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	failed := map[string]bool{}
	for _, inv := range r.Invariants {
		if !inv.Pass {
			failed[inv.Name] = true
		}
	}
	want := []string{"private: nothing lost", "rooms and lobby: nothing lost while a member", "exactly once"}
	for _, w := range want {
		if !failed[w] {
			t.Errorf("%q passed, want it failed", w)
		}
	}
	if len(failed) != len(want) {
		t.Errorf("failed %v, want exactly %v:\n%s", failed, want, out)
	}
	if !strings.Contains(out, "1 lost of") || !strings.Contains(out, "1 room duplicates") {
		t.Errorf("counts:\n%s", out)
	}
}

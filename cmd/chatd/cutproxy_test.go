package main

import (
	"net"
	"sync"
	"testing"
)

// cutProxy is a TCP proxy in front of chatd that can fail the connections
// passing through it the way a network does: blackhole drops every byte of
// the connections open now, in both directions; hangUp then closes their
// client side only, so the client sees its connection die while chatd
// still holds a session that nobody reads. Connections opened later pass
// normally; retarget points them at another server (a restart on another
// port). Safe for concurrent use.
type cutProxy struct {
	ln net.Listener
	wg sync.WaitGroup // the accept loop and every pipe

	mu     sync.Mutex // guards target, conns and closed
	target string
	conns  map[*proxied]struct{}
	closed bool
}

// proxied is one client connection and its connection to chatd.
type proxied struct {
	client, server net.Conn

	mu  sync.Mutex // guards cut
	cut bool       // bytes are dropped both ways (blackhole)
}

// startCutProxy listens on a free loopback port and forwards to target. The
// test's cleanup closes everything and waits for its goroutines.
func startCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target, conns: map[*proxied]struct{}{}}
	p.wg.Go(p.accept)
	t.Cleanup(p.close)
	return p
}

// Addr is the address clients connect to.
func (p *cutProxy) Addr() string { return p.ln.Addr().String() }

func (p *cutProxy) accept() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		target := p.target
		p.mu.Unlock()
		server, err := net.Dial("tcp", target)
		if err != nil {
			client.Close()
			continue
		}
		c := &proxied{client: client, server: server}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			client.Close()
			server.Close()
			return
		}
		p.conns[c] = struct{}{}
		p.wg.Go(func() { p.pipe(c, client, server) })
		p.wg.Go(func() { p.pipe(c, server, client) })
		p.mu.Unlock()
	}
}

// pipe copies src to dst until src fails. Once c is cut it reads src and
// drops what it reads. A connection that fails is closed on both sides,
// except that the client side of a cut one failing (hangUp) leaves its
// server side open: chatd's session lives on, unread, until chatd or the
// proxy closes it.
func (p *cutProxy) pipe(c *proxied, src, dst net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !c.isCut() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				err = werr
			}
		}
		if err != nil {
			if src == c.client && c.isCut() {
				return
			}
			p.drop(c)
			return
		}
	}
}

func (c *proxied) isCut() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cut
}

// drop closes both sides of c.
func (p *cutProxy) drop(c *proxied) {
	c.client.Close()
	c.server.Close()
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

// retarget sends the connections opened from now on to target.
func (p *cutProxy) retarget(target string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.target = target
}

// blackhole cuts every connection open now: from then on their bytes are
// dropped both ways, as if the network between them went silent. It
// returns how many it cut.
func (p *cutProxy) blackhole() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.mu.Lock()
		c.cut = true
		c.mu.Unlock()
	}
	return len(p.conns)
}

// hangUp closes the client side of every cut connection: the client sees
// its connection die, and chatd does not.
func (p *cutProxy) hangUp() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		if c.isCut() {
			c.client.Close()
		}
	}
}

// close stops accepting, closes every connection and waits for the pipes.
func (p *cutProxy) close() {
	p.mu.Lock()
	p.closed = true
	p.ln.Close()
	for c := range p.conns {
		c.client.Close()
		c.server.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

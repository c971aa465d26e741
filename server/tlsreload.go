package server

import (
	"crypto/tls"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.uber.org/zap"
)

// tlsStore holds the tls.Config new handshakes use and replaces it when
// server.tls's files change. A handshake takes the config current when it
// starts; connections already open keep the keys they negotiated, so a
// reload never drops one.
//
// Concurrency: cur is read by every handshake (accept loop, API
// listener) without a lock. mu serialises reloads (the poller and
// ReloadTLS) and guards sig and failed.
type tlsStore struct {
	cfg TLS
	log *zap.Logger
	cur atomic.Pointer[tls.Config]

	mu     sync.Mutex
	sig    [3]fileSig // cert, key, client CA: at the last successful load
	failed [3]fileSig // at the last failed load, so that it is logged once
}

// fileSig is what tells a changed file: through symlinks (certbot swaps
// the link), its inode, size and modification time.
type fileSig struct {
	ino, size int64
	mtime     int64
	ok        bool
}

func statSig(path string) fileSig {
	if path == "" {
		return fileSig{}
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fileSig{}
	}
	s := fileSig{size: fi.Size(), mtime: fi.ModTime().UnixNano(), ok: true}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		s.ino = int64(st.Ino)
	}
	return s
}

func (ts *tlsStore) sigs() [3]fileSig {
	return [3]fileSig{statSig(ts.cfg.CertFile), statSig(ts.cfg.KeyFile), statSig(ts.cfg.ClientCAFile)}
}

// newTLSStore loads server.tls's files; New fails when they do not load.
func newTLSStore(cfg TLS, log *zap.Logger) (*tlsStore, error) {
	ts := &tlsStore{cfg: cfg, log: log}
	sig := ts.sigs()
	c, err := loadTLSConfig(cfg)
	if err != nil {
		return nil, err
	}
	ts.cur.Store(c)
	ts.sig = sig
	return ts, nil
}

// reload reads the files again and, when they load, makes them current.
// On failure the previous config stays in use.
func (ts *tlsStore) reload() error {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.reloadLocked(ts.sigs())
}

func (ts *tlsStore) reloadLocked(sig [3]fileSig) error {
	c, err := loadTLSConfig(ts.cfg)
	if err != nil {
		ts.failed = sig
		return err
	}
	ts.cur.Store(c)
	ts.sig, ts.failed = sig, [3]fileSig{}
	ts.log.Info("tls certificate loaded", certFields(c)...)
	return nil
}

// reloadIfChanged reloads when a file changed since the last load, and
// logs a failure once per change.
func (ts *tlsStore) reloadIfChanged() {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	sig := ts.sigs()
	if sig == ts.sig || sig == ts.failed {
		return
	}
	if err := ts.reloadLocked(sig); err != nil {
		ts.log.Error("tls files changed but do not load; still serving the previous certificate", zap.Error(err))
	}
}

// watch polls the files every reload_interval until stop is closed.
func (ts *tlsStore) watch(stop <-chan struct{}) {
	t := time.NewTicker(ts.cfg.ReloadInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			ts.reloadIfChanged()
		}
	}
}

func certFields(c *tls.Config) []zap.Field {
	leaf := c.Certificates[0].Leaf
	if leaf == nil {
		return nil
	}
	return []zap.Field{zap.String("subject", leaf.Subject.String()), zap.Strings("dns_names", leaf.DNSNames),
		zap.Time("not_after", leaf.NotAfter)}
}

// ReloadTLS re-reads server.tls's certificate, key and client CA files
// now (cmd/chatd calls it on SIGHUP). New handshakes use them; open
// connections are not affected. When the files do not load it returns the
// error and the previous certificate stays in use. With TLS off it does
// nothing and returns nil. Safe for concurrent use.
func (s *Server) ReloadTLS() error {
	if s.tls == nil {
		return nil
	}
	return s.tls.reload()
}

// TLSConfig returns a tls.Config that serves server.tls's current
// certificate, following reloads, for another listener of the process
// (the API); nil when TLS is off.
func (s *Server) TLSConfig() *tls.Config {
	if s.tls == nil {
		return nil
	}
	ts := s.tls
	return &tls.Config{
		MinVersion: tlsVersions[ts.cfg.MinVersion],
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return ts.cur.Load(), nil
		},
	}
}

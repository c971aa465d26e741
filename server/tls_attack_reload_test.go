package server_test

import (
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/chatd/chatd/server/testcert"
	"github.com/chatd/chatd/server/wstest"
)

// replaceWith makes path, atomically (a rename), what make creates at tmp.
func replaceWith(t *testing.T, path string, make func(tmp string) error) {
	t.Helper()
	tmp := path + ".attack"
	_ = os.RemoveAll(tmp)
	if err := make(tmp); err != nil {
		t.Fatal(err)
	}
	_ = os.RemoveAll(path)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// TestTLSReloadHostileFiles: cert_file replaced by a certificate whose
// key is another's, deleted, a directory, a 64 MiB file, or a FIFO that
// nobody writes: ReloadTLS returns an error promptly (never blocks, never
// reads without bound), the poller does the same, and the previous
// certificate keeps serving throughout, while 8 clients handshake in a
// loop (-race). A good pair afterwards loads.
func TestTLSReloadHostileFiles(t *testing.T) {
	ts := startTLS(t, nil)
	var stop atomic.Bool
	var wg sync.WaitGroup
	var handshakes atomic.Int64
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				c, err := wstest.DialContext(t.Context(), ts.wss("/echo"), wstest.WithTLS(ts.clientTLS()))
				if err != nil {
					t.Errorf("a handshake failed during the reloads: %v", err)
					return
				}
				c.Close()
				handshakes.Add(1)
			}
		}()
	}
	defer func() { stop.Store(true); wg.Wait() }()
	other := ts.ca.Server(t, "other")
	attacks := map[string]func(tmp string) error{
		"mismatched key": func(tmp string) error { return os.WriteFile(tmp, other.CertPEM, 0o600) },
		"deleted":        nil,
		"a directory":    func(tmp string) error { return os.Mkdir(tmp, 0o700) },
		"64 MiB": func(tmp string) error {
			f, err := os.Create(tmp)
			if err != nil {
				return err
			}
			defer f.Close()
			if _, err := f.Write(other.CertPEM); err != nil {
				return err
			}
			return f.Truncate(64 << 20)
		},
		"a FIFO": func(tmp string) error { return syscall.Mkfifo(tmp, 0o600) },
	}
	for name, make := range attacks {
		if make == nil {
			if err := os.Remove(ts.certFile); err != nil {
				t.Fatal(err)
			}
		} else {
			replaceWith(t, ts.certFile, make)
		}
		done := make2(func() error { return ts.Srv.ReloadTLS() })
		select {
		case err := <-done:
			switch {
			case err == nil:
				t.Errorf("%s: ReloadTLS returned nil", name)
			case name == "64 MiB" && !strings.Contains(err.Error(), "larger than"):
				t.Errorf("%s: ReloadTLS read it all: %v", name, err)
			}
		case <-time.After(5 * time.Second):
			// Unblock it (a writer opens the FIFO) so the test can end.
			if f, err := os.OpenFile(ts.certFile, os.O_WRONLY, 0); err == nil {
				f.Close()
			}
			<-done
			t.Errorf("%s: ReloadTLS blocked for 5 s", name)
		}
		if cn := servedCN(t, ts); cn != "first" {
			t.Errorf("%s: the server serves %q, want the previous \"first\"", name, cn)
		}
	}
	// The poller saw every change too and must not be stuck: a good pair loads.
	_ = os.RemoveAll(ts.certFile)
	good := ts.ca.Server(t, "good")
	testcert.WriteFile(t, ts.certFile, good.CertPEM)
	testcert.WriteFile(t, ts.keyFile, good.KeyPEM)
	waitFor(t, 5*time.Second, "the poller loads the good pair", func() bool { return servedCN(t, ts) == "good" })
	stop.Store(true)
	wg.Wait()
	if handshakes.Load() == 0 {
		t.Error("no handshake completed during the reloads")
	}
}

// make2 runs fn on a goroutine and returns its result's channel.
func make2(fn func() error) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- fn() }()
	return ch
}

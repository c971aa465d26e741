package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// natsConfig runs an embedded NATS server on a free loopback port with its
// store in a temporary directory, logging JSON.
const natsConfig = `cluster:
  nats:
    embedded:
      enabled: true
      listen: "127.0.0.1:0"
      store_dir: "` + dataDir + `"
log:
  format: json
`

// startNats runs `chatd nats -config FILE` in-process with content as FILE.
// The cleanup interrupts it if it is still running.
func startNats(t *testing.T, content string) *running {
	t.Helper()
	r := &running{logs: &logLines{}, signals: make(chan os.Signal, 2), status: make(chan int, 1)}
	path := writeFile(t, "chatd.yaml", content)
	go func() { r.status <- run([]string{"nats", "-config", path}, io.Discard, r.logs, r.signals) }()
	t.Cleanup(func() {
		select {
		case <-r.status:
		default:
			r.signals <- os.Interrupt
			<-r.status
		}
		if t.Failed() {
			t.Logf("chatd nats log:\n%s", r.logs)
		}
	})
	return r
}

func TestNatsServesJetStream(t *testing.T) {
	r := startNats(t, natsConfig)
	ready := r.logs.waitFor(t, "NATS server ready", 20*time.Second)
	url, _ := ready["url"].(string)
	if !strings.HasPrefix(url, "nats://127.0.0.1:") {
		t.Fatalf("ready line's url %q, want nats://127.0.0.1:PORT", url)
	}
	r.logs.waitFor(t, "JetStream ready", 10*time.Second)

	nc, err := nats.Connect(url, nats.MaxReconnects(0))
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "T", Subjects: []string{"t"}})
	if err != nil {
		t.Fatalf("CreateStream: %v", err)
	}
	if _, err := js.Publish(ctx, "t", []byte("hi")); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if m, err := st.GetMsg(ctx, 1); err != nil || string(m.Data) != "hi" {
		t.Fatalf("GetMsg = %v, %v", m, err)
	}
	nc.Close()

	r.signals <- os.Interrupt
	if code := r.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("exit %d after the signal, want 0", code)
	}
	r.logs.waitFor(t, "NATS server stopped", time.Second)
	r.logs.noErrors(t)
	if _, err := net.DialTimeout("tcp", strings.TrimPrefix(url, "nats://"), time.Second); err == nil {
		t.Errorf("%s still accepts connections after the exit", url)
	}
}

func TestNatsPortInUse(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	r := startNats(t, strings.Replace(natsConfig, "127.0.0.1:0", l.Addr().String(), 1))
	if code := r.wait(t, 20*time.Second); code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	e := r.logs.waitFor(t, "cannot start the NATS server", time.Second)
	if msg, _ := e["error"].(string); !strings.Contains(msg, l.Addr().String()) {
		t.Errorf("error %q does not name the address %s", msg, l.Addr())
	}
}

func TestNatsRefuses(t *testing.T) {
	cases := []struct {
		name    string
		args    func(t *testing.T) []string
		code    int
		stderrs []string
	}{
		{"embedded disabled", func(t *testing.T) []string {
			return []string{"-config", writeFile(t, "c.yaml", "cluster:\n  enabled: false\n")}
		}, 1, []string{"c.yaml", "cluster.nats.embedded.enabled is false"}},
		{"invalid config", func(t *testing.T) []string {
			return []string{"-config", writeFile(t, "c.yaml", "cluster:\n  nats:\n    embedded:\n      enabled: true\n      listen: \"4222\"\n")}
		}, 1, []string{`cluster.nats.embedded.listen "4222"`}},
		{"missing file", func(t *testing.T) []string { return []string{"-config", "no-such.yaml"} }, 1, []string{"no-such.yaml"}},
		{"no config", func(*testing.T) []string { return nil }, 2, []string{"want -config FILE", "Usage:"}},
		{"extra argument", func(*testing.T) []string { return []string{"-config", "a.yaml", "b"} }, 2, []string{"want -config FILE"}},
		{"unknown flag", func(*testing.T) []string { return []string{"-port", "1"} }, 2, []string{"-port"}},
		{"help", func(*testing.T) []string { return []string{"-h"} }, 0, []string{"chatd nats -config FILE"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"nats"}, tc.args(t)...), &stdout, &stderr, make(chan os.Signal))
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tc.code, stderr.String())
			}
			for _, w := range tc.stderrs {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr %q does not mention %q", stderr.String(), w)
				}
			}
			if stdout.Len() > 0 {
				t.Errorf("stdout %q, want nothing", stdout.String())
			}
		})
	}
}

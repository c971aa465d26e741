package admin

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"
	"go.uber.org/zap"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// mustListen starts an admin listener on a free loopback port.
func mustListen(t *testing.T, cfg Config, checks Checks) *Server {
	t.Helper()
	cfg.Listen = "127.0.0.1:0"
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "chatd_test_total", Help: "A test counter."})
	c.Add(3)
	reg.MustRegister(c)
	s, err := Listen(cfg, reg, checks, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	})
	return s
}

func get(t *testing.T, s *Server, path string) (int, string) {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get(fmt.Sprintf("http://%s%s", s.Addr(), path))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestReadyz(t *testing.T) {
	var cut atomic.Bool
	s := mustListen(t, Config{}, Checks{Ready: func() string {
		if cut.Load() {
			return "cluster degraded: nats: connection lost"
		}
		return ""
	}})
	for _, step := range []struct {
		name string
		do   func()
		code int
		body string
	}{
		{"starting", func() {}, 503, "not ready: starting\n"},
		{"ready", s.SetReady, 200, "ready\n"},
		{"cut off", func() { cut.Store(true) }, 503, "not ready: cluster degraded: nats: connection lost\n"},
		{"back", func() { cut.Store(false) }, 200, "ready\n"},
		{"draining", s.SetDraining, 503, "not ready: draining\n"},
		{"never ready again", s.SetReady, 503, "not ready: draining\n"},
	} {
		step.do()
		if code, body := get(t, s, "/readyz"); code != step.code || body != step.body {
			t.Errorf("%s: %d %q, want %d %q", step.name, code, body, step.code, step.body)
		}
	}
}

func TestHealthz(t *testing.T) {
	var detail atomic.Value
	detail.Store("")
	s := mustListen(t, Config{}, Checks{Health: func() string { return detail.Load().(string) }})
	if code, body := get(t, s, "/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("healthz: %d %q, want 200 ok", code, body)
	}
	detail.Store("cluster degraded: x")
	if code, body := get(t, s, "/healthz"); code != 200 || body != "cluster degraded: x\n" {
		t.Errorf("healthz degraded: %d %q, want 200 with the detail", code, body)
	}
}

func TestMetricsAndPprof(t *testing.T) {
	for _, on := range []bool{false, true} {
		t.Run(fmt.Sprintf("pprof=%v", on), func(t *testing.T) {
			s := mustListen(t, Config{Pprof: on}, Checks{})
			code, body := get(t, s, "/metrics")
			if code != 200 || !strings.Contains(body, "chatd_test_total 3\n") {
				t.Errorf("metrics: %d %q", code, body)
			}
			want := 404
			if on {
				want = 200
			}
			for _, p := range []string{"/debug/pprof/", "/debug/pprof/heap", "/debug/pprof/cmdline"} {
				if code, _ := get(t, s, p); code != want {
					t.Errorf("%s: %d, want %d", p, code, want)
				}
			}
		})
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		listen string
		ok     bool
	}{
		{"", true},
		{"127.0.0.1:9090", true},
		{":9090", true},
		{"127.0.0.1", false},
		{"127.0.0.1:99999", false},
	} {
		err := Config{Listen: tc.listen}.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("Validate(%q) = %v, want ok=%v", tc.listen, err, tc.ok)
		}
	}
}

func TestOverlaps(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"127.0.0.1:8080", "127.0.0.1:8080", true},
		{"127.0.0.1:9090", "127.0.0.1:8080", false},
		{":8080", "127.0.0.1:8080", true},
		{"0.0.0.0:8080", "10.0.0.1:8080", true},
		{"[::]:8080", "127.0.0.1:8080", true},
		{"localhost:8080", "localhost:8080", true},
		{"10.0.0.1:8080", "127.0.0.1:8080", false},
		{"127.0.0.1:0", "127.0.0.1:0", false}, // each gets its own port
		{"[::1]:8080", "[0:0:0:0:0:0:0:1]:8080", true},
		{"bad", "127.0.0.1:8080", false},
	} {
		if got := Overlaps(tc.a, tc.b); got != tc.want {
			t.Errorf("Overlaps(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

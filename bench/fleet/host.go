package fleet

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/chatd/chatd/bench/procfs"
	"github.com/chatd/chatd/bench/scenario"
	"github.com/chatd/chatd/bench/scrape"
)

// hostSampler reads the machine's load and the server's admin gauges for
// soak's time series. It is used by the parent's loop only.
type hostSampler struct {
	metrics string // admin /metrics URL; "" when not given
	client  *http.Client
}

// newHostSampler returns a sampler for soak runs, nil for the others.
func newHostSampler(cfg scenario.Config) *hostSampler {
	if cfg.Scenario != scenario.Soak {
		return nil
	}
	h := &hostSampler{client: &http.Client{Timeout: 5 * time.Second}}
	if cfg.Admin != "" {
		h.metrics = strings.TrimSuffix(cfg.Admin, "/") + "/metrics"
	}
	return h
}

// close lets go of the scrapes' idle connections (nil-safe).
func (h *hostSampler) close() {
	if h != nil {
		h.client.CloseIdleConnections()
	}
}

func (h *hostSampler) sample(ctx context.Context) scenario.HostSample {
	s := scenario.HostSample{At: time.Now(), Goroutines: -1}
	s.Load1, _, _ = procfs.LoadAvg()
	if h.metrics != "" {
		if g, err := scrape.Gauges(ctx, h.client, h.metrics, "go_goroutines"); err == nil {
			if v, ok := g["go_goroutines"]; ok {
				s.Goroutines = v
			}
		}
	}
	return s
}

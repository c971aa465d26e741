package main

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/chatd/chatd/server/cluster/natstest"
)

// shippedDashboard is the Grafana dashboard in configs/.
const shippedDashboard = "../../configs/grafana-chatd.json"

// dashboardMetricName finds the metric names in a PromQL expression.
var dashboardMetricName = regexp.MustCompile(`\b(?:chatd|go|process)_[a-z0-9_]+\b`)

// dashboardNames returns every metric name an expr field of the dashboard
// queries, sorted.
func dashboardNames(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(shippedDashboard)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", shippedDashboard, err)
	}
	seen := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && k == "expr" {
					for _, name := range dashboardMetricName.FindAllString(s, -1) {
						seen[name] = true
					}
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(doc)
	var names []string
	for n := range seen {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// TestDashboardQueriesExistingMetrics: every metric the Grafana dashboard
// queries is in the /metrics of a real chatd. Some exist only with a part
// on, so two are scraped: a single node with webhooks and a bridged
// program (the offline store's metrics), and a cluster node (the
// cluster's).
func TestDashboardQueriesExistingMetrics(t *testing.T) {
	names := dashboardNames(t)
	if len(names) < 30 {
		t.Fatalf("the dashboard queries %d metrics: %v; want the lot", len(names), names)
	}

	single := strings.Replace(metricsConfig, "admin:\n", `webhooks:
  url: "http://127.0.0.1:1/hooks"
bridge:
  programs:
    - path: /cat
      command: ["/bin/cat"]
admin:
`, 1)
	r := startRun(t, single)
	r.logs.listenAddr(t)
	fams := scrape(t, r.logs.adminAddr(t))

	ns := natstest.Start(t)
	cfg := clusterNodeConfig("a", 3*time.Second, fmt.Sprintf("    urls: [%q]\n", ns.ClientURL()))
	cfg = strings.Replace(cfg, "log:\n", "admin:\n  listen: \"127.0.0.1:0\"\nlog:\n", 1)
	rc := startRun(t, cfg)
	rc.logs.listenAddr(t)
	for name, f := range scrape(t, rc.logs.adminAddr(t)) {
		fams[name] = f
	}

	for _, name := range names {
		if fams[name] != nil {
			continue
		}
		base := name
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			base = strings.TrimSuffix(base, suffix)
		}
		if f := fams[base]; f != nil && f.GetType() == dto.MetricType_HISTOGRAM {
			continue
		}
		t.Errorf("the dashboard queries %s, which /metrics does not have (it has %v)", name, sortedKeys(fams))
	}
}

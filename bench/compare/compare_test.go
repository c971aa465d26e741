package compare

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/chatd/chatd/bench/report"
)

func TestMedian(t *testing.T) {
	cases := []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}}
	for _, tc := range cases {
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestRowsAndPrint(t *testing.T) {
	rep := func(rate float64, failed int) *report.Report {
		return &report.Report{Metrics: []report.Metric{{Name: "deliveries/s", Value: rate}}, Failed: failed, Passed: 5}
	}
	c := &Comparison{Scenario: "private", Runs: []Run{
		{Server: Chatd, Report: rep(100, 0)}, {Server: Baseline, Report: rep(40, 0)},
		{Server: Baseline, Report: rep(60, 0)}, {Server: Chatd, Report: rep(300, 0)},
		{Server: Chatd, Report: rep(200, 1)}, {Server: Baseline, Err: errTest},
	}}
	rows := c.Rows()
	if rows[0].Metric != "deliveries/s" || rows[0].Median[Chatd] != 200 || rows[0].Median[Baseline] != 50 {
		t.Fatalf("rows %+v", rows)
	}
	var b strings.Builder
	c.Print(&b)
	out := b.String()
	for _, want := range []string{"chatd/baseline", "4.00", "baseline rep 1 failed: boom"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if p, f := c.Invariants(); p != 25 || f != 2 {
		t.Errorf("Invariants = %d, %d; want 25, 2", p, f)
	}
}

type testError string

func (e testError) Error() string { return string(e) }

const errTest = testError("boom")

func TestChatdConfig(t *testing.T) {
	for _, template := range []string{"", "../../configs/chatbench-server.yaml"} {
		b, err := chatdConfig(template, "127.0.0.1:5555", "/tmp/x")
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Server struct{ Listen string }
			Chat   struct{ Mailbox struct{ Dir string } }
			Log    struct{ Level string }
		}
		if err := yaml.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		if doc.Server.Listen != "127.0.0.1:5555" || doc.Chat.Mailbox.Dir != "/tmp/x" || doc.Log.Level != "warn" {
			t.Errorf("template %q gave %+v", template, doc)
		}
	}
}

func TestQuickSuiteValid(t *testing.T) {
	for _, e := range QuickSuite() {
		if err := e.Config.WithDefaults().Validate(); err != nil {
			t.Errorf("%s: %v", e.Config.Scenario, err)
		}
	}
}

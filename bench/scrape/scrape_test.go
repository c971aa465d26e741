package scrape

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const exposition = `# HELP go_goroutines Number of goroutines that currently exist.
# TYPE go_goroutines gauge
go_goroutines 42
process_open_fds 15023
chatd_connections_open{endpoint="ws"} 15000
chatd_connections_open{endpoint="echo"} 3
go_memstats_heap_inuse_bytes 1.2345e+08 1700000000000
`

func TestParse(t *testing.T) {
	got, err := Parse(strings.NewReader(exposition), "go_goroutines", "process_open_fds",
		"chatd_connections_open", "go_memstats_heap_inuse_bytes", "absent")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"go_goroutines": 42, "process_open_fds": 15023,
		"chatd_connections_open": 15003, "go_memstats_heap_inuse_bytes": 1.2345e8}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestGauges(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, exposition)
	}))
	defer srv.Close()
	got, err := Gauges(context.Background(), srv.Client(), srv.URL+"/metrics", "go_goroutines")
	if err != nil || got["go_goroutines"] != 42 {
		t.Fatalf("%v %v", got, err)
	}
	if _, err := Gauges(context.Background(), srv.Client(), srv.URL+"/nope", "go_goroutines"); err == nil {
		t.Fatal("a 404 is not an error")
	}
}

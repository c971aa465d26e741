// Package admin is chatd's admin listener: a plain net/http server on its
// own address (admin.listen, off by default, usually 127.0.0.1:9090) for
// operators and their tools, never for clients.
//
// # Endpoints
//
//   - /metrics: the Prometheus text exposition of a private
//     prometheus.Registry (never the global one), which the caller fills:
//     cmd/chatd registers the Go and process collectors and one collector
//     that reads each package's Stats snapshot at scrape time.
//   - /healthz: the main listener's answer ("ok", or the degraded
//     detail, with 200): the process serves.
//   - /readyz: 200 "ready" when the node should get traffic; 503 with the
//     reason while starting, while draining at shutdown, and when the
//     Ready check says no (in a cluster, cut off from NATS). A load
//     balancer takes a node out on 503 and sends it traffic on 200.
//   - /debug/pprof/: the runtime profiles of net/http/pprof, only with
//     admin.pprof: true (404 otherwise). They expose memory contents and
//     cost CPU while they run: keep the listener on loopback or a private
//     network.
//
// # Readiness
//
// A Server starts "starting"; the caller calls SetReady once the main
// listener serves, and SetDraining when shutdown begins, after which it
// never becomes ready again.
//
// # Concurrency
//
// A Server's methods are safe for concurrent use. Handlers run on
// net/http's goroutines; the checks they call must be safe from any
// goroutine and must not block.
package admin

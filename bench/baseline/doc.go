// Command baseline is a reference WebSocket echo server of the well-known
// kind: one goroutine per connection on github.com/gorilla/websocket, each
// blocked in ReadMessage and answering with WriteMessage.
//
// It exists only so chatd's numbers have something to be compared with on
// the same machine in the same session (docs/BENCHMARKS.md). It is not part
// of chatd, has no configuration beyond -addr, and must not grow features.
//
// It serves /echo: every text or binary message is sent back unchanged.
// Messages are capped at 64 KiB, as chatd's default
// server.limits.max_message_bytes. There are no keepalive pings.
//
// Each idle connection costs a goroutine stack plus the 4 KiB read and 4 KiB
// write buffers that the upgrader takes over from net/http: that is the
// per-connection memory chatd's epoll read path avoids.
//
// Usage:
//
//	go run ./bench/baseline -addr 127.0.0.1:8081
package main

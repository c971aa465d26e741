package main

import (
	"strconv"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/bridge"
	"github.com/chatd/chatd/server/mailbox"
	"github.com/chatd/chatd/server/metric"
)

// metricSources are what the admin listener's /metrics reads at each
// scrape. Any may be nil (that part is off), except srv.
type metricSources struct {
	srv     *server.Server
	chat    *chatService
	bridge  *bridge.Bridge
	reloads *reloadStats // SIGHUP reloads (reload.go)
}

// newRegistry returns a private registry (never prometheus's global one)
// with the Go and process collectors and chatd's own, which turns each
// package's Stats snapshot into metrics at scrape time: nothing is counted
// twice and the hot paths never touch a Prometheus type.
func newRegistry(src *atomic.Pointer[metricSources]) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&chatdCollector{src: src},
	)
	return reg
}

// The metrics chatd exports. docs/METRICS.md says what each means; the
// Grafana dashboard (configs/grafana-chatd.json) queries them by these
// names, and a test checks that every name it queries is exported.
var (
	descSocketsOpen    = desc("chatd_sockets_open", "Sockets the server holds, handshakes included.")
	descConnsOpen      = desc("chatd_connections_open", "Upgraded WebSocket connections open, by endpoint.", "endpoint")
	descConnsOpened    = desc("chatd_connections_opened_total", "WebSocket connections upgraded, by endpoint.", "endpoint")
	descConnsAccepted  = desc("chatd_connections_accepted_total", "Sockets admission took on.")
	descConnsRefused   = desc("chatd_connections_refused_total", "Sockets answered 503 or 429 before their request was read, by the limit they were over.", "reason")
	descHandshakesFail = desc("chatd_handshakes_failed_total", "Admitted sockets that did not upgrade, by reason.", "reason")
	descCloses         = desc("chatd_ws_closes_total", "WebSocket connections closed, by close code (codes chatd does not send are summed as other).", "code")
	descWSIn           = desc("chatd_ws_messages_received_total", "WebSocket data messages received, by endpoint.", "endpoint")
	descWSOut          = desc("chatd_ws_messages_sent_total", "WebSocket data frames sent, by endpoint.", "endpoint")
	descBytesIn        = desc("chatd_ws_received_bytes_total", "Bytes read from client sockets, handshakes and frame headers included.")
	descBytesOut       = desc("chatd_ws_sent_bytes_total", "Bytes written to client sockets, handshakes and frame headers included.")
	descLoopBusy       = desc("chatd_event_loop_busy_seconds_total", "Time each event loop spent running callbacks, tasks and flushes (its rate is the loop's utilisation).", "loop")
	descLoopWakes      = desc("chatd_event_loop_wakes_total", "Callbacks each event loop ran (socket readiness and inbox wake-ups).", "loop")
	descLoopWakeups    = desc("chatd_event_loop_wakeups_total", "Wake-ups of each event loop by other goroutines (its eventfd).", "loop")
	descLoopTasks      = desc("chatd_event_loop_tasks_total", "Functions each event loop ran for other goroutines (fan-outs, timers).", "loop")

	descLogins        = desc("chatd_logins_total", "Login attempts answered, by result (ok, refused) and reason.", "result", "reason")
	descSessions      = desc("chatd_sessions_online", "Logged-in chat sessions open on this node.")
	descUsers         = desc("chatd_users_online", "Names with at least one logged-in session on this node.")
	descChatIn        = desc("chatd_chat_messages_received_total", "Chat messages accepted from sessions, by kind (private, room, lobby).", "kind")
	descChatOut       = desc("chatd_chat_messages_delivered_total", "Chat message copies handed to receiving sessions, by kind (private: written to the socket).", "kind")
	descFanoutSize    = desc("chatd_room_fanout_members", "Members of the room a message was published to.")
	descFanoutTime    = desc("chatd_room_fanout_duration_seconds", "Time a room message's publish took: history, encoding, handing it to each event loop with members.")
	descDelivery      = desc("chatd_delivery_latency_seconds", "From a message's arrival to its hand-out: private, until a receiver's socket took it; room, until one event loop's members got it.", "kind")
	descMailStored    = desc("chatd_mailbox_stored_total", "Private messages stored for offline users.")
	descMailDelivered = desc("chatd_mailbox_delivered_total", "Stored messages written to a session's socket.")
	descMailExpired   = desc("chatd_mailbox_expired_total", "Stored messages dropped as older than chat.mailbox.max_age (single node; JetStream ages them out unseen).")
	descMailQueue     = desc("chatd_mailbox_queue_jobs", "Mailbox operations waiting on the offline queue.")
	descMailQueueB    = desc("chatd_mailbox_queue_bytes", "Message bytes held by the offline queue.")
	descMailBytes     = desc("chatd_mailbox_store_bytes", "Bytes of messages in the offline store (single node).")

	descBridge       = desc("chatd_bridge_processes", "Bridged programs running.")
	descHookQueue    = desc("chatd_webhook_queue_length", "Events waiting to be POSTed, the one in flight included.")
	descHookFail     = desc("chatd_webhook_failures_total", "Failed webhook POSTs (network error, timeout, non-2xx).")
	descHookSent     = desc("chatd_webhook_delivered_total", "Events a webhook POST answered 2xx carried.")
	descHookDropped  = desc("chatd_webhook_dropped_total", "Events not queued (queue full, closing) or lost at close.")
	descClusterDown  = desc("chatd_cluster_degraded", "1 while this node is cut off from NATS, else 0.")
	descClusterNodes = desc("chatd_cluster_nodes_alive", "Cluster nodes whose heartbeat this node sees.")
	descReloads      = desc("chatd_config_reloads_total", "SIGHUP reloads, by result: ok (the config, if changed, was applied and every file reread), error (the config was refused, or a file could not be reread).", "result")
	descReloadOK     = desc("chatd_config_last_reload_success_timestamp_seconds", "When the last reload that succeeded ended, in Unix seconds; the start counts as one.")
	descClusterFollw = desc("chatd_cluster_room_followers", "Room streams this node follows (rooms with members here).")
)

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

// chatdCollector reads the Stats snapshots at each scrape, of the parts
// src points to (serve fills them in as they start).
type chatdCollector struct {
	src *atomic.Pointer[metricSources]
}

// Describe sends nothing: the collector is unchecked, as the metrics it
// sends depend on what is on (chat, the bridge, webhooks, the cluster).
func (c *chatdCollector) Describe(chan<- *prometheus.Desc) {}

func (c *chatdCollector) Collect(ch chan<- prometheus.Metric) {
	src := c.src.Load()
	collectServer(ch, src.srv)
	if src.chat != nil {
		collectChat(ch, src.chat)
	}
	if b := src.bridge; b != nil {
		gauge(ch, descBridge, float64(b.Running()))
	}
	if r := src.reloads; r != nil {
		counter(ch, descReloads, float64(r.ok.Load()), "ok")
		counter(ch, descReloads, float64(r.failed.Load()), "error")
		gauge(ch, descReloadOK, float64(r.lastSuccess.Load())/1e9)
	}
}

func collectServer(ch chan<- prometheus.Metric, srv *server.Server) {
	st := srv.Stats()
	gauge(ch, descSocketsOpen, float64(st.Open))
	counter(ch, descConnsAccepted, float64(st.Accepted))
	for reason, n := range st.Refused {
		counter(ch, descConnsRefused, float64(n), reason)
	}
	for reason, n := range st.HandshakeFailures {
		counter(ch, descHandshakesFail, float64(n), reason)
	}
	for _, ep := range st.Endpoints {
		gauge(ch, descConnsOpen, float64(ep.Opened-ep.Closed), ep.Path)
		counter(ch, descConnsOpened, float64(ep.Opened), ep.Path)
		counter(ch, descWSIn, float64(ep.MessagesIn), ep.Path)
		counter(ch, descWSOut, float64(ep.MessagesOut), ep.Path)
	}
	for code, n := range st.Closes {
		counter(ch, descCloses, float64(n), code)
	}
	counter(ch, descBytesIn, float64(st.BytesIn))
	counter(ch, descBytesOut, float64(st.BytesOut))
	for i, l := range st.Loops {
		loop := strconv.Itoa(i)
		counter(ch, descLoopBusy, l.Busy.Seconds(), loop)
		counter(ch, descLoopWakes, float64(l.Wakes), loop)
		counter(ch, descLoopWakeups, float64(l.Wakeups), loop)
		counter(ch, descLoopTasks, float64(l.Tasks), loop)
	}
}

func collectChat(ch chan<- prometheus.Metric, cs *chatService) {
	st := cs.Stats()
	for reason, n := range st.Logins {
		if reason == "ok" {
			counter(ch, descLogins, float64(n), "ok", "none")
		} else {
			counter(ch, descLogins, float64(n), "refused", reason)
		}
	}
	gauge(ch, descSessions, float64(st.Sessions))
	gauge(ch, descUsers, float64(st.Users))
	for kind, n := range st.MessagesIn {
		counter(ch, descChatIn, float64(n), kind)
	}
	for kind, n := range st.MessagesOut {
		counter(ch, descChatOut, float64(n), kind)
	}
	histogram(ch, descFanoutSize, st.FanoutSize, 1)
	histogram(ch, descFanoutTime, st.FanoutTime, 1e-9)
	histogram(ch, descDelivery, st.PrivateDelay, 1e-9, "private")
	histogram(ch, descDelivery, st.RoomDelay, 1e-9, "room")
	counter(ch, descMailStored, float64(st.MailStored))
	counter(ch, descMailDelivered, float64(st.MailDelivered))
	gauge(ch, descMailQueue, float64(st.MailQueueJobs))
	gauge(ch, descMailQueueB, float64(st.MailQueueBytes))
	if box, ok := cs.box.(*mailbox.Store); ok {
		ms := box.Stats()
		counter(ch, descMailExpired, float64(ms.Expired))
		gauge(ch, descMailBytes, float64(ms.Bytes))
	}
	if cs.hooks != nil {
		hs := cs.hooks.Stats()
		gauge(ch, descHookQueue, float64(hs.Queued))
		counter(ch, descHookFail, float64(hs.Failures))
		counter(ch, descHookSent, float64(hs.Delivered))
		counter(ch, descHookDropped, float64(hs.Dropped))
	}
	if cs.node != nil {
		ns := cs.node.node.Stats()
		down := 0.0
		if ns.Degraded {
			down = 1
		}
		gauge(ch, descClusterDown, down)
		gauge(ch, descClusterNodes, float64(ns.NodesAlive))
		gauge(ch, descClusterFollw, float64(ns.RoomFollowers))
	}
}

func counter(ch chan<- prometheus.Metric, d *prometheus.Desc, v float64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
}

func gauge(ch chan<- prometheus.Metric, d *prometheus.Desc, v float64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

// histogram exports a metric.Histogram snapshot, its values multiplied
// by scale (1e-9: nanoseconds to seconds).
func histogram(ch chan<- prometheus.Metric, d *prometheus.Desc, h metric.HistogramSnapshot, scale float64, labels ...string) {
	buckets := make(map[float64]uint64, len(h.Bounds))
	for i, b := range h.Bounds {
		buckets[float64(b)*scale] = h.Counts[i]
	}
	ch <- prometheus.MustNewConstHistogram(d, h.Count, float64(h.Sum)*scale, buckets, labels...)
}

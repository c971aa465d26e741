package server

import "github.com/gobwas/ws"

// Close codes chatd sends besides the RFC 6455 ones (1000, 1001, 1002, 1007,
// 1009, 1011). docs/PROTOCOL.md lists them all.
const (
	// CloseFrameTimeout: a frame, or a fragmented message, stayed
	// incomplete longer than limits.partial_frame_timeout.
	CloseFrameTimeout ws.StatusCode = 4002
	// ClosePongTimeout: the peer did not answer a ping within
	// keepalive.pong_timeout. Sent best-effort; the socket is closed at once.
	ClosePongTimeout ws.StatusCode = 4003
	// CloseSlowConsumer: the peer did not read fast enough and its pending
	// outbound bytes exceeded limits.write_budget_bytes. The connection is
	// dropped at once: the close frame could only follow the pending bytes,
	// so it is logged, not sent. (Endpoints may also Kick with it; that
	// close frame is sent.)
	CloseSlowConsumer ws.StatusCode = 4008
)

// Reasons for closes that have no close frame of their own. They appear in
// logs and in Endpoint.Closed.
const (
	reasonPeerGone     = "connection lost"
	reasonCloseTimeout = "peer did not finish the close handshake"
	reasonIncomplete   = "frame or fragmented message incomplete for too long"
	// reasonClosingOverflow: the peer sent over limits.closing_read_bytes
	// after chatd decided to close.
	reasonClosingOverflow = "peer kept sending after the close began"
)

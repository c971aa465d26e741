package server

// StatusCode is a WebSocket close code (RFC 6455 7.4). 1000–2999 are the
// protocol's; 4000–4999 are chatd's and its endpoints' (docs/PROTOCOL.md
// lists them all).
type StatusCode uint16

// The RFC 6455 close codes chatd sends or reports.
const (
	StatusNormalClosure   StatusCode = 1000
	StatusGoingAway       StatusCode = 1001
	StatusProtocolError   StatusCode = 1002
	StatusUnsupportedData StatusCode = 1003
	// StatusNoStatusRcvd is reported (never sent) for a peer close frame
	// without a code.
	StatusNoStatusRcvd StatusCode = 1005
	// StatusAbnormalClosure is reported (never sent) for a connection
	// that ended without a close frame.
	StatusAbnormalClosure StatusCode = 1006
	StatusInvalidPayload  StatusCode = 1007
	StatusPolicyViolation StatusCode = 1008
	StatusMessageTooBig   StatusCode = 1009
	StatusInternalError   StatusCode = 1011
)

// Close codes chatd sends besides the RFC 6455 ones.
const (
	// CloseFrameTimeout: a frame, or a fragmented message, stayed
	// incomplete longer than limits.partial_frame_timeout.
	CloseFrameTimeout StatusCode = 4002
	// ClosePongTimeout: the peer did not answer a ping within
	// keepalive.pong_timeout. Sent best-effort; the socket is closed at once.
	ClosePongTimeout StatusCode = 4003
	// CloseSlowConsumer: the peer did not read fast enough and its pending
	// outbound bytes exceeded limits.write_budget_bytes. The connection is
	// dropped at once: the close frame could only follow the pending bytes,
	// so it is logged, not sent. (Endpoints may also Kick with it; that
	// close frame is sent.)
	CloseSlowConsumer StatusCode = 4008
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
	// reasonTLSOverBudget: crypto/tls's own output (KeyUpdate answers)
	// went over write_budget_bytes before the upgrade or while closing.
	reasonTLSOverBudget = "slow consumer: TLS output over budget"
)

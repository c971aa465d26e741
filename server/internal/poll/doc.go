// Package poll is chatd's only contact with easygo: it watches sockets for
// readiness with one epoll instance and calls back when one is ready.
//
// Sockets are registered by their own file descriptor (taken with
// syscall.RawConn.Control), never through conn.File(): there is one fd per
// connection and the socket stays in non-blocking mode. Every registration is
// level-triggered and one-shot. After an event the socket is disarmed until
// its owner calls Arm again, so exactly one goroutine handles a ready socket
// at a time, and data that arrived while it was busy is reported again at the
// next Arm instead of being lost (the edge-triggered trap in NOTES.md).
//
// A Watch tracks the read and write interest of one socket, so that the
// reader re-arming read interest and the writer asking for writability never
// overwrite each other's registration. Callbacks run on the single epoll
// goroutine and must only hand work off; they must not block.
package poll

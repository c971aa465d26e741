// Package bridge serves stdio programs over WebSocket, the way websocketd
// does, inside chatd: each configured program (bridge.programs) is a
// server.Endpoint at its path. docs/BRIDGE.md is the operator's guide.
//
// # Model
//
// Text mode (the default): each text message a client sends is written to
// the program's stdin as one line (a newline added); each line the program
// writes to stdout is sent to the client as one text message, without its
// newline (nor a "\r" before it). Lines that are not UTF-8 have the bad
// bytes replaced with U+FFFD. Binary mode (binary: true, per_connection
// only) passes bytes: a message goes to stdin as is, each read from
// stdout (at most max_line_bytes, 32 KiB at most) is one binary message.
//
// per_connection runs one process per connection, with a CGI environment
// as websocketd sets it (REMOTE_ADDR, REMOTE_PORT, QUERY_STRING,
// PATH_INFO, SCRIPT_NAME, REQUEST_URI, SERVER_NAME, SERVER_PORT, HTTP_*
// for each request header, CHATD_USER after a login) plus the program's
// pass_env variables, and nothing else of chatd's environment. The
// request's query and headers are read during Endpoint.Open, when package
// server still holds them; an idle connection keeps neither.
//
// shared runs one process for the path, started with the bridge (New) and
// started again after it exits, with a backoff that doubles from
// restart_backoff to max_restart_backoff (and starts over after a run
// longer than max_restart_backoff); clients stay connected meanwhile and
// their lines wait in the stdin queue. A client's message reaches stdin as
// "ID line", ID being its connection number, or its user name with
// login: true; a message with line breaks becomes several lines, each
// prefixed, so no client can write a line that names another. Each line
// the program writes goes to every client, encoded once; a line
// "@ID text" goes as "text" to the clients with that ID only (all
// sessions of a user with login).
//
// login: true runs the login of /ws first, with the same authenticator
// and the same plain ("True" or the reason) and JSON (login_ok,
// login_error) answers, checked off the actor on at most 16 goroutines;
// five refusals close with 4001, and no login within login_timeout closes
// with 4004. Attempts and failed logins are counted in an auth/throttle
// Throttle (WithThrottle; chatd passes the one /ws uses, so they add up
// across reconnects, paths and endpoints) and refused with /ws's reasons
// past its limits, without asking the backend. Only then does the process
// start (per_connection) or the client join (shared).
//
// # Lifecycle
//
// A process starts in its own process group. When its client goes (or
// Bridge.Close), its stdin is closed; after stdin_grace the group gets
// SIGTERM, after kill_grace more SIGKILL, each only while the process is
// not reaped, so a signal never reaches a recycled pid. The stdout
// goroutine reads to EOF (closing the pipe early when nobody wants the
// output any more, so a program still writing fails instead of blocking),
// then reaps the process with Wait: no zombie is left. When a
// per-connection program exits, its client gets its remaining lines, then
// close 4100 with the exit status in the reason ("program exited: exit
// status 3", "program exited: signal: killed"). stderr goes to chatd's log
// line by line, with the path and pid, at most stderr_lines_per_second per
// path; the lines over the rate are counted and the count logged with the
// next line that is.
//
// # Limits and backpressure
//
// max_processes and max_processes_per_path bound running processes (a
// shared program counts one); a connection past them is closed with
// 4102. A stdout line longer than max_line_bytes closes a per-connection
// client with 4101 and stops the program (a shared program is restarted
// instead); a line is never buffered past the limit.
//
// Program slower than its client: messages for stdin wait in a queue of
// stdin_queue messages drained by a writer goroutine, so the actor never
// blocks on the pipe. When the queue is full the connection's reads are
// paused (server.Conn.PauseReading): TCP backpressure reaches the client,
// as for a full mailbox, and reading resumes when the writer has taken a
// message. While paused, the connection is still pinged so that a client
// that vanished is noticed (the second ping's write fails).
//
// Client slower than its program (per_connection): at most 32 lines are
// in flight to a client (posted to its actor, or written and not yet
// taken by the kernel); the stdout goroutine then waits, the pipe fills,
// and the program blocks in its write: the client's reading paces the
// program. A full mailbox (server.ErrQueueFull) is also waited out, never
// dropped. In shared mode a client whose mailbox is full holds the
// program back for at most a second per line, then is dropped as a slow
// consumer (4008), as is one past server.limits.write_budget_bytes.
//
// # Memory and goroutines
//
// A per-connection process costs three goroutines in chatd (stdout, which
// also reaps; stderr; the stdin writer), one more while it is being
// stopped, and four fds besides the socket (three pipes and a pidfd).
// Measured by TestCost against /echo connections: about 12 KB of heap
// (exec.Cmd and its pipes, the 4 KiB stdout buffer, the session and its
// 32-slot line window and stdin queue) and 6.5 KB of goroutine stacks per
// bridged connection. The connection itself keeps no goroutine: between
// messages it is the same server.Conn as any idle connection. A shared
// program costs the same once, plus a supervisor goroutine; each of its
// clients costs its session and two map entries. The program is the real
// cost (a Python interpreter is several MB): max_processes is the knob.
//
// # Concurrency
//
// Sessions run on their connection's actor, as server.Session requires;
// the process goroutines reach it only through Conn.Notify and Conn.Kick.
// Bridge, endpoint counters and a shared path's member set are safe for
// concurrent use (atomics; Bridge.mu and shared.mu say what they guard).
// Every goroutine the bridge starts is counted in one WaitGroup, which
// Close waits for.
package bridge

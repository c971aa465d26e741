package bridge

import "github.com/chatd/chatd/server"

// Close codes of bridged connections (docs/PROTOCOL.md lists every code).
const (
	// CloseProgramExited: the program exited (per_connection); the reason
	// carries its status, "program exited: exit status 3".
	CloseProgramExited server.StatusCode = 4100
	// CloseLineTooLong: the program wrote a line longer than
	// bridge.max_line_bytes.
	CloseLineTooLong server.StatusCode = 4101
	// CloseTooManyProcesses: bridge.max_processes or
	// bridge.max_processes_per_path processes are running.
	CloseTooManyProcesses server.StatusCode = 4102
	// CloseStartFailed: the program could not be started (logged).
	CloseStartFailed server.StatusCode = 4103
	// CloseLoginAttempts: too many failed logins (as chat's 4001).
	CloseLoginAttempts server.StatusCode = 4001
	// CloseLoginTimeout: not logged in within bridge.login_timeout (as
	// chat's 4004).
	CloseLoginTimeout server.StatusCode = 4004
)

// Command chatd runs the chatd WebSocket chat server.
//
// Usage:
//
//	chatd [serve] [-config FILE]
//	chatd [serve] -check-config FILE
//	chatd passwd FILE NAME
//	chatd client [-origin URL] [-H 'Name: value']... [-timeout D] [-raw] URL
//	chatd nats -config FILE
//	chatd version               (or chatd -version)
//	chatd help [COMMAND]        (or chatd -h, chatd COMMAND -h)
//
// The first argument names the command unless it is a flag: serve, which
// runs the server, is the default.
//
// With -config, chatd reads FILE (see configs/chatd.yaml, the commented
// reference that lists every key with its default). Without it, chatd runs
// with the built-in defaults, which equal that file. The file is decoded
// strictly: an unknown key, a duration without a unit or an invalid value is
// an error that names the file and the line, and chatd does not start.
//
// The file's sections belong to the packages that use them: server.Config,
// chat.Config, bridge.Config, api.Config, webhook.Config and web.Config,
// each with its defaults and validation. This command owns only what spans
// them (config.go: Config, which composes them, DecodeConfig and the rules
// across sections), the log section, and the auth selection (auth.go: which
// backend auth.backend names, with each backend's settings, built by an
// explicit switch; chat.AuthConfig's keys sit inline in the same section).
//
// -check-config FILE validates FILE without starting anything: it prints
// "FILE: ok" and exits 0, or prints the errors and exits 1. Use it before
// reloading a service.
//
// passwd adds user NAME to the password file FILE of the passwords auth
// backend, or changes its password: the password is the first line of
// standard input, stored as a bcrypt hash. The file is rewritten atomically
// with mode 0600, and a running chatd picks the change up at the next login.
//
//	echo 'correct horse' | chatd passwd ./data/passwords alice
//
// client is a terminal client for any WebSocket URL: each line of standard
// input is sent as a text message and each message received is printed on
// its own line; "close", /quit or end of input closes the connection with
// 1000 and exits 0. It prompts for nothing, so it works in a pipe. On a URL
// whose path ends in /ws it renders chat ("[lobby] alice: hi",
// "[alice -> you] hi", "* bob joined dev", "! error", sent acknowledgements
// hidden, anything else raw) and turns /join ROOM, /leave ROOM,
// /msg USER TEXT, /who [ROOM] and /rooms into requests; -raw turns that off.
// -origin and -H add request headers, -timeout bounds the dial and
// handshake. A failed dial exits 1.
//
//	printf 'alice\n/join dev\nhello\n' | chatd client ws://127.0.0.1:8080/ws
//
// The chat endpoint /ws stores offline messages under chat.mailbox.dir
// (default ./data, relative to the working directory). With webhooks.url
// set, chatd POSTs chat events there (docs/API.md, Webhooks); at shutdown
// it sends what is queued after the connections have closed, within the
// same deadline, and keeps the rest in chat.mailbox.dir/webhooks.db with
// webhooks.durable (otherwise the loss is an error: exit status 1).
//
// version prints three lines: chatd's version, the commit it was built from
// (with "(modified)" when the checkout had uncommitted changes) and the Go
// version and platform. They come from the build information the go
// command records (the module version, vcs.revision, vcs.modified), unless
// a release build sets them at link time:
//
//	go build -ldflags "-X main.version=v1.2.3 -X main.commit=$(git rev-parse HEAD)" ./cmd/chatd
//
// Logs go to stderr, in the format and at the level of the file's log
// section. The server logs "listening" with the actual address (useful with
// port 0) and its endpoints once it accepts connections.
//
// On SIGINT or SIGTERM chatd shuts down gracefully: it stops accepting, sends
// close code 1001 (going away) to every connection and waits up to
// server.shutdown_timeout (plus one second of slack) for them to close. A
// second signal stops waiting and drops the remaining connections at once
// (a SIGHUP during the shutdown is ignored).
//
// On SIGHUP chatd reloads (reload.go): it rereads the -config file with the
// same strict decoding and validation, and applies the keys a running server
// can take on: log.level; server.allowed_origins; server.connections.*,
// server.handshake.timeout, max_concurrent and max_header_bytes,
// server.limits.* but queue_size, server.keepalive.*, compression.min_size,
// close_timeout and shutdown_timeout; chat.rate.* (messages_per_second and
// burst for sessions that begin sending after the reload), chat.login.* but
// timeout, and chat.rooms' max_per_session, list_limit and who_limit. Each
// changed key that needs a restart is named in one warning, "needs a
// restart: server.listen, ...", and keeps its running value; one info line
// lists what was applied, old and new. A file that does not load or validate
// changes nothing and is logged. Every SIGHUP also rereads the auth
// backend's file (passwords, or jwt's secret_file or public_key_file),
// config changed or not. reload_keys.go classifies every key, and a test
// fails for a key added without a class; docs/OPERATIONS.md has the table.
// The other commands stop on SIGHUP, as on SIGINT.
//
// Exit status: 0 after a clean shutdown or a successful -check-config or
// -version; 1 when the configuration is invalid, the server cannot start or
// fails, or connections were still open when shutdown gave up; 2 for a usage
// error (unknown flag, stray argument).
package main

// Package web holds chatd's chat page: the static files a browser loads from
// `/`, embedded in the binary so that chatd needs nothing on disk and no
// build step to serve them.
//
// # The page
//
// index.html loads style.css and app.js, a JavaScript module that imports
// the others: state.js (the state and small helpers), conn.js (the
// connection, reconnect and login), messages.js (messages and the
// composer) and rooms.js (rooms, people and presence). Plain JavaScript
// modules, no framework and no build. It opens a
// WebSocket to /ws on the host and port it was loaded from (wss:// when the
// page came over https://), asking for the subprotocol chatd.v1 so every
// answer is JSON, and speaks the protocol of docs/PROTOCOL.md: the login
// loop (the server's reason and the attempts left shown under the form, on
// the same connection), the lobby and joined rooms with unread counts, join
// and leave, the list of rooms, who is in a room with presence and last
// seen, private conversations, and errors shown as they come.
//
// # Reconnect
//
// After a drop the page reconnects with exponential backoff and jitter, and
// logs in again with the session's resume token and, per room, the seq of
// the last message it holds ("since"), so the server replays what was sent
// meanwhile. Messages are deduplicated by room and seq, and by id, so a
// replay never shows a message twice. The name and password (kept in
// memory only, for this) go along, so when the token is no longer known
// (it expired, or chatd restarted) the backend checks them instead; the
// page then joins its other rooms with since. A seq lower than the page's
// (a restart lost the room's history) starts the room's dedupe again. A
// heartbeat request after a quiet spell detects a connection that died
// without a close (a phone changing networks). A session closed with 4009
// (another login of the user took its place) is not reconnected.
//
// # Safety
//
// Text from the network is only ever put into the page with textContent,
// never as HTML. The files are served with a Content-Security-Policy that
// forbids inline scripts and styles and any other origin (server.HandleFiles),
// and the page needs nothing more. web_test.go checks both rules.
//
// # Testing hooks
//
// Elements the browser test drives carry data-testid attributes (login-name,
// login-password, login-submit, login-error, status, composer, send,
// messages, room-list, join-room, user-list); each message carries
// data-testid="message", data-sender, and data-room or data-peer. They are a
// contract with tests and scripts: keep them when the layout changes.
// cmd/chatd's TestChatPage drives the page in Chromium against a real chatd.
//
// # Config
//
// Config is the web section of configs/chatd.yaml: web.enabled (default
// true) serves the page; cmd/chatd wires Files into the server.
package web

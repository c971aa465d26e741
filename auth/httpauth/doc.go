// Package httpauth is the login backend that asks another HTTP service
// (auth.http.url) to decide, so chatd can share accounts with an existing
// site. In the config file its backend name is "http".
//
// # The request
//
// For every login attempt chatd POSTs a JSON object to the URL, with
// Content-Type application/json and only the fields the client sent:
//
//	{"name": "alice", "password": "secret", "token": "...", "text": "alice:secret"}
//
// A JSON login fills name, password and token from the client's object. A
// plain-text login sends the whole message, untrimmed, as "text", and also
// splits it at the first ':' into "name" and "password" ("alice:secret" →
// name "alice", password "secret"); a message without ':' is sent as "text"
// and "name". The service may use whichever fields fit it.
//
// # The answer
//
//   - 200 with {"name": "alice"} logs the user in as that name, which must
//     pass auth.CanonicalName and is used in its canonical form (the service
//     decides the chat name: it may canonicalise it further, such as by
//     case). An optional "max_sessions" (a count, 0 meaning the server's
//     default) caps the user's concurrent sessions.
//   - 4xx refuses the login. The reason shown to the client is the "error"
//     (or else "reason") string of a JSON body, cut to one line of at most
//     auth.MaxReasonBytes bytes; without one it is "login refused".
//   - Anything else is a failure of the backend, not of the user: 5xx, 3xx
//     (redirects are not followed), other 2xx, a 200 whose body is not that
//     JSON or names an invalid name, a network error, or no complete answer
//     within auth.http.timeout. The client is told to try again later and
//     the chat layer logs the error.
//
// Response bodies are read up to MaxResponseBytes; a longer 200 is a
// failure, a longer 4xx body is ignored. Redirects are not followed.
//
// # Connections
//
// The Authenticator has its own http.Client and Transport (proxy settings
// come from the environment, as with net/http's default), reusing
// connections to the service between logins. Authenticate honours its
// context: cancelling it aborts the request at once. Close releases idle
// connections at shutdown.
package httpauth

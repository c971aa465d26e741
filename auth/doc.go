// Package auth is chatd's pluggable login contract.
//
// An Authenticator turns what a client sent at login into an Identity, or
// rejects it with a Rejection whose reason is shown to the client word for
// word ("name is not exist", "wrong password", "invalid token"). Any other
// error is a backend failure: the client is told to try again later and the
// server logs the cause.
//
// Clients log in with a plain-text message or a JSON object. ParseText maps
// the plain form onto Credentials the way the backend expects it: a name for
// anonymous and static, "name:password" for passwords, a token for jwt.
//
// Backends live in subpackages, one each, and are chosen in the YAML config:
// anonymous (the default), static, passwords (bcrypt file), jwt and http.
// Backends that know their users also implement Directory, so the chat layer
// can refuse a private message to a name that does not exist.
//
// Authenticate may block (bcrypt, HTTP): the chat layer calls it on a
// bounded pool, never on an actor. Implementations must be safe for
// concurrent use. Every backend passes the shared suite in auth/authtest.
package auth

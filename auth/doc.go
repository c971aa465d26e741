// Package auth is chatd's pluggable login contract.
//
// An Authenticator turns what a client sent at login into an Identity, or
// rejects it with a Rejection whose reason is shown to the client word for
// word ("name is not exist", "wrong password", "invalid token"). A reason is
// one line of at most MaxReasonBytes bytes. Any other error is a backend
// failure: the client is told to try again later and the server logs the
// cause.
//
// Clients log in with a plain-text message or a JSON object. ParseText maps
// the plain form onto Credentials the way the backend expects it, and keeps
// the whole message in Credentials.Text. No backend trims the message: a
// trailing newline is part of the name, password or token, and is refused
// as such.
//
// # Backends
//
// Backends live in subpackages, one each, and are chosen in the YAML config
// (auth.backend); each has a Config for its auth.<backend> section:
//
//	backend    package         plain text       refuses with
//	anonymous  auth/anonymous  name             CanonicalName's reasons ("name is empty", ...)
//	static     auth/static     name             "name is not exist"
//	passwords  auth/passwords  name:password    "name is not exist", "wrong password"
//	jwt        auth/jwt        token            "invalid token", "token expired",
//	                                            "token not valid yet", "token lifetime too long",
//	                                            "name does not match token"
//	http       auth/httpauth   name:password    the service's own reason, or "login refused"
//
// anonymous is the default; its identities allow one session per name
// (MaxSessions 1), the others leave it to the server's setting (0). Backends
// that know every user (static, passwords) also implement Directory, so the
// chat layer can refuse a private message to a name that does not exist.
//
// # Names
//
// A user name follows RFC 8265 (PRECIS UsernameCasePreserved): 1 to
// MaxNameLength characters, no whitespace, control characters or ':', and
// no invisible, formatting or otherwise disallowed characters, so that two
// users cannot have names that differ only in what nobody sees.
// CanonicalName checks a name and returns its canonical form (width-folded,
// NFC); CheckName only checks. Every backend returns canonical names in
// Identity.Name, and backends with a user list look names up by their
// canonical form, so "José" logs in as the same user whichever way its
// accent was typed. NameKey is the key under which two names look the same
// (case, width and normalisation folded); the chat layer uses it to keep
// look-alike names apart among the users online.
//
// # Concurrency
//
// Authenticate may block (bcrypt in passwords, a request in http): the chat
// layer calls it on a bounded pool, never on an actor. A backend that blocks
// on I/O honours its context. Implementations are safe for concurrent use.
// Every backend passes the shared conformance suite in auth/authtest.
package auth

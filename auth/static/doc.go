// Package static is the login backend with a fixed list of names from the
// config file (auth.static.users): a listed name logs in with no password,
// any other name is refused with "name is not exist".
//
// The plain-text login message is the name itself, byte for byte, as in the
// anonymous backend. A JSON login uses Credentials.Name; a password or token,
// if sent, is ignored. Names are matched in their canonical form
// (auth.CanonicalName): a listed "José" logs in whether its accent was typed
// precomposed or combining, and the identity carries the canonical form.
// Case matters: "HLQ" is not "hlq". Identities have MaxSessions 0, the
// server's default.
//
// The list is fixed when the Authenticator is built; changing it needs a
// restart. The backend implements auth.Directory, so the chat layer can tell
// that a private message is addressed to a name that does not exist.
package static

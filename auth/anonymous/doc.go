// Package anonymous is the default login backend: a client picks any name
// that passes auth.CanonicalName and is in, with no password, under the
// canonical form of that name ("Jose\u0301" logs in as "José").
//
// The plain-text login message is the name itself, byte for byte: nothing is
// trimmed, so "alice\n" is refused ("name contains whitespace") rather than
// quietly turned into "alice", and "alice\u200b" is refused ("name contains
// invisible or disallowed characters"). A JSON login uses Credentials.Name;
// a password or token, if sent, is ignored.
//
// Every Identity has MaxSessions 1: a name belongs to whoever holds it right
// now, so a second login with a name that is online is refused by the chat
// layer ("name is already online") until the first session ends. There is no
// user list, so the backend does not implement auth.Directory, and it needs
// no configuration.
package anonymous

// Package passwords is the login backend that checks names and passwords
// against a bcrypt password file (auth.passwords.file).
//
// # The file
//
// One user per line, as "name:hash", where hash is a bcrypt hash ($2a$, $2b$
// or $2y$, 60 characters). Blank lines and lines starting with '#' are
// ignored; spaces around a line are ignored too. Names follow
// auth.CanonicalName, so they never contain ':', and are matched in their
// canonical form: a name may appear only once, also not in another Unicode
// form ("José" with a precomposed and with a combining accent). A malformed
// line is an error naming its line number:
//
//	# chatd users
//	alice:$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy
//
// Create and change entries with `chatd passwd FILE NAME` (the password is
// read from the first line of standard input) or SetPassword, which rewrites
// the file atomically with mode 0600. Use a bcrypt cost that keeps a login
// in the tens of milliseconds: bcrypt.DefaultCost (10) is the default.
//
// # Logging in
//
// The plain-text login message is "name:password", split at the first ':'
// (the password may contain ':'). Nothing is trimmed: "alice:secret\n" has
// the password "secret\n". A JSON login uses Credentials.Name and Password.
// Names are looked up, and logged in, in their canonical form. An unknown
// or invalid name is refused with "name is not exist", a wrong password with
// "wrong password". Passwords longer than 72 bytes, which bcrypt cannot hash,
// are always wrong. Identities have MaxSessions 0, the server's default.
//
// # Reloading
//
// The file is read once by New, which fails if it is missing or malformed.
// After that, every Authenticate checks the file with a stat (microseconds,
// next to the tens of milliseconds bcrypt takes) and rereads it when its
// identity, size or modification time changed, so a password set with
// `chatd passwd` takes effect on the next login, without a restart. Exists
// (auth.Directory) checks at most once a second, so it stays cheap enough
// for the chat path. If the changed file cannot be read or is malformed,
// the users loaded before stay in force, the problem is logged once, and
// the file is read again after its next change.
package passwords

// Package testcert makes throwaway certificates for tests of TLS: a CA
// and leaves it signs, ECDSA P-256, generated in the test (no private key
// is committed), written as PEM files in the test's temporary directory.
//
// It is a test helper package, like wstest: only tests import it (server's,
// server/chat's interop tests, cmd/chatd's end-to-end tests). Leaves are
// valid for a day, for 127.0.0.1, ::1 and localhost (Server) or for client
// authentication (Client); Files replaces a leaf's files atomically, as a
// renewal would, so reload tests see whole files.
package testcert

// Package authtest is the conformance suite every auth backend runs.
//
// A backend's tests describe it with a Harness (how to build a fresh
// Authenticator, which names can log in and how, which logins must be
// refused) and call Run. Run checks the auth.Authenticator contract the chat
// layer relies on:
//
//   - a valid login returns an Identity with exactly the requested name, a
//     name in its canonical form (auth.CanonicalName), and the expected
//     MaxSessions;
//   - no login, JSON or plain text, is accepted under a name that
//     auth.CanonicalName refuses: a user's name with a zero width space,
//     a right-to-left override, a byte order mark or a zero width joiner
//     added is refused or logs in under a valid name; a user's name in
//     another Unicode form (decomposed accents) is refused or logs in as
//     that user;
//   - a refused login is a *auth.Rejection whose reason is one line of valid
//     UTF-8, not empty and at most auth.MaxReasonBytes long; empty
//     credentials are refused, not accepted and not a backend failure;
//   - ParseText keeps the whole message in Credentials.Text, never panics,
//     and the plain-text form of a valid login logs in the same user;
//   - Authenticate is safe for concurrent use (run the tests with -race);
//   - a backend that blocks (Harness.Block) returns promptly when its context
//     is cancelled or its deadline passes, with an error that is not a
//     rejection and wraps the context's error;
//   - a backend that implements auth.Directory agrees with its logins:
//     Exists is true for every user, in any Unicode form of its name, and
//     false for unknown or invalid names.
//
// Run uses only the standard testing package (and x/text's norm), so a
// backend test needs no other dependency. The suite runs its checks as subtests, one per property,
// sequentially; each subtest gets its own Authenticator from Harness.New.
package authtest

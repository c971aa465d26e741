// Package throttle limits login attempts across connections and
// endpoints: one Throttle is shared by /ws (package chat) and every
// bridged program with login: true (package bridge), so a guesser cannot
// spread attempts over several paths.
//
// # Model
//
// Three families of token buckets, each keyed:
//
//   - attempts per source address (Config.AddressRate per second, up to
//     Config.AddressBurst): every login attempt takes one (AllowAddress);
//   - failures per account name and address (Config.AccountFailures per
//     Config.AccountWindow);
//   - failures per account name over all addresses
//     (Config.AccountFailuresTotal per Config.AccountWindow).
//
// Addresses are grouped as connection admission groups them
// (server.ClientAddress): an IPv4 address (an IPv4-mapped IPv6 address
// counts as its IPv4 address) or an IPv6 /64. Names are keyed by
// auth.NameKey, so look-alike spellings of a name share its buckets.
//
// A login for a name reserves one failure from both name buckets before
// the backend is asked (Reserve), and gives both back (Release) unless the
// backend refused it on its merits (auth.IsRejection): an accepted login,
// a broken backend or a busy server costs the name nothing. Reserving
// first means a burst of attempts sent at once cannot slip past the limit
// while the first ones are still being checked; the per-address bucket
// means one address cannot lock a name out for everyone.
//
// # Bounds
//
// Each family holds at most 100,000 keys. A key whose bucket is full again
// is the same as no key: such keys are swept once a minute (on the next
// call after the minute, or by Sweep) and whenever a family is full. If a
// family is still full of active keys, new keys go unthrottled rather than
// grow memory without bound (per-connection limits still apply). A key
// costs about 100 bytes.
//
// # Concurrency
//
// A Throttle is safe for concurrent use. Each family has one mutex; a call
// holds at most one at a time, for a map look-up (or a sweep). Nothing
// blocks and no goroutine is started.
package throttle

// Package check verifies chatbench's delivery invariants from what the
// senders wrote and what the receivers read, instead of assuming them:
//
//   - every message reaches each intended receiver exactly once (no loss,
//     no duplicate);
//   - each sender's messages reach each receiver in the order sent;
//   - nothing reaches a receiver that is not intended (a non-member of the
//     room, anyone but the addressee of a private message);
//   - payloads arrive intact.
//
// A Stream is one sender's messages to one destination: a user (private
// messages, echoes, the offline mailbox) or a room. Every message carries
// its stream and a sequence number 0, 1, 2, … within the stream. A sender
// counts what it wrote per stream in an Outbox; a receiver's reader feeds
// every delivery to its Inbox, which keeps per stream the number of
// distinct sequence numbers seen, the highest, and the duplicates and
// reorderings (a sequence number lower than one already seen). Both are
// owned by one goroutine and need no lock.
//
// Workers ship a Partial (sent counts and inbox tracks) to the parent, which
// merges them and calls Verify with the scenario's Plan, the membership
// rule. Verify compares, for every stream, the number sent with what each
// intended receiver saw, and flags any delivery to a receiver that the plan
// does not intend. Its Verdict becomes the run's Invariants, and the run
// ends with Line: "N passed, M failed".
//
// A sender's own room message coming back to it is ignored (chatd does not
// send it, some servers do): Plans decide what is intended, and Inbox
// callers skip self-deliveries before they reach the inbox.
package check

// Package api is chatd's HTTP API for backends: a program that is not a
// chat user publishes to rooms, sends private messages, lists who is online
// and which rooms exist, and disconnects users.
//
// # Model
//
// The API is off unless api.key or api.key_file is set. It listens on its
// own address (api.listen), typically loopback or a private interface, and
// is served by net/http: a goroutine per request, which is fine for a
// handful of backends. It does not share the main listener, whose HTTP path
// is chatd's own and reads request heads only.
//
// Every request carries "Authorization: Bearer KEY"; a missing or wrong key
// (compared in constant time) gets 401 before anything else is looked at.
// Bodies and answers are JSON; bodies are decoded strictly (unknown fields
// are refused) and capped at api.max_body_bytes (413 past it).
//
// The Handler knows nothing of chat: it decodes, checks and encodes, and
// calls the Chat it was built with (package chat implements it on
// *chat.Service). Errors from Chat map to HTTP statuses by the sentinels
// below (ErrInvalid 400, ErrNotFound 404, ErrNotKept 409, ErrFull 507,
// ErrUnavailable 503); any other error is a 500.
//
// # Concurrency
//
// A Handler is safe for concurrent use; it holds no state of its own besides
// its configuration. Server owns one http.Server and stops it with
// Shutdown(ctx).
//
// docs/API.md is the reference for every endpoint.
package api

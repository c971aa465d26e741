// Package wire holds the JSON messages of chatd's chat protocol, shared by
// the server, chatbench and clients. It depends on the standard library only.
//
// docs/PROTOCOL.md is the contract; these types are its Go spelling. Every
// server message has a "type". Requests may carry an "id" of any JSON type;
// replies and errors to them echo it as "ref".
package wire

// Package wire holds the JSON messages of chatd's chat protocol, shared by
// the server, chatbench and clients. It depends on the standard library only.
//
// docs/PROTOCOL.md is the contract; these types are its Go spelling. Every
// server message has a "type". Requests may carry an "id" of any JSON type;
// replies and errors to them echo it as "ref".
//
// The types encode and decode with encoding/json. The hot ones also have
// hand-written codecs that give the same bytes and the same verdicts,
// cheaper: AppendMessage, AppendSent, AppendError, AppendPresence,
// AppendMembership and AppendHistory write what json.Marshal writes, without
// reflection or allocation (append.go, string.go); DecodeRequest decodes
// ordinary requests itself and hands every other input, errors included,
// to json.Unmarshal (decode.go). Fuzz tests hold each to encoding/json.
package wire

package chat

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/wire"
)

// Subprotocols the /ws endpoint speaks (Sec-WebSocket-Protocol).
const (
	// ProtocolJSON is the JSON protocol of docs/PROTOCOL.md; login answers
	// are JSON even for a plain-text or URL login.
	ProtocolJSON = "chatd.v1"
	// ProtocolText renders chat as readable text lines (text mode).
	ProtocolText = "chatd.text"
)

// format is how a session wants the server's messages written.
type format uint8

const (
	// formatAuto: login answers follow the form of the login (plain text
	// or JSON), everything else is JSON. The default.
	formatAuto format = iota
	// formatJSON: every server message is JSON (chatd.v1, format=json).
	formatJSON
	// formatText: after login, chat messages, presence and errors are
	// text lines, and no "sent" is written (chatd.text, format=text).
	formatText
)

// dataText is a message's data as text: a JSON string unquoted, anything
// else as its compact JSON; made safe for lines (wire.SafeText: a line
// break indents the next line, other control characters become U+FFFD).
func dataText(data json.RawMessage) string {
	if len(data) > 0 && data[0] == '"' {
		var s string
		if json.Unmarshal(data, &s) == nil {
			return wire.SafeText(s)
		}
	}
	// Compact JSON still holds raw control and bidi characters inside its
	// strings: made safe the same way.
	var b bytes.Buffer
	if json.Compact(&b, data) == nil {
		return wire.SafeText(b.String())
	}
	return wire.SafeText(string(data))
}

// textLine renders a chat message for text mode: "[room] alice: hi" for a
// room message, "[private] alice: hi" for a private one received,
// "[private to bob] hi" for one's own private message seen on another
// session; " (offline)" marks mail from the offline mailbox. Line breaks in
// the text are kept, the lines after them indented (wire.SafeText): one
// WebSocket message is one chat message, and no text passes for a line of
// its own.
func textLine(m *wire.Message, self string) string {
	var b strings.Builder
	switch {
	case m.Room != "":
		b.WriteString("[" + m.Room + "] " + m.Sender + ": ")
	case m.Sender == self && m.Receiver != self:
		b.WriteString("[private to " + m.Receiver + "] ")
	default:
		b.WriteString("[private] " + m.Sender + ": ")
	}
	b.WriteString(dataText(m.Data))
	if m.Offline {
		b.WriteString(" (offline)")
	}
	return b.String()
}

// presenceLine renders a presence announcement for text mode.
func presenceLine(p *wire.Presence) string {
	if p.Reset {
		return "[" + p.Room + "] * many users came and went: send who for the list"
	}
	return "[" + p.Room + "] * " + p.User + " is " + p.Status
}

// membershipLine renders a join or leave answer for text mode.
func membershipLine(m *wire.Membership) string {
	verb := "joined "
	if m.Type == wire.TypeLeft {
		verb = "left "
	}
	line := verb + m.Room + " (" + strconv.Itoa(m.Members) + " members)"
	if m.Recovered != nil {
		if *m.Recovered {
			line += ", recovered"
		} else {
			line += ", " + strconv.FormatUint(m.Missed, 10) + " messages lost"
		}
	}
	return line
}

// textFrame returns line as one text frame.
func textFrame(line string) []byte {
	return server.AppendTextFrame(make([]byte, 0, len(line)+10), []byte(line))
}

// messageFrame encodes m for a session of format f whose user is self.
func (svc *Service) messageFrame(m *wire.Message, f format, self string) []byte {
	if f == formatText {
		return textFrame(textLine(m, self))
	}
	return svc.encodeMessage(m)
}

// lazyText renders a text frame the first time a text-mode member needs
// it, so a fan-out encodes text at most once and not at all when no member
// asked for text. It is used by one goroutine.
type lazyText struct {
	render func() string
	cached []byte
}

func (l *lazyText) frame() []byte {
	if l.cached == nil {
		l.cached = textFrame(l.render())
	}
	return l.cached
}

// textReply renders a reply or event for a text-mode session; ok is false
// for a type it has no line for, which is then written as JSON.
func textReply(v any, self string) (line string, ok bool) {
	switch m := v.(type) {
	case wire.Message:
		return textLine(&m, self), true
	case *wire.Message:
		return textLine(m, self), true
	case wire.Error:
		return "error: " + m.Error, true
	case wire.Membership:
		return membershipLine(&m), true
	case wire.Presence:
		return presenceLine(&m), true
	case wire.Who:
		line := "who " + m.Room + ": " + strings.Join(m.Users, ", ")
		if m.More {
			line += " (more after " + m.Next + ")"
		}
		return line, true
	case wire.Rooms:
		names := make([]string, len(m.Rooms))
		for i, r := range m.Rooms {
			names[i] = r.Name + " (" + strconv.Itoa(r.Members) + ")"
			if r.Joined {
				names[i] += "*"
			}
		}
		line := "rooms: " + strings.Join(names, ", ")
		if m.More {
			line += " (more after " + m.Next + ")"
		}
		return line, true
	case wire.Seen:
		if m.Online {
			return m.User + " is online", true
		}
		if m.LastSeen == 0 {
			return m.User + " was not seen", true
		}
		return m.User + " was last seen " + time.UnixMilli(m.LastSeen).UTC().Format(time.RFC3339), true
	case wire.History:
		var b strings.Builder
		b.WriteString("history " + m.Room + ": " + strconv.Itoa(len(m.Messages)) + " messages")
		for _, raw := range m.Messages {
			var msg wire.Message
			if json.Unmarshal(raw, &msg) == nil {
				b.WriteString("\n" + textLine(&msg, self))
			}
		}
		return b.String(), true
	case wire.LoginOK:
		return wire.PlainLoginOK, true
	case wire.LoginError:
		return m.Error, true
	}
	return "", false
}

package server

import (
	"bytes"
	"errors"
)

// requestHead is what routing needs from an HTTP request head. The full
// handshake is validated afterwards by gobwas/ws's Upgrader.
type requestHead struct {
	method string
	path   string // without query
	query  string // after "?", without the fragment; raw
	// upgrade is set when an Upgrade header lists the websocket token.
	upgrade bool
	// ifNoneMatch is the If-None-Match header, for static files.
	ifNoneMatch string
}

var errMalformedHead = errors.New("malformed HTTP request head")

// endOfHead returns the length of the head (through the blank line) in b,
// or -1 if it is not complete yet.
func endOfHead(b []byte) int {
	if i := bytes.Index(b, []byte("\r\n\r\n")); i >= 0 {
		return i + 4
	}
	return -1
}

// parseHead parses a complete request head (request line, headers, blank
// line). It is deliberately small: a request line of three fields, headers
// of "Name: value" lines.
func parseHead(b []byte) (requestHead, error) {
	var h requestHead
	line, rest, ok := bytes.Cut(b, []byte("\r\n"))
	if !ok {
		return h, errMalformedHead
	}
	method, line, ok1 := bytes.Cut(line, []byte(" "))
	target, proto, ok2 := bytes.Cut(line, []byte(" "))
	if !ok1 || !ok2 || len(method) == 0 || len(target) == 0 || !bytes.HasPrefix(proto, []byte("HTTP/")) {
		return h, errMalformedHead
	}
	h.method = string(method)
	h.path, h.query = requestPath(target)
	for {
		line, rest, ok = bytes.Cut(rest, []byte("\r\n"))
		if !ok {
			return h, errMalformedHead
		}
		if len(line) == 0 {
			return h, nil
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok || len(name) == 0 || !isToken(name) || hasCTL(value) {
			// RFC 9110 5.1, 5.5: a field name is a token, a value has no
			// control character but tab (a NUL would reach, say, a bridged
			// program's environment).
			return h, errMalformedHead
		}
		name = bytes.TrimSpace(name)
		switch {
		case bytes.EqualFold(name, []byte("Upgrade")) && hasToken(value, "websocket"):
			h.upgrade = true
		case bytes.EqualFold(name, []byte("If-None-Match")):
			h.ifNoneMatch = string(bytes.TrimSpace(value))
		}
	}
}

// requestPath returns the path and the raw query of an origin-form or
// absolute-form target.
func requestPath(target []byte) (path, query string) {
	if i := bytes.Index(target, []byte("://")); i >= 0 && !bytes.HasPrefix(target, []byte("/")) {
		target = target[i+3:]
		if j := bytes.IndexByte(target, '/'); j >= 0 {
			target = target[j:]
		} else {
			target = []byte("/")
		}
	}
	if i := bytes.IndexByte(target, '#'); i >= 0 {
		target = target[:i]
	}
	if i := bytes.IndexByte(target, '?'); i >= 0 {
		return string(target[:i]), string(target[i+1:])
	}
	return string(target), ""
}

// hasToken reports whether a comma-separated header value lists token,
// case-insensitively.
func hasToken(value []byte, token string) bool {
	for len(value) > 0 {
		var item []byte
		item, value, _ = bytes.Cut(value, []byte(","))
		if bytes.EqualFold(bytes.TrimSpace(item), []byte(token)) {
			return true
		}
	}
	return false
}

// eachHeader calls fn for each "Name: value" line of a request head that
// parseHead accepted (nothing for nil).
func eachHeader(head []byte, fn func(name, value string)) {
	_, rest, ok := bytes.Cut(head, []byte("\r\n"))
	for ok {
		var line []byte
		line, rest, ok = bytes.Cut(rest, []byte("\r\n"))
		if len(line) == 0 {
			return
		}
		name, value, found := bytes.Cut(line, []byte(":"))
		if name = bytes.TrimSpace(name); found && len(name) > 0 {
			fn(string(name), string(bytes.TrimSpace(value)))
		}
	}
}

// isToken reports whether b is an RFC 9110 token (tchar+).
func isToken(b []byte) bool {
	for _, c := range b {
		if c <= ' ' || c >= 0x7f || bytes.IndexByte([]byte(`"(),/:;<=>?@[\]{}`), c) >= 0 {
			return false
		}
	}
	return len(b) > 0
}

// hasCTL reports whether b holds a control character other than tab.
func hasCTL(b []byte) bool {
	for _, c := range b {
		if (c < ' ' && c != '\t') || c == 0x7f {
			return true
		}
	}
	return false
}

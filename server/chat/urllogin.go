package chat

import (
	"net/url"
	"strings"

	"github.com/chatd/chatd/auth"
	"github.com/chatd/chatd/server"
)

// Clients that cannot send a login frame (tutorial 002's pages) or cannot
// set headers (browsers) choose their format and log in with the upgrade
// request itself:
//
//	ws://HOST/ws?format=text        text mode (or subprotocol chatd.text)
//	ws://HOST/ws?name=N             logs in as N, as if N were sent first
//	ws://HOST/ws/N                  the same
//	ws://HOST/ws?token=T            the JWT backend's token
//	ws://HOST/ws?name=N&resume=R    resumes N's earlier session
//
// The answer to such a login is the first message, as for a login frame; a
// refusal leaves the connection in the login loop, counted as one attempt.

// pathPrefix is where /ws/NAME logins are served.
const pathPrefix = "/ws/"

// requestFormat picks the session's format: the subprotocol wins over the
// query's format. bad names a format value that is not known.
func requestFormat(subprotocol, query string) (f format, bad string) {
	switch subprotocol {
	case ProtocolJSON:
		return formatJSON, ""
	case ProtocolText:
		return formatText, ""
	}
	switch strings.ToLower(query) {
	case "":
		return formatAuto, ""
	case "text":
		return formatText, ""
	case "json":
		return formatJSON, ""
	}
	return formatAuto, query
}

// urlLogin starts the login the upgrade request carries, if any. It runs
// in Open, on the connection's actor.
func (s *session) urlLogin(c *server.Conn, q url.Values) {
	creds := auth.Credentials{Name: q.Get("name"), Token: q.Get("token")}
	if p := c.Path(); strings.HasPrefix(p, pathPrefix) {
		name, err := url.PathUnescape(p[len(pathPrefix):])
		a := attempt{json: s.answersJSON(false)}
		switch {
		case err != nil:
			s.refuse(a, "invalid name in the URL: "+err.Error(), false)
			return
		case creds.Name != "" && creds.Name != name:
			s.refuse(a, "two names in the URL: "+quote(name)+" in the path and "+quote(creds.Name)+" in the query", false)
			return
		}
		creds.Name = name
	}
	if creds.Name == "" && creds.Token == "" {
		return
	}
	s.tryAttempt(attempt{creds: creds, json: s.answersJSON(false), resume: q.Get("resume")})
}

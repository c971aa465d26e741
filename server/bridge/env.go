package bridge

import (
	"net"
	"strconv"
	"strings"

	"github.com/chatd/chatd/server"
)

var (
	newlines = strings.NewReplacer("\n", " ", "\r", " ")
	dashes   = strings.NewReplacer("-", "_")
)

// cgiEnv is the environment of a per-connection process, as websocketd
// builds it (CGI, RFC 3875, plus REMOTE_PORT, REQUEST_URI and HTTP_* for
// each request header), then the program's pass_env variables. It must be
// called during Open: the request's query and headers are gone after it.
func (ep *endpoint) cgiEnv(c *server.Conn) []string {
	uri := c.RequestURI()
	path, query, _ := strings.Cut(uri, "?")
	remote := c.RemoteAddr()
	env := make([]string, 0, 32+len(ep.passEnv))
	add := func(k, v string) { env = append(env, k+"="+strings.TrimSpace(newlines.Replace(v))) }
	add("GATEWAY_INTERFACE", "CGI/1.1")
	add("SERVER_SOFTWARE", "chatd")
	add("SERVER_PROTOCOL", "HTTP/1.1")
	add("REQUEST_METHOD", "GET")
	add("REMOTE_ADDR", remote.Addr().Unmap().String())
	add("REMOTE_PORT", strconv.Itoa(int(remote.Port())))
	add("SCRIPT_NAME", ep.prog.Path)
	add("PATH_INFO", strings.TrimPrefix(path, ep.prog.Path))
	add("QUERY_STRING", query)
	add("REQUEST_URI", uri)
	headers := map[string]int{} // HTTP_X -> index in env, to join repeats
	var host string
	c.RequestHeaders(func(name, value string) {
		if strings.EqualFold(name, "Host") {
			host = value
		}
		k := "HTTP_" + strings.ToUpper(dashes.Replace(name))
		v := strings.TrimSpace(newlines.Replace(value))
		if i, ok := headers[k]; ok {
			env[i] += ", " + v
			return
		}
		headers[k] = len(env)
		env = append(env, k+"="+v)
	})
	name, port := host, "80"
	if h, p, err := net.SplitHostPort(host); err == nil {
		name, port = h, p
	}
	add("SERVER_NAME", name)
	add("SERVER_PORT", port)
	return append(env, ep.passEnv...)
}

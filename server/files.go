package server

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"path"
	"strings"
)

// Static files (HandleFiles) are answered on the handshake path like every
// other HTTP response: one request per connection, Connection: close. The
// responses are built once, when the files are registered, so serving one
// costs a map lookup and a write of bytes that are already there.

// filesSecurityHeaders go with every file: the page may load its own
// scripts, styles and images only, and connect only back to this server
// ('self' covers ws: and wss: to the same host and port, CSP level 3);
// nothing is sniffed or framed by other sites.
const filesSecurityHeaders = "Content-Security-Policy: default-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'\r\n" +
	"X-Content-Type-Options: nosniff\r\n" +
	"Referrer-Policy: no-referrer\r\n" +
	"Cache-Control: no-cache\r\n"

// fileResponse is a file's complete HTTP responses: with the body for GET,
// without it for HEAD, and 304 for a GET whose If-None-Match names etag.
type fileResponse struct {
	get, head, notModified []byte
	etag                   string
}

// HandleFiles serves the regular files at the top of fsys over plain HTTP
// GET and HEAD: "/" is index.html, "/NAME" is the file NAME. Paths of
// WebSocket endpoints win over files. It must be called before Serve;
// the files are read once, then.
func (s *Server) HandleFiles(fsys fs.FS) error {
	ents, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return fmt.Errorf("files: %w", err)
	}
	files := map[string]fileResponse{}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		body, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return fmt.Errorf("files: %w", err)
		}
		r := newFileResponse(e.Name(), body)
		files["/"+e.Name()] = r
		if e.Name() == "index.html" {
			files["/"] = r
		}
	}
	s.files = files
	return nil
}

func newFileResponse(name string, body []byte) fileResponse {
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	head := fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %d\r\nETag: %s\r\n%sConnection: close\r\n\r\n",
		ctype, len(body), etag, filesSecurityHeaders)
	return fileResponse{
		head:        []byte(head),
		get:         append([]byte(head), body...),
		notModified: []byte("HTTP/1.1 304 Not Modified\r\nETag: " + etag + "\r\n" + filesSecurityHeaders + "Connection: close\r\n\r\n"),
		etag:        etag,
	}
}

// serveFile answers a GET or HEAD for one of the files and reports whether
// path named one.
func (c *Conn) serveFile(req requestHead) bool {
	f, ok := c.srv.files[req.path]
	if !ok {
		return false
	}
	resp := f.get
	switch {
	case req.method == "HEAD":
		resp = f.head
	case req.method != "GET":
		c.reply(405, "Method Not Allowed", req.method+" is not allowed here: use GET\n", "Allow: GET, HEAD\r\n")
		return true
	case matchesETag(req.ifNoneMatch, f.etag):
		resp = f.notModified
	}
	c.eof = true
	c.deliver(event{kind: evReply, data: resp}, nil)
	return true
}

// matchesETag reports whether an If-None-Match value lists etag (or is *).
func matchesETag(ifNoneMatch, etag string) bool {
	for _, t := range strings.Split(ifNoneMatch, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxReasonBytes is the longest close reason a disconnect may give: a
// close frame's payload is at most 125 bytes, 2 of them the code.
const maxReasonBytes = 123

// Handler serves /api/. It is safe for concurrent use.
type Handler struct {
	cfg  Config
	key  [sha256.Size]byte // the key's hash: compared in constant time whatever the lengths
	chat Chat
	mux  *http.ServeMux
	// slots holds a token per request being handled (api.max_in_flight).
	slots chan struct{}
}

// NewHandler returns the API's handler for chat, accepting key.
func NewHandler(cfg Config, key string, chat Chat) *Handler {
	h := &Handler{cfg: cfg, key: sha256.Sum256([]byte(key)), chat: chat, mux: http.NewServeMux(),
		slots: make(chan struct{}, cfg.MaxInFlight)}
	h.mux.HandleFunc("/api/publish", h.only(http.MethodPost, h.publish))
	h.mux.HandleFunc("/api/send", h.only(http.MethodPost, h.send))
	h.mux.HandleFunc("/api/disconnect", h.only(http.MethodPost, h.disconnect))
	h.mux.HandleFunc("/api/online", h.only(http.MethodGet, h.online))
	h.mux.HandleFunc("/api/rooms", h.only(http.MethodGet, h.rooms))
	h.mux.HandleFunc("/api/rooms/{room}", h.only(http.MethodGet, h.room))
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such endpoint: "+r.URL.Path)
	})
	return h
}

// ServeHTTP checks the key, takes a slot (503 when api.max_in_flight
// requests are being handled), then routes.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="chatd"`)
		w.Header().Set("Connection", "close") // a client without the key gets no kept-alive connection
		writeError(w, http.StatusUnauthorized, "missing or wrong key: send Authorization: Bearer KEY")
		return
	}
	if p := r.URL.Path; path.Clean(p) != p {
		// ServeMux would redirect to the clean path, with an HTML body;
		// no API path needs cleaning.
		writeError(w, http.StatusNotFound, "no such endpoint: "+p)
		return
	}
	select {
	case h.slots <- struct{}{}:
		defer func() { <-h.slots }()
	default:
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, fmt.Sprintf("too many API requests at once (api.max_in_flight %d), try again", h.cfg.MaxInFlight))
		return
	}
	h.mux.ServeHTTP(w, r)
}

func (h *Handler) authorized(r *http.Request) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return false
	}
	sum := sha256.Sum256([]byte(got))
	return subtle.ConstantTimeCompare(sum[:], h.key[:]) == 1
}

// only answers 405 to methods other than method (HEAD too).
func (h *Handler) only(method string, f http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != method {
			w.Header().Set("Allow", method)
			writeError(w, http.StatusMethodNotAllowed, r.Method+" not allowed: use "+method)
			return
		}
		f(w, r)
	}
}

type publishRequest struct {
	Room string          `json:"room"`
	Data json.RawMessage `json:"data"`
}

func (h *Handler) publish(w http.ResponseWriter, r *http.Request) {
	var req publishRequest
	if !h.decode(w, r, &req) {
		return
	}
	switch {
	case req.Room == "":
		writeError(w, http.StatusBadRequest, `"room" is required`)
		return
	case isNull(req.Data):
		writeError(w, http.StatusBadRequest, `"data" is required`)
		return
	}
	p, err := h.chat.Publish(r.Context(), h.cfg.Sender, req.Room, req.Data)
	if err != nil {
		writeChatError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

type sendRequest struct {
	Receiver string          `json:"receiver"`
	Data     json.RawMessage `json:"data"`
}

func (h *Handler) send(w http.ResponseWriter, r *http.Request) {
	var req sendRequest
	if !h.decode(w, r, &req) {
		return
	}
	switch {
	case req.Receiver == "":
		writeError(w, http.StatusBadRequest, `"receiver" is required`)
		return
	case isNull(req.Data):
		writeError(w, http.StatusBadRequest, `"data" is required`)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.cfg.SendTimeout)
	defer cancel()
	s, err := h.chat.Send(ctx, h.cfg.Sender, req.Receiver, req.Data)
	if err != nil {
		writeChatError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, s)
}

type disconnectRequest struct {
	User   string `json:"user"`
	Reason string `json:"reason"`
}

type disconnectAnswer struct {
	User     string `json:"user"`
	Sessions int    `json:"sessions"`
}

func (h *Handler) disconnect(w http.ResponseWriter, r *http.Request) {
	var req disconnectRequest
	if !h.decode(w, r, &req) {
		return
	}
	switch {
	case req.User == "":
		writeError(w, http.StatusBadRequest, `"user" is required`)
		return
	case len(req.Reason) > maxReasonBytes || !utf8.ValidString(req.Reason):
		writeError(w, http.StatusBadRequest, fmt.Sprintf(`"reason" must be valid UTF-8 of at most %d bytes`, maxReasonBytes))
		return
	}
	if req.Reason == "" {
		req.Reason = "disconnected by the server"
	}
	n, err := h.chat.Disconnect(req.User, req.Reason)
	if err != nil {
		writeChatError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, disconnectAnswer{User: req.User, Sessions: n})
}

type onlineAnswer struct {
	Users []string `json:"users"`
	More  bool     `json:"more"`
	Next  string   `json:"next,omitempty"`
}

func (h *Handler) online(w http.ResponseWriter, r *http.Request) {
	after, limit, ok := h.paging(w, r)
	if !ok {
		return
	}
	names, more := h.chat.Online(after, limit)
	a := onlineAnswer{Users: names, More: more}
	if a.Users == nil {
		a.Users = []string{}
	}
	if more && len(names) > 0 {
		a.Next = names[len(names)-1]
	}
	writeJSON(w, http.StatusOK, a)
}

type roomsAnswer struct {
	Rooms []RoomInfo `json:"rooms"`
	More  bool       `json:"more"`
	Next  string     `json:"next,omitempty"`
}

func (h *Handler) rooms(w http.ResponseWriter, r *http.Request) {
	after, limit, ok := h.paging(w, r)
	if !ok {
		return
	}
	rooms, more := h.chat.Rooms(after, limit)
	a := roomsAnswer{Rooms: rooms, More: more}
	if a.Rooms == nil {
		a.Rooms = []RoomInfo{}
	}
	if more && len(rooms) > 0 {
		a.Next = rooms[len(rooms)-1].Name
	}
	writeJSON(w, http.StatusOK, a)
}

func (h *Handler) room(w http.ResponseWriter, r *http.Request) {
	after, limit, ok := h.paging(w, r)
	if !ok {
		return
	}
	rm, err := h.chat.Room(r.PathValue("room"), after, limit)
	if err != nil {
		writeChatError(w, err)
		return
	}
	if rm.Users == nil {
		rm.Users = []string{}
	}
	if rm.More && len(rm.Users) > 0 {
		rm.Next = rm.Users[len(rm.Users)-1]
	}
	writeJSON(w, http.StatusOK, rm)
}

// paging reads ?after= and ?limit= (default and cap api.page_limit).
func (h *Handler) paging(w http.ResponseWriter, r *http.Request) (after string, limit int, ok bool) {
	q := r.URL.Query()
	limit = h.cfg.PageLimit
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, `"limit" must be a positive integer`)
			return "", 0, false
		}
		limit = min(n, h.cfg.PageLimit)
	}
	return q.Get("after"), limit, true
}

// decode reads the body as exactly one JSON object into v, answering 413,
// 415 or 400 when it cannot.
func (h *Handler) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			writeError(w, http.StatusUnsupportedMediaType, "Content-Type must be application/json")
			return false
		}
	}
	if r.ContentLength > h.cfg.MaxBodyBytes {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body over api.max_body_bytes (%d)", h.cfg.MaxBodyBytes))
		return false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body over api.max_body_bytes (%d)", h.cfg.MaxBodyBytes))
		} else {
			writeError(w, http.StatusBadRequest, "reading the body: "+err.Error())
		}
		return false
	}
	if !utf8.Valid(body) {
		// encoding/json would take invalid UTF-8 into a RawMessage as is,
		// and members would get a text frame that is not UTF-8, which
		// RFC 6455 clients must fail (a user's such frame gets 1007).
		writeError(w, http.StatusBadRequest, "bad JSON: the body is not valid UTF-8")
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "bad JSON: "+err.Error())
		return false
	}
	if dec.More() {
		writeError(w, http.StatusBadRequest, "bad JSON: more than one value in the body")
		return false
	}
	return true
}

func isNull(d json.RawMessage) bool {
	return len(d) == 0 || string(d) == "null"
}

type errorAnswer struct {
	Error string `json:"error"`
}

func writeChatError(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, ErrInvalid):
		status = http.StatusBadRequest
	case errors.Is(err, ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, ErrNotKept):
		status = http.StatusConflict
	case errors.Is(err, ErrFull):
		status = http.StatusInsufficientStorage
	case errors.Is(err, ErrUnavailable):
		status = http.StatusServiceUnavailable
	case errors.Is(err, ErrTimeout):
		status = http.StatusGatewayTimeout
	}
	writeError(w, status, err.Error())
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorAnswer{Error: msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"encoding the answer failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

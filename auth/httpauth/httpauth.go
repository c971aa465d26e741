package httpauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/chatd/chatd/auth"
)

// MaxResponseBytes is the most of a response body that is read.
const MaxResponseBytes = 64 << 10

// ReasonRefused is the reason for a 4xx answer that gives none.
const ReasonRefused = "login refused"

// Authenticator asks the auth service. It is safe for concurrent use; its
// fields are read-only after New, and http.Client is itself safe.
type Authenticator struct {
	url       string
	timeout   time.Duration
	client    *http.Client
	transport *http.Transport
}

var _ auth.Authenticator = (*Authenticator)(nil)

// New returns an Authenticator for cfg, or cfg's validation error. It does
// not contact the service.
func New(cfg Config) (*Authenticator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 32 // logins come in bursts; the default of 2 churns connections
	return &Authenticator{
		url:       cfg.URL,
		timeout:   cfg.Timeout,
		transport: t,
		client: &http.Client{
			Transport: t,
			Timeout:   cfg.Timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
	}, nil
}

// Close closes idle connections to the service. The Authenticator stays
// usable; a later login opens a new connection.
func (a *Authenticator) Close() error {
	a.transport.CloseIdleConnections()
	return nil
}

// ParseText sends the whole text as "text", and splits it at the first ':'
// into name and password (all name when there is no ':'), untrimmed.
func (*Authenticator) ParseText(text string) auth.Credentials {
	name, password, _ := strings.Cut(text, ":")
	return auth.Credentials{Name: name, Password: password, Text: text}
}

// request is the body chatd sends.
type request struct {
	Name     string `json:"name,omitempty"`
	Password string `json:"password,omitempty"`
	Token    string `json:"token,omitempty"`
	Text     string `json:"text,omitempty"`
}

// accepted is the body of a 200 answer.
type accepted struct {
	Name        *string `json:"name"`
	MaxSessions int     `json:"max_sessions"`
}

// refused is the body of a 4xx answer.
type refused struct {
	Error  string `json:"error"`
	Reason string `json:"reason"`
}

// Authenticate asks the service about c. See the package documentation for
// how answers map to identities, rejections and backend errors. It blocks
// for at most auth.http.timeout, less if ctx is done sooner.
func (a *Authenticator) Authenticate(ctx context.Context, c auth.Credentials) (auth.Identity, error) {
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	body, err := json.Marshal(request{Name: c.Name, Password: c.Password, Token: c.Token, Text: c.Text})
	if err != nil {
		return auth.Identity{}, fmt.Errorf("auth service: encode request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.url, bytes.NewReader(body))
	if err != nil {
		return auth.Identity{}, fmt.Errorf("auth service: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "chatd")

	resp, err := a.client.Do(req)
	if err != nil {
		return auth.Identity{}, fmt.Errorf("auth service: %w", err) // *url.Error: names the method and the URL, without its password
	}
	defer func() {
		// Drain a little so the connection can be reused; a bigger rest is
		// cheaper to drop with the connection.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		_ = resp.Body.Close()
	}()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return auth.Identity{}, fmt.Errorf("auth service: read %s answer: %w", resp.Status, err)
	}
	tooBig := len(data) > MaxResponseBytes

	switch code := resp.StatusCode; {
	case code == http.StatusOK:
		if tooBig {
			return auth.Identity{}, fmt.Errorf("auth service: 200 answer longer than %d bytes", MaxResponseBytes)
		}
		return identity(data)
	case code >= 400 && code < 500:
		if tooBig {
			return auth.Identity{}, auth.Reject(ReasonRefused)
		}
		var r refused
		_ = json.Unmarshal(data, &r) // a body that is not JSON gives no reason
		reason := cleanReason(r.Error)
		if reason == "" {
			reason = cleanReason(r.Reason)
		}
		if reason == "" {
			reason = ReasonRefused
		}
		return auth.Identity{}, auth.Reject(reason)
	default:
		var r refused
		if !tooBig && json.Unmarshal(data, &r) == nil && cleanReason(r.Error) != "" {
			return auth.Identity{}, fmt.Errorf("auth service answered %s: %s", resp.Status, cleanReason(r.Error))
		}
		return auth.Identity{}, fmt.Errorf("auth service answered %s", resp.Status)
	}
}

// identity reads the body of a 200 answer.
func identity(data []byte) (auth.Identity, error) {
	var ok accepted
	if err := json.Unmarshal(data, &ok); err != nil {
		return auth.Identity{}, fmt.Errorf(`auth service: 200 answer: want JSON {"name": ...}: %w`, err)
	}
	switch {
	case ok.Name == nil:
		return auth.Identity{}, errors.New(`auth service: 200 answer without "name"`)
	case ok.MaxSessions < 0:
		return auth.Identity{}, fmt.Errorf(`auth service: 200 answer with "max_sessions" %d; want 0 or more`, ok.MaxSessions)
	}
	name, err := auth.CanonicalName(*ok.Name)
	if err != nil {
		reason, _ := auth.IsRejection(err)
		return auth.Identity{}, fmt.Errorf("auth service: 200 answer with name %q: %s", *ok.Name, reason)
	}
	return auth.Identity{Name: name, MaxSessions: ok.MaxSessions}, nil
}

// cleanReason makes a service's reason fit for a client: valid UTF-8, one
// line (control characters and runs of white space become one space), at
// most auth.MaxReasonBytes bytes, cut at a character boundary.
func cleanReason(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > auth.MaxReasonBytes {
		cut := auth.MaxReasonBytes
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = strings.TrimSpace(s[:cut])
	}
	return s
}

package scenario

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"
)

// A run may name several servers, the nodes of a cluster: Config.URL holds
// one endpoint or several separated by commas, and Config.PIDs one server
// process or several. The users are spread over the URLs (spread), so
// messages cross from node to node; the invariants are checked by the
// clients, whichever node a user is on.

// URLs returns the endpoints in c.URL, separated by commas (or spaces).
func (c Config) URLs() []string { return splitList(c.URL) }

// splitList splits a list separated by commas or white space, dropping
// empty entries.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
}

// spread assigns each user (global index) to one of the run's URLs. User i
// connects to URL i mod n, except in the private scenario with partners
// over several URLs: there user j and its partner N/2+j write to each other,
// so the second half is rotated by one, user N/2+j connecting to URL
// (j+1) mod n, and the two ends of every pair are on different URLs. (N
// must be even then: with an odd N the partners form one odd cycle, which
// two URLs cannot split.) Either way each half of the users is spread
// evenly, so every URL gets N/n users, give or take two.
//
// A spread is a small value, safe for concurrent use.
type spread struct {
	urls int // n, at least 1
	half int // N/2 when the second half is rotated, else 0
}

// spread returns c's rule; c went through WithDefaults.
func (c Config) spread() spread {
	s := spread{urls: max(len(c.URLs()), 1)}
	if s.urls > 1 && c.Scenario == Private && c.Receiver == "partner" {
		s.half = c.N / 2
	}
	return s
}

// node is the index in URLs of user i's endpoint.
func (s spread) node(i int) int {
	if s.half > 0 && i >= s.half {
		return (i - s.half + 1) % s.urls
	}
	return i % s.urls
}

// validateURLs checks c's URLs: each ws://host:port/path, no two the same,
// and one path for all (the path decides login and the endpoint's kind).
func (c Config) validateURLs() []error {
	var errs []error
	urls := c.URLs()
	if len(urls) == 0 {
		return []error{errors.New("url: none given")}
	}
	path := ""
	for i, s := range urls {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
			errs = append(errs, fmt.Errorf("url %q: want ws://host:port/path or wss://host:port/path", s))
			continue
		}
		if slices.Contains(urls[:i], s) {
			errs = append(errs, fmt.Errorf("url %q given twice", s))
		}
		if i == 0 {
			path = u.Path
		} else if u.Path != path {
			errs = append(errs, fmt.Errorf("url %q: every URL needs the same path (%q)", s, path))
		}
	}
	if len(urls) > 1 && c.Scenario == Private && c.Receiver == "partner" && c.N%2 != 0 {
		errs = append(errs, fmt.Errorf("private with partners over %d URLs needs an even n (got %d), so each pair spans two URLs", len(urls), c.N))
	}
	return errs
}

// PIDs are the server processes sampled from /proc; with several (the
// nodes of a cluster) every sample is their sum. As a flag and in YAML it
// is one number or several separated by commas or spaces; YAML also takes
// a list. Set replaces the list, so a flag overrides the config file.
type PIDs []int

// String lists the PIDs separated by commas.
func (p PIDs) String() string {
	s := make([]string, len(p))
	for i, v := range p {
		s[i] = strconv.Itoa(v)
	}
	return strings.Join(s, ",")
}

// Set parses "1234" or "1234,5678" (or "1234 5678", what pidof prints).
func (p *PIDs) Set(s string) error {
	var out PIDs
	for _, f := range splitList(s) {
		v, err := strconv.Atoi(f)
		if err != nil || v <= 0 {
			return fmt.Errorf("pid %q: want a process id", f)
		}
		out = append(out, v)
	}
	*p = out
	return nil
}

// UnmarshalYAML accepts a number, a string of numbers or a list.
func (p *PIDs) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.SequenceNode {
		var v []int
		if err := n.Decode(&v); err != nil {
			return err
		}
		*p = v
		return nil
	}
	if err := p.Set(n.Value); err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	return nil
}

// validate checks that every PID is positive and given once.
func (p PIDs) validate() error {
	for i, v := range p {
		if v <= 0 {
			return fmt.Errorf("pid %d: want a process id", v)
		}
		if slices.Contains(p[:i], v) {
			return fmt.Errorf("pid %d given twice", v)
		}
	}
	return nil
}

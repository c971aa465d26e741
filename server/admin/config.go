package admin

import (
	"fmt"
	"net"
)

// Config is the admin: section of chatd's configuration.
type Config struct {
	// Listen is the admin listener's TCP address; empty turns it off.
	// Usually "127.0.0.1:9090": the listener serves metrics and, with
	// Pprof, profiles, so keep it off public interfaces. It may not be
	// server.listen (cmd/chatd checks). Default "".
	Listen string `yaml:"listen"`
	// Pprof serves /debug/pprof/ on the admin listener. Default false.
	Pprof bool `yaml:"pprof"`
}

// Default returns the built-in defaults, those of configs/chatd.yaml's
// admin: section.
func Default() Config { return Config{} }

// Enabled reports whether the admin listener is on.
func (c Config) Enabled() bool { return c.Listen != "" }

// Validate reports every invalid field, named by its YAML key path.
func (c Config) Validate() error {
	if c.Listen == "" {
		return nil
	}
	if _, port, err := net.SplitHostPort(c.Listen); err != nil {
		return fmt.Errorf("admin.listen %q: want host:port such as 127.0.0.1:9090 (%v)", c.Listen, err)
	} else if _, err := net.LookupPort("tcp", port); err != nil {
		return fmt.Errorf("admin.listen %q: want a port from 0 to 65535 (%v)", c.Listen, err)
	}
	return nil
}

// Overlaps reports whether the addresses a and b (host:port) could be the
// same listener: the same port, not 0, on the same host or where either
// host is a wildcard (empty, 0.0.0.0, ::). Invalid addresses never
// overlap (Validate reports them).
func Overlaps(a, b string) bool {
	ha, pa, err := net.SplitHostPort(a)
	if err != nil {
		return false
	}
	hb, pb, err := net.SplitHostPort(b)
	if err != nil {
		return false
	}
	na, errA := net.LookupPort("tcp", pa)
	nb, errB := net.LookupPort("tcp", pb)
	if errA != nil || errB != nil || na == 0 || na != nb {
		return false
	}
	wild := func(h string) bool { return h == "" || h == "0.0.0.0" || h == "::" || h == "[::]" }
	if wild(ha) || wild(hb) || ha == hb {
		return true
	}
	ia, ib := net.ParseIP(ha), net.ParseIP(hb)
	return ia != nil && ib != nil && ia.Equal(ib)
}

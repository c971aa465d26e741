package cluster

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Config is the cluster: section of chatd's configuration: whether this
// chatd is one node of several, its name, and the NATS it shares with the
// others. Each field documents its default (DefaultConfig); Validate names a
// bad one by its YAML key path.
type Config struct {
	// Enabled makes this chatd one node of a cluster. When false chatd is a
	// single node, as before cluster mode, and the rest of the section is
	// not used (except nats.embedded by `chatd nats`). Default false.
	Enabled bool `yaml:"enabled"`
	// Node is this node's name, unique in the cluster: letters, digits, "_"
	// and "-" (a NATS subject token), at most 64. "" means hostname-pid
	// (NodeName), a new name at each start. It is also the embedded NATS
	// server's name, which a mesh member must keep across restarts, so it
	// must be set when nats.embedded.cluster_listen is. Default "".
	Node string `yaml:"node"`
	// PresenceTTL is how long a node's users stay online for the other
	// nodes after it stopped refreshing them (it died or lost NATS); they
	// can then log in elsewhere. "2s" to "10m". Default "15s".
	PresenceTTL time.Duration `yaml:"presence_ttl"`
	NATS        NATSConfig    `yaml:"nats"`
	// JoinWait bounds how long the first join of a room on this node
	// waits for the room's stream (FollowRoom's Ready) while NATS does
	// not answer. Not in the YAML (tests set it); 0 means 3 s.
	JoinWait time.Duration `yaml:"-"`
	// StreamSlack is how many messages a room's stream keeps beyond
	// history.messages, for nodes behind. Not in the YAML (tests set it);
	// 0 means 4096.
	StreamSlack int `yaml:"-"`
}

// NATSConfig says which NATS the nodes share: an existing one (URLs) or
// one run inside this process (Embedded), and how JetStream replicates.
type NATSConfig struct {
	// URLs are the NATS servers to connect to, nats:// or tls://, such as
	// "nats://10.0.0.5:4222". Empty means this process's embedded server
	// (Embedded must be enabled then). Default none.
	URLs []string `yaml:"urls"`
	// Embedded runs a NATS server inside this process.
	Embedded EmbeddedConfig `yaml:"embedded"`
	// Replicas is the number of JetStream replicas of mailboxes, history
	// and presence: 1 to 5, at most the number of NATS servers (3 in a
	// 3-server mesh). Default 1.
	Replicas int `yaml:"replicas"`
}

// EmbeddedConfig is a NATS server with JetStream run inside chatd (or alone
// by `chatd nats`). JetStream writes are synced to disk before they are
// acknowledged.
type EmbeddedConfig struct {
	// Enabled runs the server. Default false.
	Enabled bool `yaml:"enabled"`
	// Listen is the host:port NATS clients connect to; port 0 picks a free
	// one. Default "127.0.0.1:4222".
	Listen string `yaml:"listen"`
	// ClusterListen is the host:port other embedded servers route to; ""
	// means no mesh (a single NATS server). Default "".
	ClusterListen string `yaml:"cluster_listen"`
	// Routes are the cluster_listen URLs of the mesh's servers, such as
	// "nats://10.0.0.6:6222". List all of them, this one included (it is
	// skipped): JetStream takes the mesh's size from this list. Needs
	// ClusterListen. Default none.
	Routes []string `yaml:"routes"`
	// StoreDir is the JetStream store directory, one per server.
	// Default "./data/nats".
	StoreDir string `yaml:"store_dir"`
}

// Limits of Validate.
const (
	minPresenceTTL = 2 * time.Second
	maxPresenceTTL = 10 * time.Minute
	maxReplicas    = 5 // JetStream's own limit
	maxNodeLen     = 64
)

// DefaultConfig returns the built-in defaults, those of configs/chatd.yaml's
// cluster: section.
func DefaultConfig() Config {
	return Config{
		Enabled:     false,
		Node:        "",
		PresenceTTL: 15 * time.Second,
		NATS: NATSConfig{
			URLs: []string{},
			Embedded: EmbeddedConfig{
				Enabled:       false,
				Listen:        "127.0.0.1:4222",
				ClusterListen: "",
				Routes:        []string{},
				StoreDir:      "./data/nats",
			},
			Replicas: 1,
		},
	}
}

// NodeName returns Node, or when it is empty the host name and process id
// ("web-3-12345"), every byte that is not a letter, digit, "_" or "-"
// replaced by "-", so the name is a NATS subject token.
func (c Config) NodeName() string {
	if c.Node != "" {
		return c.Node
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "chatd"
	}
	return sanitizeToken(fmt.Sprintf("%s-%d", host, os.Getpid()))
}

// sanitizeToken replaces each byte of s that is not [A-Za-z0-9_-] by "-".
func sanitizeToken(s string) string {
	b := []byte(s)
	for i, ch := range b {
		if !isTokenByte(ch) {
			b[i] = '-'
		}
	}
	return string(b)
}

func isTokenByte(ch byte) bool {
	return ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '_' || ch == '-'
}

// validNode reports whether name is 1 to maxNodeLen token bytes.
func validNode(name string) bool {
	if name == "" || len(name) > maxNodeLen {
		return false
	}
	for i := range len(name) {
		if !isTokenByte(name[i]) {
			return false
		}
	}
	return true
}

// Validate reports every invalid field, one per line, named by its YAML key
// path (cluster.…). A disabled cluster is checked only for what `chatd nats`
// uses: node and nats.embedded, when nats.embedded.enabled is set.
func (c Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	e := c.NATS.Embedded
	if !c.Enabled && !e.Enabled {
		return nil
	}
	if c.Node != "" && !validNode(c.Node) {
		add("cluster.node %q: want 1 to %d letters, digits, \"_\" or \"-\" (or \"\" for hostname-pid)", c.Node, maxNodeLen)
	}
	if c.Enabled {
		if c.PresenceTTL < minPresenceTTL || c.PresenceTTL > maxPresenceTTL {
			add("cluster.presence_ttl %v: want \"2s\" to \"10m\"", c.PresenceTTL)
		}
		if len(c.NATS.URLs) == 0 && !e.Enabled {
			add("cluster.nats: want urls or embedded.enabled: true (a cluster needs a NATS)")
		}
		for i, u := range c.NATS.URLs {
			if err := checkURL(u, "nats://10.0.0.5:4222", "nats", "tls"); err != nil {
				add("cluster.nats.urls[%d] %q: %v", i, u, err)
			}
		}
		r := c.NATS.Replicas
		switch {
		case r < 1 || r > maxReplicas:
			add("cluster.nats.replicas %d: want 1 to %d", r, maxReplicas)
		case r > 1 && len(c.NATS.URLs) == 0 && e.ClusterListen == "":
			add("cluster.nats.replicas %d: a single embedded NATS server keeps 1 replica; "+
				"want 1, or a mesh (embedded.cluster_listen and routes), or urls of a NATS cluster", r)
		}
	}
	if e.Enabled {
		errs = append(errs, e.validate(c.Node)...)
	}
	return errors.Join(errs...)
}

// validate checks an enabled embedded server; node is cluster.node.
func (e EmbeddedConfig) validate(node string) []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if err := checkHostPort(e.Listen); err != nil {
		add("cluster.nats.embedded.listen %q: %v", e.Listen, err)
	}
	if e.ClusterListen != "" {
		if err := checkHostPort(e.ClusterListen); err != nil {
			add("cluster.nats.embedded.cluster_listen %q: %v", e.ClusterListen, err)
		}
		if len(e.Routes) == 0 {
			add("cluster.nats.embedded.routes: want the mesh's servers, such as [\"nats://10.0.0.6:6222\"], when cluster_listen is set (JetStream needs them)")
		}
		if node == "" {
			add("cluster.node: want a name that stays the same across restarts when cluster.nats.embedded.cluster_listen is set " +
				"(JetStream knows a mesh member by its server name, the node name)")
		}
	} else if len(e.Routes) > 0 {
		add("cluster.nats.embedded.routes: want cluster_listen set too (routes join a mesh through it)")
	}
	for i, r := range e.Routes {
		if err := checkURL(r, "nats://10.0.0.6:6222", "nats", "nats-route", "tls"); err != nil {
			add("cluster.nats.embedded.routes[%d] %q: %v", i, r, err)
		}
	}
	if strings.TrimSpace(e.StoreDir) == "" {
		add("cluster.nats.embedded.store_dir: want a directory, such as \"./data/nats\"")
	}
	return errs
}

// checkHostPort accepts host:port with a numeric port from 0 to 65535.
func checkHostPort(addr string) error {
	_, _, err := splitHostPort(addr)
	return err
}

// splitHostPort splits host:port, the port a number from 0 to 65535.
func splitHostPort(addr string) (string, int, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("want host:port (%v)", err)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return "", 0, fmt.Errorf("want a port from 0 to 65535, got %q", port)
	}
	return host, n, nil
}

// checkURL accepts scheme://host[:port] with one of schemes and nothing
// after the address; example is a good one, for the error.
func checkURL(s, example string, schemes ...string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("want a URL such as %s (%v)", example, err)
	}
	if !slices.Contains(schemes, u.Scheme) || u.Hostname() == "" || u.Opaque != "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("want a URL such as %s (scheme %s)", example, strings.Join(schemes, ", "))
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("want a port from 1 to 65535, got %q", p)
		}
	}
	return nil
}

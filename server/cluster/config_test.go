package cluster

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestDefaultConfigValid(t *testing.T) {
	c := DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatalf("DefaultConfig().Validate() = %v", err)
	}
	if c.Enabled || c.NATS.Embedded.Enabled {
		t.Errorf("default enables the cluster (%v) or the embedded server (%v); want single node", c.Enabled, c.NATS.Embedded.Enabled)
	}
	// Enabled as the defaults suggest, both ways, it is still valid.
	c.Enabled, c.NATS.Embedded.Enabled = true, true
	if err := c.Validate(); err != nil {
		t.Errorf("defaults with enabled and embedded.enabled: %v", err)
	}
	c.NATS.Embedded.Enabled, c.NATS.URLs = false, []string{"nats://10.0.0.5:4222", "tls://nats.example.com"}
	if err := c.Validate(); err != nil {
		t.Errorf("defaults with enabled and urls: %v", err)
	}
}

// meshConfig returns a valid config of one member of a 3-server embedded mesh.
func meshConfig() Config {
	c := DefaultConfig()
	c.Enabled = true
	c.Node = "n1"
	c.NATS.Replicas = 3
	c.NATS.Embedded = EmbeddedConfig{
		Enabled:       true,
		Listen:        "0.0.0.0:4222",
		ClusterListen: "0.0.0.0:6222",
		Routes:        []string{"nats://10.0.0.5:6222", "nats-route://10.0.0.6:6222", "tls://node-3.example.com:6222"},
		StoreDir:      "/var/lib/chatd/nats",
	}
	return c
}

func TestValidateMeshValid(t *testing.T) {
	if err := meshConfig().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(c *Config)
		wants []string // each must appear in the error
	}{
		{"no nats", func(c *Config) { c.NATS.Embedded.Enabled = false; c.NATS.URLs = nil },
			[]string{"cluster.nats: want urls or embedded.enabled"}},
		{"node with dot", func(c *Config) { c.Node = "web.1" }, []string{`cluster.node "web.1"`}},
		{"node with space", func(c *Config) { c.Node = "web 1" }, []string{`cluster.node "web 1"`}},
		{"node with wildcard", func(c *Config) { c.Node = "web*" }, []string{`cluster.node "web*"`}},
		{"node too long", func(c *Config) { c.Node = strings.Repeat("n", 65) }, []string{"cluster.node \"nnnn"}},
		{"presence ttl short", func(c *Config) { c.PresenceTTL = time.Second }, []string{`cluster.presence_ttl 1s: want "2s" to "10m"`}},
		{"presence ttl long", func(c *Config) { c.PresenceTTL = 11 * time.Minute }, []string{"cluster.presence_ttl 11m0s"}},
		{"replicas 0", func(c *Config) { c.NATS.Replicas = 0 }, []string{"cluster.nats.replicas 0: want 1 to 5"}},
		{"replicas 6", func(c *Config) { c.NATS.Replicas = 6 }, []string{"cluster.nats.replicas 6: want 1 to 5"}},
		{"replicas 3 on one server", func(c *Config) { c.NATS.Embedded.ClusterListen = ""; c.NATS.Embedded.Routes = nil },
			[]string{"cluster.nats.replicas 3: a single embedded NATS server keeps 1 replica"}},
		{"url without scheme", func(c *Config) { c.NATS.URLs = []string{"10.0.0.5:4222"} }, []string{`cluster.nats.urls[0] "10.0.0.5:4222"`}},
		{"url http", func(c *Config) { c.NATS.URLs = []string{"nats://a:4222", "http://a:4222"} }, []string{`cluster.nats.urls[1] "http://a:4222"`}},
		{"url no host", func(c *Config) { c.NATS.URLs = []string{"nats://:4222"} }, []string{`cluster.nats.urls[0] "nats://:4222"`}},
		{"url bad port", func(c *Config) { c.NATS.URLs = []string{"nats://a:70000"} }, []string{`cluster.nats.urls[0] "nats://a:70000"`}},
		{"url path", func(c *Config) { c.NATS.URLs = []string{"nats://a:4222/x"} }, []string{`cluster.nats.urls[0]`}},
		{"listen no port", func(c *Config) { c.NATS.Embedded.Listen = "127.0.0.1" }, []string{`cluster.nats.embedded.listen "127.0.0.1"`}},
		{"listen named port", func(c *Config) { c.NATS.Embedded.Listen = "127.0.0.1:http" }, []string{`cluster.nats.embedded.listen "127.0.0.1:http"`}},
		{"cluster listen bad", func(c *Config) { c.NATS.Embedded.ClusterListen = "6222" }, []string{`cluster.nats.embedded.cluster_listen "6222"`}},
		{"routes without cluster listen", func(c *Config) { c.NATS.Embedded.ClusterListen = ""; c.NATS.Replicas = 1 },
			[]string{"cluster.nats.embedded.routes: want cluster_listen set too"}},
		{"cluster listen without routes", func(c *Config) { c.NATS.Embedded.Routes = nil },
			[]string{"cluster.nats.embedded.routes: want the mesh's servers"}},
		{"route bad", func(c *Config) { c.NATS.Embedded.Routes[2] = "10.0.0.7:6222" }, []string{`cluster.nats.embedded.routes[2] "10.0.0.7:6222"`}},
		{"mesh without node", func(c *Config) { c.Node = "" }, []string{"cluster.node: want a name that stays the same across restarts"}},
		{"store dir empty", func(c *Config) { c.NATS.Embedded.StoreDir = " " }, []string{"cluster.nats.embedded.store_dir"}},
		{"embedded alone is checked", func(c *Config) { c.Enabled = false; c.NATS.Embedded.Listen = "x" },
			[]string{`cluster.nats.embedded.listen "x"`}},
		{"every error at once", func(c *Config) {
			c.Node = "a.b"
			c.PresenceTTL = 0
			c.NATS.Replicas = 9
			c.NATS.URLs = []string{"ws://a"}
			c.NATS.Embedded.Listen = ""
			c.NATS.Embedded.StoreDir = ""
		}, []string{"cluster.node", "cluster.presence_ttl", "cluster.nats.replicas", "cluster.nats.urls[0]",
			"cluster.nats.embedded.listen", "cluster.nats.embedded.store_dir"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := meshConfig()
			tc.edit(&c)
			err := c.Validate()
			if err == nil {
				t.Fatalf("no error; want %q", tc.wants)
			}
			for _, w := range tc.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not mention %q", err, w)
				}
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "cluster.") {
					t.Errorf("line %q does not start with its key path", line)
				}
			}
		})
	}
}

// TestValidateDisabledSkipsChecks: with the cluster and the embedded server
// off, nothing else in the section is looked at.
func TestValidateDisabledSkipsChecks(t *testing.T) {
	c := meshConfig()
	c.Enabled = false
	c.NATS.Embedded.Enabled = false
	c.Node = "not a token"
	c.PresenceTTL = 0
	c.NATS.Replicas = 0
	c.NATS.URLs = []string{"junk"}
	c.NATS.Embedded.Listen = ""
	if err := c.Validate(); err != nil {
		t.Fatalf("disabled cluster: %v", err)
	}
}

func TestNodeName(t *testing.T) {
	c := DefaultConfig()
	c.Node = "web-1"
	if got := c.NodeName(); got != "web-1" {
		t.Errorf("NodeName() = %q, want web-1", got)
	}
	c.Node = ""
	got := c.NodeName()
	if !regexp.MustCompile(`^[A-Za-z0-9_-]+$`).MatchString(got) {
		t.Errorf("NodeName() = %q: not a NATS subject token", got)
	}
	if want := "-" + strconv.Itoa(os.Getpid()); !strings.HasSuffix(got, want) {
		t.Errorf("NodeName() = %q, want it to end in %q", got, want)
	}
	if got != c.NodeName() {
		t.Errorf("NodeName() changed between calls")
	}
}

func TestSanitizeToken(t *testing.T) {
	cases := map[string]string{
		"web-1.example.com-42": "web-1-example-com-42",
		"a b*c>d_e":            "a-b-c-d_e",
		"héllo":                "h--llo",
		"plain_Name-9":         "plain_Name-9",
	}
	for in, want := range cases {
		if got := sanitizeToken(in); got != want {
			t.Errorf("sanitizeToken(%q) = %q, want %q", in, got, want)
		}
		if !validNode(sanitizeToken(in)) {
			t.Errorf("sanitizeToken(%q) is not a valid node name", in)
		}
	}
}

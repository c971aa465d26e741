package compare

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"go.yaml.in/yaml/v3"
)

// Server names.
const (
	Chatd    = "chatd"
	Baseline = "baseline"
)

// defaultServerConfig is the chatd config used without a template.
const defaultServerConfig = `log:
  level: warn
chat:
  rate:
    messages_per_second: 1000000
    burst: 1000000
  rooms:
    presence: false
`

// server is a started server process.
type server struct {
	name string
	addr string // 127.0.0.1:port
	cmd  *exec.Cmd
	done chan struct{} // closed when the process exited
}

// startServer starts a fresh server name on a free loopback port, logging
// to dir, and waits until it accepts connections.
func startServer(ctx context.Context, opt Options, name, dir string, n int) (*server, error) {
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	var cmd *exec.Cmd
	switch name {
	case Chatd:
		cfg, err := chatdConfig(opt.ServerConfig, addr, filepath.Join(dir, fmt.Sprintf("mailbox-%d", n)))
		if err != nil {
			return nil, err
		}
		path := filepath.Join(dir, fmt.Sprintf("chatd-%d.yaml", n))
		if err := os.WriteFile(path, cfg, 0o600); err != nil {
			return nil, err
		}
		cmd = exec.Command(opt.Chatd, "-config", path)
	case Baseline:
		cmd = exec.Command(opt.Baseline, "-addr", addr)
	default:
		return nil, fmt.Errorf("unknown server %q", name)
	}
	logf, err := os.Create(filepath.Join(dir, fmt.Sprintf("%s-%d.log", name, n)))
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	s := &server{name: name, addr: addr, cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); logf.Close(); close(s.done) }()
	for deadline := time.Now().Add(15 * time.Second); ; {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("%s exited at start; see %s", name, logf.Name())
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("%s not listening on %s after 15s", name, addr)
		}
	}
	time.Sleep(300 * time.Millisecond) // let start-up allocation settle before the "before" sample
	return s, nil
}

// pid is the server's process id.
func (s *server) pid() int { return s.cmd.Process.Pid }

// stop ends the server: SIGTERM, then SIGKILL after 5 s.
func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// freePort returns a loopback address that was free a moment ago.
func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// chatdConfig is the template (or the default) with server.listen and
// chat.mailbox.dir set.
func chatdConfig(template, addr, mailboxDir string) ([]byte, error) {
	src := []byte(defaultServerConfig)
	if template != "" {
		var err error
		if src, err = os.ReadFile(template); err != nil {
			return nil, err
		}
	}
	var doc map[string]any
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", template, err)
	}
	if doc == nil {
		doc = map[string]any{}
	}
	section := func(m map[string]any, key string) map[string]any {
		s, _ := m[key].(map[string]any)
		if s == nil {
			s = map[string]any{}
			m[key] = s
		}
		return s
	}
	section(doc, "server")["listen"] = addr
	section(section(doc, "chat"), "mailbox")["dir"] = mailboxDir
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return buf.Bytes(), enc.Close()
}

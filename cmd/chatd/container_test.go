package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// containerFile builds the image (docs/OPERATIONS.md). No container tool or
// registry is needed to test it: TestContainerfile reads it.
const containerFile = "../../configs/Containerfile"

// instruction is one Containerfile instruction, continuation lines joined.
type instruction struct {
	cmd  string // upper case: FROM, RUN, COPY, ...
	args string
	line int
}

// stage is one FROM and the instructions after it.
type stage struct {
	from, name string
	body       []instruction
}

// all returns the stage's instructions of one kind.
func (s stage) all(cmd string) []instruction {
	var out []instruction
	for _, in := range s.body {
		if in.cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// last returns the stage's last instruction of one kind: the one that
// counts for USER, WORKDIR, ENTRYPOINT and CMD.
func (s stage) last(t *testing.T, cmd string) instruction {
	t.Helper()
	ins := s.all(cmd)
	if len(ins) == 0 {
		t.Fatalf("stage %q has no %s", s.name, cmd)
	}
	return ins[len(ins)-1]
}

// parseContainerfile reads the stages of a Containerfile: comments and
// blank lines dropped, lines ending in \ joined to the next.
func parseContainerfile(t *testing.T, file string) []stage {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var stages []stage
	var pending strings.Builder
	start := 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		if pending.Len() == 0 {
			start = n
		}
		if cont, ok := strings.CutSuffix(line, `\`); ok {
			pending.WriteString(cont + " ")
			continue
		}
		pending.WriteString(line)
		cmd, args, _ := strings.Cut(pending.String(), " ")
		pending.Reset()
		in := instruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args), line: start}
		if in.cmd == "FROM" {
			f := strings.Fields(in.args)
			s := stage{from: f[0]}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				s.name = f[2]
			}
			stages = append(stages, s)
			continue
		}
		if len(stages) == 0 {
			t.Fatalf("%s:%d: %s before FROM", file, start, in.cmd)
		}
		stages[len(stages)-1].body = append(stages[len(stages)-1].body, in)
	}
	if pending.Len() > 0 {
		t.Fatalf("%s: ends in a continuation", file)
	}
	return stages
}

// execForm decodes the JSON array form of ENTRYPOINT, CMD and VOLUME.
func execForm(t *testing.T, in instruction) []string {
	t.Helper()
	var args []string
	if err := json.Unmarshal([]byte(in.args), &args); err != nil {
		t.Fatalf("line %d: %s %s: want the JSON array form: %v", in.line, in.cmd, in.args, err)
	}
	return args
}

// TestContainerfile checks what the image promises without building it
// (there is no registry to pull the base images from here): a static,
// trimmed build of ./cmd/chatd from every package it needs, at a Go at
// least go.mod's; a runtime stage that runs it as a non-root user, with a
// config that loads, listens on all interfaces at the EXPOSEd port, and
// keeps its state in the VOLUME, in a directory that user owns.
func TestContainerfile(t *testing.T) {
	stages := parseContainerfile(t, containerFile)
	if len(stages) != 2 {
		t.Fatalf("%d stages, want 2 (build, runtime)", len(stages))
	}
	build, runtime := stages[0], stages[1]

	t.Run("build", func(t *testing.T) {
		if !strings.Contains(build.from, "golang:") {
			t.Fatalf("build stage FROM %s, want a golang image", build.from)
		}
		goMod, err := os.ReadFile("../../go.mod")
		if err != nil {
			t.Fatal(err)
		}
		modGo := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(goMod)
		imageGo := regexp.MustCompile(`golang:(\d+\.\d+)`).FindStringSubmatch(build.from)
		if modGo == nil || imageGo == nil || string(modGo[1]) != imageGo[1] {
			t.Errorf("build stage FROM %s, want golang:%s (go.mod's go version)", build.from, modGo[1])
		}

		var goBuild []instruction
		for _, in := range build.all("RUN") {
			if strings.Contains(in.args, "go build") {
				goBuild = append(goBuild, in)
			}
		}
		if len(goBuild) != 1 {
			t.Fatalf("%d RUN with go build in the build stage, want 1", len(goBuild))
		}
		run := goBuild[0].args
		for _, want := range []string{"CGO_ENABLED=0 go build", " -trimpath", " ./cmd/chatd",
			"-X main.version=${VERSION}", "-X main.commit=${COMMIT}"} {
			if !strings.Contains(run, want) {
				t.Errorf("line %d: RUN %s\nwants %q", goBuild[0].line, run, want)
			}
		}
		for _, arg := range []string{"VERSION", "COMMIT"} {
			if !slices.ContainsFunc(build.all("ARG"), func(in instruction) bool { return strings.HasPrefix(in.args, arg) }) {
				t.Errorf("build stage has no ARG %s", arg)
			}
		}

		// What is copied into the build must hold every package of this
		// module that chatd is built from.
		var copied []string
		for _, in := range build.all("COPY") {
			f := strings.Fields(in.args)
			copied = append(copied, f[:len(f)-1]...)
		}
		out, err := exec.Command("go", "list", "-deps", "-f", "{{if .Module}}{{if .Module.Main}}{{.Dir}}{{end}}{{end}}", ".").Output()
		if err != nil {
			t.Fatalf("go list: %v", err)
		}
		root, err := os.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		root = path.Dir(path.Dir(root))
		for _, dir := range strings.Fields(string(out)) {
			rel := strings.TrimPrefix(dir, root+"/")
			if !slices.ContainsFunc(copied, func(c string) bool { return strings.HasPrefix(rel+"/", strings.TrimSuffix(c, "/")+"/") }) {
				t.Errorf("package directory %s is not copied into the build stage (COPY %v)", rel, copied)
			}
		}
		for _, f := range []string{"go.mod", "go.sum"} {
			if !slices.Contains(copied, f) {
				t.Errorf("%s is not copied into the build stage", f)
			}
		}
	})

	t.Run("runtime", func(t *testing.T) {
		// The binary: copied from the build stage to where ENTRYPOINT runs it.
		entry := execForm(t, runtime.last(t, "ENTRYPOINT"))
		cmd := execForm(t, runtime.last(t, "CMD"))
		binCopied := slices.ContainsFunc(runtime.all("COPY"), func(in instruction) bool {
			f := strings.Fields(in.args)
			return f[0] == "--from="+build.name && strings.HasSuffix(f[1], "/chatd") && f[len(f)-1] == entry[0]
		})
		if !binCopied {
			t.Errorf("ENTRYPOINT %v: the binary is not copied there from the %s stage", entry, build.name)
		}

		// Not root: a numeric user other than 0, so that runtimes that
		// check runAsNonRoot without an /etc/passwd can tell.
		user := runtime.last(t, "USER").args
		uid, _, _ := strings.Cut(user, ":")
		if uid == "" || uid == "0" || uid == "root" || strings.Trim(uid, "0123456789") != "" {
			t.Errorf("USER %s, want a numeric non-root uid", user)
		}

		// The config: copied where CMD points -config, and valid.
		i := slices.Index(cmd, "-config")
		if i < 0 || i+1 >= len(cmd) {
			t.Fatalf("CMD %v has no -config FILE", cmd)
		}
		configPath := cmd[i+1]
		var src string
		for _, in := range runtime.all("COPY") {
			if f := strings.Fields(in.args); len(f) == 2 && f[1] == configPath {
				src = f[0]
			}
		}
		if src == "" {
			t.Fatalf("no COPY puts a config at %s (CMD %v)", configPath, cmd)
		}
		cfg, err := LoadConfig("../../" + src)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}

		host, port, err := net.SplitHostPort(cfg.Server.Listen)
		if err != nil {
			t.Fatalf("%s: server.listen %q: %v", src, cfg.Server.Listen, err)
		}
		if host != "0.0.0.0" && host != "" && host != "::" {
			t.Errorf("%s: server.listen %q: loopback or one address is unreachable from outside the container", src, cfg.Server.Listen)
		}
		if !slices.ContainsFunc(runtime.all("EXPOSE"), func(in instruction) bool {
			return slices.Contains(strings.Fields(in.args), port) || slices.Contains(strings.Fields(in.args), port+"/tcp")
		}) {
			t.Errorf("the listening port %s is not EXPOSEd", port)
		}

		// The state: in the VOLUME, in a directory the user owns.
		volumes := execForm(t, runtime.last(t, "VOLUME"))
		if len(volumes) != 1 {
			t.Fatalf("VOLUME %v, want one", volumes)
		}
		workdir := runtime.last(t, "WORKDIR").args
		for name, p := range map[string]string{
			"chat.mailbox.dir":                cfg.Chat.Mailbox.Dir,
			"auth.passwords.file":             cfg.Auth.Passwords.File,
			"cluster.nats.embedded.store_dir": cfg.Cluster.NATS.Embedded.StoreDir,
		} {
			if !path.IsAbs(p) {
				p = path.Join(workdir, p)
			}
			if !strings.HasPrefix(p, volumes[0]+"/") {
				t.Errorf("%s: %s is %s, outside the VOLUME %s", src, name, p, volumes[0])
			}
		}
		owned := slices.ContainsFunc(runtime.all("COPY"), func(in instruction) bool {
			f := strings.Fields(in.args)
			dst := strings.TrimSuffix(f[len(f)-1], "/")
			return slices.Contains(f, "--chown="+user) && strings.HasPrefix(cfg.Chat.Mailbox.Dir+"/", dst+"/")
		})
		if !owned {
			t.Errorf("no COPY --chown=%s creates a directory holding chat.mailbox.dir %s", user, cfg.Chat.Mailbox.Dir)
		}
	})
}

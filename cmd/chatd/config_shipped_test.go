package main

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestShippedFileEqualsDefault is THE test that configs/chatd.yaml and
// DefaultConfig() agree: running with the file is running with no file.
func TestShippedFileEqualsDefault(t *testing.T) {
	got, err := LoadConfig(shippedConfig)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if want := DefaultConfig(); !reflect.DeepEqual(got, want) {
		t.Fatalf("%s differs from DefaultConfig():\n got %+v\nwant %+v", shippedConfig, got, want)
	}
}

// TestShippedFileAloneIsDefault decodes the file strictly into a zero Config,
// not on top of the defaults, so every default must be spelled out in it.
func TestShippedFileAloneIsDefault(t *testing.T) {
	f, err := os.Open(shippedConfig)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	var got Config
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("strict decode: %v", err)
	}
	want := DefaultConfig()
	for i, l := range leaves(got) {
		w := leaves(want)[i]
		if !reflect.DeepEqual(l.value.Interface(), w.value.Interface()) {
			t.Errorf("%s = %#v in %s, DefaultConfig() has %#v", l.path, l.value, shippedConfig, w.value)
		}
	}
}

// TestShippedFileListsEveryKey checks that each key Config accepts appears in
// the file with a comment above it, and that the file has no other keys.
func TestShippedFileListsEveryKey(t *testing.T) {
	data, err := os.ReadFile(shippedConfig)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	var inFile []string
	var walk func(n *yaml.Node, prefix string)
	walk = func(n *yaml.Node, prefix string) {
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, val := n.Content[i], n.Content[i+1]
			path := prefix + key.Value
			if val.Kind == yaml.MappingNode {
				walk(val, path+".")
				continue
			}
			inFile = append(inFile, path)
			if strings.TrimSpace(key.HeadComment) == "" {
				t.Errorf("%s: line %d has no comment above it", path, key.Line)
			}
		}
	}
	walk(doc.Content[0], "")

	want := leafPaths(t)
	for _, p := range want {
		if !slices.Contains(inFile, p) {
			t.Errorf("%s: missing from %s", p, shippedConfig)
		}
	}
	for _, p := range inFile {
		if !slices.Contains(want, p) {
			t.Errorf("%s: in %s but not in Config", p, shippedConfig)
		}
	}
}

// TestShippedConfigsLoad: every chatd config in configs/ passes
// chatd -check-config (configs/chatbench-*.yaml are chatbench's scenario
// files, checked by cmd/chatbench, except chatbench-server.yaml, a chatd
// config).
func TestShippedConfigsLoad(t *testing.T) {
	files, err := filepath.Glob("../../configs/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var checked []string
	for _, f := range files {
		name := filepath.Base(f)
		if strings.HasPrefix(name, "chatbench-") && name != "chatbench-server.yaml" {
			continue
		}
		checked = append(checked, name)
		runCase{name, []string{"-check-config", f}, 0, []string{f + ": ok\n"}, nil}.check(t)
	}
	for _, want := range []string{"chatd.yaml", "chatd-container.yaml", "chatbench-server.yaml", "cluster-node1.yaml"} {
		if !slices.Contains(checked, want) {
			t.Errorf("%s was not checked (checked %v)", want, checked)
		}
	}
}

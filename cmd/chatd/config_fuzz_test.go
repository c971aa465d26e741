package main

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"go.yaml.in/yaml/v3"
)

// FuzzDecode checks that Decode never panics, that whatever it accepts is
// valid, and that an accepted config survives a YAML round trip unchanged.
// Seeds: the shipped file and every testdata/*.yaml.
//
//	go test -run '^$' -fuzz FuzzDecode -fuzztime 1m ./cmd/chatd
func FuzzDecode(f *testing.F) {
	seeds, err := filepath.Glob("testdata/*.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, path := range append(seeds, shippedConfig) {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("a: &a [*a, *a]\nb: *a\n"))
	f.Add([]byte("server: {listen: '[::1]:0', allowed_origins: ['x'], close_timeout: 1h}\n"))

	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := DecodeConfig(bytes.NewReader(data))
		if err != nil {
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("Decode accepted an invalid config: %v", err)
		}

		out, err := yaml.Marshal(cfg)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		again, err := DecodeConfig(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("DecodeConfig(Marshal(cfg)): %v\n%s", err, out)
		}
		if len(cfg.Server.AllowedOrigins) == 0 {
			cfg.Server.AllowedOrigins = again.Server.AllowedOrigins // nil and [] mean the same
		}
		if !reflect.DeepEqual(again, cfg) {
			t.Fatalf("round trip changed the config:\n got %+v\nwant %+v\n%s", again, cfg, out)
		}
	})
}

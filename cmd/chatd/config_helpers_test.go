package main

import (
	"reflect"
	"strings"
	"testing"
)

// leaf is one settable key: its dotted YAML path and its value.
type leaf struct {
	path  string
	value reflect.Value
}

// leaves lists every non-struct field of cfg by its dotted YAML path, such as
// "server.limits.queue_size", in declaration order.
func leaves(cfg Config) []leaf {
	var out []leaf
	var walk func(v reflect.Value, prefix string)
	walk = func(v reflect.Value, prefix string) {
		t := v.Type()
		for i := range t.NumField() {
			tag, opts, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
			if tag == "" && opts == "inline" {
				walk(v.Field(i), prefix) // its keys sit beside the struct's own
				continue
			}
			if tag == "" || tag == "-" {
				continue
			}
			path := prefix + tag
			if f := v.Field(i); f.Kind() == reflect.Struct {
				walk(f, path+".")
			} else {
				out = append(out, leaf{path: path, value: f})
			}
		}
	}
	walk(reflect.ValueOf(cfg), "")
	return out
}

// leafPaths returns the dotted YAML path of every key Config accepts.
func leafPaths(tb testing.TB) []string {
	tb.Helper()
	var paths []string
	for _, l := range leaves(DefaultConfig()) {
		paths = append(paths, l.path)
	}
	if len(paths) == 0 {
		tb.Fatal("Config has no yaml-tagged fields")
	}
	return paths
}

// wantErr fails tb unless err is non-nil and mentions every one of wants.
func wantErr(tb testing.TB, err error, wants ...string) {
	tb.Helper()
	if err == nil {
		tb.Fatalf("got no error, want one mentioning %q", wants)
	}
	for _, w := range wants {
		if !strings.Contains(err.Error(), w) {
			tb.Errorf("error %q does not mention %q", err, w)
		}
	}
}

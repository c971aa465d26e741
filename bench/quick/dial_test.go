package main

import (
	"net/netip"
	"testing"
)

func TestSources(t *testing.T) {
	s := sources{first: netip.MustParseAddr("127.0.0.2"), perSource: 15000}
	for _, tc := range []struct {
		name string
		i    int
		want string
	}{
		{"first", 0, "127.0.0.2"},
		{"last on first", 14999, "127.0.0.2"},
		{"second", 15000, "127.0.0.3"},
		{"carry into third octet", 254 * 15000, "127.0.1.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.addr(tc.i)
			if err != nil || got.String() != tc.want {
				t.Errorf("addr(%d) = %v, %v; want %s", tc.i, got, err, tc.want)
			}
		})
	}
	edge := sources{first: netip.MustParseAddr("127.255.255.255"), perSource: 1}
	if _, err := edge.addr(1); err == nil {
		t.Error("addr past 127.255.255.255: want an error")
	}
}

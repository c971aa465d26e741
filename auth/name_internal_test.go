package auth

import (
	"math/rand/v2"
	"testing"
)

// TestPlainASCIIAgrees: the ASCII fast paths of CanonicalName and NameKey
// give what the full PRECIS path gives, for every printable ASCII
// character in every position class and for random names.
func TestPlainASCIIAgrees(t *testing.T) {
	var names []string
	for c := 0x20; c <= 0x7f; c++ {
		names = append(names, string(rune(c)), "a"+string(rune(c)), string(rune(c))+"b", "x"+string(rune(c))+"y")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 5000; i++ {
		b := make([]byte, 1+rng.IntN(MaxNameLength+2))
		for j := range b {
			b[j] = byte(0x20 + rng.IntN(0x60))
		}
		names = append(names, string(b))
	}
	for _, n := range names {
		if !plainASCII(n) {
			continue
		}
		fast, ferr := CanonicalName(n)
		slow, serr := canonicalName(n)
		if fast != slow || (ferr == nil) != (serr == nil) {
			t.Fatalf("CanonicalName(%q): fast %q, %v; full %q, %v", n, fast, ferr, slow, serr)
		}
		if fk, sk := NameKey(n), nameKey(n); fk != sk {
			t.Fatalf("NameKey(%q): fast %q, full %q", n, fk, sk)
		}
	}
}

package stack

import (
	crand "crypto/rand"
	"fmt"
	"io"
	"math/rand"
	randv2 "math/rand/v2"
)

// The stack's randomness: initial sequence numbers (RFC 6528), ephemeral
// ports (RFC 6056), IP identifiers and DHCP transaction ids must be
// unpredictable to an off-path attacker, so they all come from one
// ChaCha8 generator keyed with a 256-bit secret drawn from Config.Rand
// (crypto/rand, getrandom(2) in Valence, unless a test injects a
// deterministic source). A 64-bit seed would be found by brute force from
// a few observed ports or sequence numbers; 256 bits are not.

// SecretLen is the size of the stack's secret in bytes.
const SecretLen = 32

// newRand draws the secret from r and returns the generator keyed with it.
func newRand(r io.Reader) (*rand.Rand, error) {
	if r == nil {
		r = crand.Reader
	}
	var secret [SecretLen]byte
	if _, err := io.ReadFull(r, secret[:]); err != nil {
		return nil, fmt.Errorf("stack: drawing the random secret: %w", err)
	}
	return rand.New(&chachaSource{randv2.NewChaCha8(secret)}), nil
}

// chachaSource adapts a ChaCha8 generator to math/rand's Source64, so
// Rand keeps its type for the protocols built on the stack.
type chachaSource struct{ c *randv2.ChaCha8 }

func (s *chachaSource) Int63() int64    { return int64(s.c.Uint64() >> 1) }
func (s *chachaSource) Uint64() uint64  { return s.c.Uint64() }
func (s *chachaSource) Seed(seed int64) { panic("stack: the random source cannot be reseeded") }

// SeededRand returns a deterministic entropy source for tests and
// simulations (Config.Rand): the same seed gives the same stack
// behaviour. Never use it outside them.
func SeededRand(seed int64) io.Reader {
	var key [32]byte
	for i := 0; i < 8; i++ {
		key[i] = byte(seed >> (8 * i))
	}
	return randv2.NewChaCha8(key)
}

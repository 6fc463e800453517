package stack_test

import (
	"errors"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"

	"valence.dev/servers/net/link"
	"valence.dev/servers/net/sim"
	"valence.dev/servers/net/stack"
)

// ports opens n UDP sockets on ephemeral ports of a new stack with rand r.
func ports(t *testing.T, r io.Reader, n int) []uint16 {
	t.Helper()
	s := stack.New(stack.Config{MAC: sim.MACA, Rand: r}, link.NewWire(nil, 1500, link.Faults{}, 0).A())
	var ps []uint16
	for range n {
		u, err := s.ListenUDP(0)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, u.LocalPort())
	}
	return ps
}

// TestRandomness: a seeded source gives the same choices every time (the
// simulations replay); the default, crypto/rand, gives different ones to
// every stack; a source that fails is refused.
func TestRandomness(t *testing.T) {
	if a, b := ports(t, stack.SeededRand(7), 8), ports(t, stack.SeededRand(7), 8); !cmp.Equal(a, b) {
		t.Errorf("seeded stacks chose %v and %v", a, b)
	}
	if a, b := ports(t, nil, 8), ports(t, nil, 8); cmp.Equal(a, b) {
		t.Errorf("two stacks keyed from crypto/rand chose the same ports %v", a)
	}
	defer func() {
		if recover() == nil {
			t.Errorf("a failing Rand was accepted")
		}
	}()
	ports(t, failing{}, 1)
}

type failing struct{}

func (failing) Read([]byte) (int, error) { return 0, errors.New("no entropy") }

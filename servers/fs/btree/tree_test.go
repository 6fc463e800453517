package btree

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"valence.dev/servers/fs/alloc"
	"valence.dev/servers/fs/blockdev"
)

// env is a tree on a memory device with a real allocator.
type env struct {
	dev *blockdev.Mem
	a   *alloc.Allocator
	t   *Tree
	gen uint64
}

const testVolume = 0x1234

func newEnv(t *testing.T, blocks uint64, cacheNodes int) *env {
	t.Helper()
	l, err := alloc.NewLayout(blocks)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{dev: blockdev.NewMem(blocks), a: alloc.New(l)}
	tr, err := New(e.config(cacheNodes), 0)
	if err != nil {
		t.Fatal(err)
	}
	e.t = tr
	return e
}

func (e *env) config(cacheNodes int) Config {
	return Config{
		Dev:    e.dev,
		Volume: testVolume,
		Alloc: func() (uint64, error) {
			b, _, err := e.a.Alloc(0, 1)
			return b, err
		},
		Release:    func(b uint64) error { return e.a.Release(b, 1) },
		CacheNodes: cacheNodes,
	}
}

// commit writes the dirty nodes and makes the allocator forget what the
// previous commit held.
func (e *env) commit(t *testing.T) {
	t.Helper()
	e.gen++
	if err := e.t.WriteDirty(e.gen); err != nil {
		t.Fatal(err)
	}
	e.a.Committed()
}

func key(i int) Key { return Key{ID: uint64(i / 7), Kind: uint8(i % 7), Off: uint64(i) * 3} }

func value(i, size int) []byte { return bytes.Repeat([]byte{byte(i)}, size) }

// contents lists every item with a cursor, forwards.
func contents(t *testing.T, tr *Tree) map[Key][]byte {
	t.Helper()
	got := map[Key][]byte{}
	var prev *Key
	c := tr.Seek(Key{})
	for ; c.Valid(); c.Next() {
		k := c.Key()
		if prev != nil && !prev.Less(k) {
			t.Fatalf("cursor went from %v to %v", *prev, k)
		}
		prev = &k
		got[k] = slices.Clone(c.Value())
	}
	if err := c.Err(); err != nil {
		t.Fatalf("cursor: %v", err)
	}
	return got
}

// same compares two item maps quickly; cmp.Diff explains a difference.
func same(a, b map[Key][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || !bytes.Equal(v, w) {
			return false
		}
	}
	return true
}

// check verifies the invariants the package documentation promises and
// returns the tree's height.
func check(t *testing.T, tr *Tree) int {
	t.Helper()
	var leafDepth = -1
	var walk func(addr uint64, level int, lo, hi Key, depth int, root bool)
	walk = func(addr uint64, level int, lo, hi Key, depth int, root bool) {
		n, err := tr.load(addr, level)
		if err != nil {
			t.Fatalf("load %d: %v", addr, err)
		}
		if n.used() > capacity {
			t.Fatalf("node %d overfull: %d bytes", addr, n.used())
		}
		if !root && len(n.Keys) == 0 {
			t.Fatalf("node %d empty", addr)
		}
		for i, k := range n.Keys {
			if k.Less(lo) || !k.Less(hi) {
				t.Fatalf("node %d key %v outside [%v, %v)", addr, k, lo, hi)
			}
			if n.Leaf() {
				continue
			}
			chi := hi
			if i+1 < len(n.Keys) {
				chi = n.Keys[i+1]
			}
			walk(n.Children[i], n.Level-1, k, chi, depth+1, false)
		}
		if n.Leaf() {
			if leafDepth >= 0 && leafDepth != depth {
				t.Fatalf("leaves at depths %d and %d", leafDepth, depth)
			}
			leafDepth = depth
		}
		if root && !n.Leaf() && len(n.Keys) < 2 {
			t.Fatalf("root %d has one child", addr)
		}
	}
	walk(tr.root, -1, Key{}, MaxKey, 0, true)
	return leafDepth + 1
}

func TestPutGetDelete(t *testing.T) {
	e := newEnv(t, 4096, 64)
	tests := []struct {
		op      string
		k       Key
		v       []byte
		wantErr error
	}{
		{"get", key(1), nil, ErrNotFound},
		{"delete", key(1), nil, ErrNotFound},
		{"put", key(1), []byte("one"), nil},
		{"get", key(1), []byte("one"), nil},
		{"put", key(1), []byte("uno"), nil},
		{"get", key(1), []byte("uno"), nil},
		{"put", key(2), make([]byte, MaxValue+1), ErrValueSize},
		{"put", key(2), make([]byte, MaxValue), nil},
		{"delete", key(1), nil, nil},
		{"get", key(1), nil, ErrNotFound},
		{"get", key(2), make([]byte, MaxValue), nil},
	}
	for i, tt := range tests {
		var err error
		var got []byte
		switch tt.op {
		case "get":
			got, err = e.t.Get(tt.k)
		case "put":
			err = e.t.Put(tt.k, tt.v)
		case "delete":
			err = e.t.Delete(tt.k)
		}
		if !errors.Is(err, tt.wantErr) {
			t.Fatalf("step %d: %s %v: error %v, want %v", i, tt.op, tt.k, err, tt.wantErr)
		}
		if tt.op == "get" && !bytes.Equal(got, tt.v) {
			t.Errorf("step %d: get %v = %q, want %q", i, tt.k, got, tt.v)
		}
	}
}

// TestRandomAgainstMap drives the tree with random puts and deletes of
// random sizes against a map, committing now and then, checking every
// invariant and the full contents as it goes. The tiny cache forces
// nodes to be reread from the device.
func TestRandomAgainstMap(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			e := newEnv(t, 1<<14, 16)
			model := map[Key][]byte{}
			rng := rand.New(rand.NewPCG(seed, seed))
			const keys = 3000
			maxHeight := 0
			for step := range 30000 {
				i := rng.IntN(keys)
				switch r := rng.IntN(100); {
				case r < 55:
					v := value(i+step, rng.IntN(200)+rng.IntN(2)*rng.IntN(MaxValue-200))
					if err := e.t.Put(key(i), v); err != nil {
						t.Fatalf("step %d: Put: %v", step, err)
					}
					model[key(i)] = v
				case r < 99:
					err := e.t.Delete(key(i))
					_, had := model[key(i)]
					if had != (err == nil) || (!had && !errors.Is(err, ErrNotFound)) {
						t.Fatalf("step %d: Delete %v: %v, model had it: %v", step, key(i), err, had)
					}
					delete(model, key(i))
				default:
					e.commit(t)
				}
				if step%1000 == 0 || step == 29999 {
					maxHeight = max(maxHeight, check(t, e.t))
					if got := contents(t, e.t); !same(model, got) {
						t.Fatalf("step %d: contents (-model +tree):\n%s", step, cmp.Diff(model, got, cmpopts.EquateEmpty()))
					}
				}
			}
			if maxHeight < 3 {
				t.Errorf("tree never grew past height %d; the test is too small", maxHeight)
			}
			// Emptying the tree leaves a single empty leaf.
			for k := range model {
				if err := e.t.Delete(k); err != nil {
					t.Fatal(err)
				}
			}
			if h := check(t, e.t); h != 1 {
				t.Errorf("height of the empty tree = %d, want 1", h)
			}
		})
	}
}

// TestCommittedTreeUntouched checks the copy-on-write promise: after a
// commit, no amount of changing and writing the tree disturbs the
// committed tree, which can still be opened from its root.
func TestCommittedTreeUntouched(t *testing.T) {
	e := newEnv(t, 1<<14, 32)
	rng := rand.New(rand.NewPCG(7, 7))
	model := map[Key][]byte{}
	for i := range 2000 {
		v := value(i, rng.IntN(300))
		e.t.Put(key(i), v)
		model[key(i)] = v
	}
	e.commit(t)
	oldRoot, oldGen := e.t.Root(), e.gen
	for step := range 5000 {
		i := rng.IntN(3000)
		if rng.IntN(2) == 0 {
			e.t.Put(key(i), value(step, rng.IntN(300)))
		} else {
			e.t.Delete(key(i))
		}
	}
	// Write the new nodes but do not tell the allocator the commit is
	// durable: exactly the state a crash before the superblock leaves.
	if err := e.t.WriteDirty(e.gen + 1); err != nil {
		t.Fatal(err)
	}
	old := Open(e.config(32), oldRoot, oldGen)
	if got := contents(t, old); !same(model, got) {
		t.Fatalf("committed tree changed (-before +after):\n%s", cmp.Diff(model, got, cmpopts.EquateEmpty()))
	}
}

func TestCursor(t *testing.T) {
	e := newEnv(t, 4096, 64)
	var keys []Key
	for i := 2; i <= 2000; i += 2 {
		e.t.Put(key(i), value(i, 100))
		keys = append(keys, key(i))
	}
	tests := []struct {
		name    string
		start   Key
		last    bool // SeekLast instead of Seek
		moves   string
		want    []int // indexes into keys; -1 = not valid
		wantErr error
	}{
		{"seek exact", key(10), false, "nn", []int{4, 5, 6}, nil},
		{"seek between", key(11), false, "n", []int{5, 6}, nil},
		{"seek before all", Key{}, false, "pn", []int{0, -1, 0}, nil},
		{"seek after all", MaxKey, false, "p", []int{-1, 999}, nil},
		{"seek last exact", key(10), true, "p", []int{4, 3}, nil},
		{"seek last between", key(11), true, "n", []int{4, 5}, nil},
		{"seek last before all", Key{}, true, "n", []int{-1, 0}, nil},
		{"walk back across leaves", key(400), false, "pppppppppp", []int{199, 198, 197, 196, 195, 194, 193, 192, 191, 190, 189}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.t.Seek(tt.start)
			if tt.last {
				c = e.t.SeekLast(tt.start)
			}
			var got []int
			record := func() {
				if !c.Valid() {
					got = append(got, -1)
					return
				}
				got = append(got, slices.Index(keys, c.Key()))
			}
			record()
			for _, m := range tt.moves {
				if m == 'n' {
					c.Next()
				} else {
					c.Prev()
				}
				record()
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("positions (-want +got):\n%s", diff)
			}
		})
	}
	c := e.t.Seek(Key{})
	e.t.Put(key(1), nil)
	if c.Valid() || !errors.Is(c.Err(), ErrStale) {
		t.Errorf("cursor after a change: valid %v, err %v; want ErrStale", c.Valid(), c.Err())
	}
}

func TestCorruptNodeIsAnError(t *testing.T) {
	e := newEnv(t, 4096, 16)
	for i := range 3000 {
		e.t.Put(key(i), value(i, 50))
	}
	e.commit(t)
	// Flip a byte in every node but the root, then read everything back
	// through a fresh tree: every path must end in ErrCorrupt, never a
	// panic or a wrong value.
	img := e.dev.Bytes()
	root := e.t.Root()
	for b := uint64(4); b < 4096; b++ {
		if b != root && img[b*blockdev.BlockSize] != 0 {
			img[b*blockdev.BlockSize+100] ^= 0x40
		}
	}
	tr := Open(e.config(16), root, e.gen)
	_, err := tr.Get(key(1500))
	if !errors.Is(err, ErrCorrupt) {
		t.Errorf("Get through a damaged node: %v, want ErrCorrupt", err)
	}
	c := tr.Seek(Key{})
	for c.Valid() {
		c.Next()
	}
	if !errors.Is(c.Err(), ErrCorrupt) {
		t.Errorf("cursor through damaged nodes: %v, want ErrCorrupt", c.Err())
	}
	if err := tr.Put(key(5), nil); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Put through a damaged node: %v, want ErrCorrupt", err)
	}
}

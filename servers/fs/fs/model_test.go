package fs_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"valence.dev/servers/fs/blockdev"
	"valence.dev/servers/fs/fs"
)

// The model is the obvious in-memory tree: paths to nodes, hard links
// sharing a node. A random workload runs against it and the real
// filesystem side by side; every operation must succeed or fail alike,
// and the trees must stay equal across syncs and remounts.

type mnode struct {
	dir    bool
	target string // symlink target; "" otherwise
	data   []byte
}

type model struct {
	nodes map[string]*mnode // "/" is the root
}

func newModel() *model { return &model{nodes: map[string]*mnode{"/": {dir: true}}} }

func (m *model) children(dir string) []string {
	var out []string
	prefix := strings.TrimSuffix(dir, "/") + "/"
	for p := range m.nodes {
		if p != "/" && strings.HasPrefix(p, prefix) && !strings.Contains(p[len(prefix):], "/") {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

func (m *model) links(n *mnode) int {
	c := 0
	for _, o := range m.nodes {
		if o == n {
			c++
		}
	}
	return c
}

// describe is the model's side of fsView.
func (m *model) describe() map[string]string {
	out := map[string]string{}
	for p, n := range m.nodes {
		if p == "/" {
			continue
		}
		switch {
		case n.dir:
			sub := 0
			for _, c := range m.children(p) {
				if m.nodes[c].dir {
					sub++
				}
			}
			out[p] = fmt.Sprintf("dir nlink=%d", 2+sub)
		case n.target != "":
			out[p] = "symlink -> " + n.target
		default:
			out[p] = fmt.Sprintf("file nlink=%d size=%d crc=%s", m.links(n), len(n.data), checksum(n.data))
		}
	}
	return out
}

// fsView describes the real tree the way model.describe does, and
// returns each path's inode number.
func fsView(t testing.TB, f *fs.FS) (map[string]string, map[string]uint64) {
	t.Helper()
	out, inos := map[string]string{}, map[string]uint64{}
	var walk func(dir string)
	walk = func(dir string) {
		ents, err := f.ReadDir(dir)
		must(t, err)
		for _, e := range ents {
			p := path.Join(dir, e.Name)
			st, err := f.Lstat(p)
			must(t, err)
			inos[p] = st.Ino
			switch {
			case st.IsDir():
				out[p] = fmt.Sprintf("dir nlink=%d", st.Nlink)
				walk(p)
			case st.IsSymlink():
				target, err := f.Readlink(p)
				must(t, err)
				out[p] = "symlink -> " + target
			default:
				data, err := f.ReadFile(p)
				must(t, err)
				out[p] = fmt.Sprintf("file nlink=%d size=%d crc=%s", st.Nlink, st.Size, checksum(data))
			}
		}
	}
	walk("/")
	return out, inos
}

// compare checks that f and m hold the same tree, hard links included.
func compare(t testing.TB, step int, f *fs.FS, m *model) {
	t.Helper()
	got, inos := fsView(t, f)
	if diff := cmp.Diff(m.describe(), got); diff != "" {
		t.Fatalf("step %d: tree (-model +fs):\n%s", step, diff)
	}
	byNode := map[*mnode]uint64{}
	seen := map[uint64]*mnode{}
	for p, n := range m.nodes {
		if p == "/" {
			continue
		}
		ino := inos[p]
		if want, ok := byNode[n]; ok && want != ino {
			t.Fatalf("step %d: hard links of one file have inodes %d and %d", step, want, ino)
		}
		if other, ok := seen[ino]; ok && other != n {
			t.Fatalf("step %d: two files share inode %d", step, ino)
		}
		byNode[n], seen[ino] = ino, n
	}
}

// workload generates random operations over a small namespace, so that
// names collide often enough to exercise every error path.
type workload struct {
	maxData int // largest write; 0 means the default mix
	rng     *rand.Rand
	m       *model
	f       *fs.FS
	dev     blockdev.Device
	names   []string
	links   int
}

func (w *workload) anyDir() string {
	var dirs []string
	for p, n := range w.m.nodes {
		if n.dir {
			dirs = append(dirs, p)
		}
	}
	slices.Sort(dirs)
	return dirs[w.rng.IntN(len(dirs))]
}

func (w *workload) anyPath() string {
	return path.Join(w.anyDir(), w.names[w.rng.IntN(len(w.names))])
}

func (w *workload) data() []byte {
	n := w.rng.IntN(3) * w.rng.IntN(20000)
	if w.rng.IntN(10) == 0 {
		n = w.rng.IntN(300000)
	}
	if w.maxData > 0 {
		n = w.rng.IntN(w.maxData)
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(w.rng.IntN(4)) // compressible but not constant
	}
	return b
}

// step performs one random operation on both sides and returns a
// description of it.
func (w *workload) step() (string, error, error) {
	m := w.m
	p, q := w.anyPath(), w.anyPath()
	switch r := w.rng.IntN(100); {
	case r < 30:
		off := w.rng.IntN(3) * w.rng.IntN(200000)
		if w.maxData > 0 {
			off = w.rng.IntN(3) * w.rng.IntN(2*w.maxData)
		}
		data := w.data()
		return fmt.Sprintf("write %s %d+%d", p, off, len(data)), m.write(p, off, data), fsWrite(w.f, p, off, data)
	case r < 38:
		size := w.rng.IntN(3) * w.rng.IntN(150000)
		if w.maxData > 0 {
			size = w.rng.IntN(3) * w.rng.IntN(w.maxData)
		}
		return fmt.Sprintf("truncate %s %d", p, size), m.truncate(p, size), w.f.Truncate(p, int64(size))
	case r < 48:
		return "mkdir " + p, m.mkdir(p), w.f.Mkdir(p, 0o755)
	case r < 56:
		return "rmdir " + p, m.rmdir(p), w.f.Rmdir(p)
	case r < 68:
		return "unlink " + p, m.unlink(p), w.f.Unlink(p)
	case r < 86:
		if w.rng.IntN(2) == 0 { // rename something that exists, usually
			if names := m.childrenOf(w.anyDir()); len(names) > 0 {
				p = names[w.rng.IntN(len(names))]
			}
		}
		return "rename " + p + " " + q, m.rename(p, q), w.f.Rename(p, q)
	case r < 93:
		return "link " + p + " " + q, m.link(p, q), w.f.Link(p, q)
	default:
		w.links++
		target := fmt.Sprintf("../nowhere/%d", w.links)
		return "symlink " + q, m.symlink(target, q), w.f.Symlink(target, q)
	}
}

func (m *model) childrenOf(dir string) []string { return m.children(dir) }

func fsWrite(f *fs.FS, p string, off int, data []byte) error {
	h, err := f.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	_, werr := h.WriteAt(data, int64(off))
	return errors.Join(werr, h.Close())
}

// The model's operations return the error the filesystem must return.

func (m *model) parentOK(p string) error {
	d, ok := m.nodes[path.Dir(p)]
	switch {
	case !ok:
		return fs.ErrNotExist
	case !d.dir:
		return fs.ErrNotDir
	}
	return nil
}

func (m *model) write(p string, off int, data []byte) error {
	if err := m.parentOK(p); err != nil {
		return err
	}
	n, ok := m.nodes[p]
	switch {
	case !ok:
		n = &mnode{}
		m.nodes[p] = n
	case n.dir:
		return fs.ErrIsDir
	case n.target != "":
		return fs.ErrExist // a dangling symlink: O_CREATE will not follow it
	}
	if len(data) == 0 {
		return nil
	}
	if end := off + len(data); end > len(n.data) {
		n.data = append(n.data, make([]byte, end-len(n.data))...)
	}
	copy(n.data[off:], data)
	return nil
}

func (m *model) truncate(p string, size int) error {
	n, ok := m.nodes[p]
	switch {
	case !ok || n.target != "":
		return fs.ErrNotExist // a symlink is followed, and all of ours dangle
	case n.dir:
		return fs.ErrIsDir
	}
	if size < len(n.data) {
		n.data = n.data[:size:size]
	} else {
		n.data = append(n.data, make([]byte, size-len(n.data))...)
	}
	return nil
}

func (m *model) mkdir(p string) error {
	if err := m.parentOK(p); err != nil {
		return err
	}
	if _, ok := m.nodes[p]; ok {
		return fs.ErrExist
	}
	m.nodes[p] = &mnode{dir: true}
	return nil
}

func (m *model) rmdir(p string) error {
	n, ok := m.nodes[p]
	switch {
	case !ok:
		return fs.ErrNotExist
	case !n.dir:
		return fs.ErrNotDir
	case len(m.children(p)) > 0:
		return fs.ErrNotEmpty
	}
	delete(m.nodes, p)
	return nil
}

func (m *model) unlink(p string) error {
	n, ok := m.nodes[p]
	switch {
	case !ok:
		return fs.ErrNotExist
	case n.dir:
		return fs.ErrIsDir
	}
	delete(m.nodes, p)
	return nil
}

func under(p, dir string) bool { return p == dir || strings.HasPrefix(p, dir+"/") }

func (m *model) rename(a, b string) error {
	if err := m.parentOK(b); err != nil {
		return err
	}
	src, ok := m.nodes[a]
	if !ok {
		return fs.ErrNotExist
	}
	dst, replace := m.nodes[b]
	if replace && dst == src {
		return nil
	}
	if src.dir {
		switch {
		case under(path.Dir(b), a):
			return fs.ErrInvalid
		case replace && !dst.dir:
			return fs.ErrNotDir
		case replace && len(m.children(b)) > 0:
			return fs.ErrNotEmpty
		}
	} else if replace && dst.dir {
		return fs.ErrIsDir
	}
	moved := map[string]*mnode{}
	for p, n := range m.nodes {
		if under(p, a) {
			moved[b+strings.TrimPrefix(p, a)] = n
			delete(m.nodes, p)
		}
	}
	delete(m.nodes, b)
	for p, n := range moved {
		m.nodes[p] = n
	}
	return nil
}

func (m *model) link(a, b string) error {
	src, ok := m.nodes[a]
	switch {
	case !ok:
		return fs.ErrNotExist
	case src.dir:
		return fs.ErrIsDir
	}
	if err := m.parentOK(b); err != nil {
		return err
	}
	if _, ok := m.nodes[b]; ok {
		return fs.ErrExist
	}
	m.nodes[b] = src
	return nil
}

func (m *model) symlink(target, p string) error {
	if err := m.parentOK(p); err != nil {
		return err
	}
	if _, ok := m.nodes[p]; ok {
		return fs.ErrExist
	}
	m.nodes[p] = &mnode{target: target}
	return nil
}

// sameError reports whether the filesystem's error is the model's.
func sameError(want, got error) bool {
	if want == nil || got == nil {
		return want == got
	}
	return errors.Is(got, want)
}

func TestAgainstModel(t *testing.T) {
	steps, blocks := 4000, uint64(1<<14)
	if long() {
		steps, blocks = 20000, 1<<17 // the model does not run out of space
	}
	for _, seed := range []uint64{1, 2} {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			f, dev := newFS(t, blocks, fs.Options{CacheNodes: 64})
			w := &workload{rng: rand.New(rand.NewPCG(seed, 99)), m: newModel(), f: f, dev: dev,
				names: []string{"a", "b", "c", "d", "long-name-" + strings.Repeat("n", 200)}}
			for i := range steps {
				what, want, got := w.step()
				if !sameError(want, got) {
					t.Fatalf("step %d: %s: error %v, model says %v", i, what, got, want)
				}
				switch r := w.rng.IntN(200); {
				case r < 4:
					must(t, w.f.Sync())
				case r < 6:
					w.f = remount(t, w.f, dev)
					clean(t, dev)
					compare(t, i, w.f, w.m)
				case r < 10:
					compare(t, i, w.f, w.m)
				}
			}
			w.f = remount(t, w.f, dev)
			compare(t, steps, w.f, w.m)
			clean(t, dev)
			// Removing everything returns every block.
			removeAll(t, w.f, "/")
			must(t, w.f.Sync())
			if r := clean(t, dev); r.DataBlocks != 0 || r.Inodes != 1 || r.Nodes != 1 {
				t.Errorf("empty filesystem: %d data blocks, %d inodes, %d nodes", r.DataBlocks, r.Inodes, r.Nodes)
			}
		})
	}
}

func removeAll(t testing.TB, f *fs.FS, dir string) {
	ents, err := f.ReadDir(dir)
	must(t, err)
	for _, e := range ents {
		p := path.Join(dir, e.Name)
		if e.Type == fs.ModeDir {
			removeAll(t, f, p)
			must(t, f.Rmdir(p))
		} else {
			must(t, f.Unlink(p))
		}
	}
}

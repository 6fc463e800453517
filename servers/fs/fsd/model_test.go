package fsd

import (
	"math/rand/v2"
	"path"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"valence.dev/servers/fs/fileproto"
	"valence.dev/servers/fs/fsck"
)

// model is the namespace as it should be: path -> contents, nil for a
// directory.
type model map[string][]byte

func (m model) isDir(p string) bool { d, ok := m[p]; return ok && d == nil }

// parentErr is what resolving p's directory fails with.
func (m model) parentErr(p string) syscall.Errno {
	dir := path.Dir(p)
	if dir == "." {
		return 0
	}
	for i := range strings.Split(dir, "/") {
		prefix := strings.Join(strings.Split(dir, "/")[:i+1], "/")
		d, ok := m[prefix]
		if !ok {
			return syscall.ENOENT
		}
		if d != nil {
			return syscall.ENOTDIR
		}
	}
	return 0
}

func (m model) empty(dir string) bool {
	for p := range m {
		if strings.HasPrefix(p, dir+"/") {
			return false
		}
	}
	return true
}

func (m model) write(p string, data []byte) syscall.Errno {
	if e := m.parentErr(p); e != 0 {
		return e
	}
	if m.isDir(p) {
		return syscall.EISDIR
	}
	m[p] = slices.Clone(data)
	return 0
}

func (m model) read(p string) ([]byte, syscall.Errno) {
	if e := m.parentErr(p); e != 0 {
		return nil, e
	}
	d, ok := m[p]
	switch {
	case !ok:
		return nil, syscall.ENOENT
	case d == nil:
		return nil, syscall.EISDIR
	}
	return d, 0
}

func (m model) mkdir(p string) syscall.Errno {
	if e := m.parentErr(p); e != 0 {
		return e
	}
	if _, ok := m[p]; ok {
		return syscall.EEXIST
	}
	m[p] = nil
	return 0
}

func (m model) remove(p string, dir bool) syscall.Errno {
	if e := m.parentErr(p); e != 0 {
		return e
	}
	_, ok := m[p]
	switch {
	case !ok:
		return syscall.ENOENT
	case dir && !m.isDir(p):
		return syscall.ENOTDIR
	case !dir && m.isDir(p):
		return syscall.EISDIR
	case dir && !m.empty(p):
		return syscall.ENOTEMPTY
	}
	delete(m, p)
	return 0
}

func (m model) rename(old, nw string) syscall.Errno {
	if e := m.parentErr(old); e != 0 {
		return e
	}
	if e := m.parentErr(nw); e != 0 {
		return e
	}
	src, ok := m[old]
	if !ok {
		return syscall.ENOENT
	}
	dst, replace := m[nw]
	switch {
	case old == nw:
		return 0
	case src != nil && replace && dst == nil:
		return syscall.EISDIR
	case src == nil && strings.HasPrefix(nw+"/", old+"/"):
		return syscall.EINVAL
	case src == nil && replace && dst != nil:
		return syscall.ENOTDIR
	case src == nil && replace && !m.empty(nw):
		return syscall.ENOTEMPTY
	}
	delete(m, nw)
	for p, d := range m {
		if p == old || strings.HasPrefix(p, old+"/") {
			delete(m, p)
			m[nw+strings.TrimPrefix(p, old)] = d
		}
	}
	return 0
}

// TestAgainstModel runs random operations on the server and on the
// model, as two different users, and compares every result, then the
// whole tree, then fscks the committed image.
func TestAgainstModel(t *testing.T) {
	r := newRig(t, Options{})
	c := r.c
	m := model{}
	paths := []string{"a", "b", "d", "d/a", "d/b", "d/e", "d/e/a", "a/x", "d/e/f/g"}
	rng := rand.New(rand.NewPCG(7, 11))
	pick := func() string { return paths[rng.IntN(len(paths))] }
	steps := 3000
	if testing.Short() {
		steps = 500
	}
	for i := range steps {
		p := pick()
		var got, want syscall.Errno
		var op string
		switch rng.IntN(7) {
		case 0, 1:
			data := make([]byte, rng.IntN(5000))
			for j := range data {
				data[j] = byte(rng.Uint32())
			}
			op = "write " + p
			want = m.write(p, data)
			got = code(writeErr(c, p, data))
		case 2:
			op = "read " + p
			var wd []byte
			wd, want = m.read(p)
			gd, err := readFile(c, root, p)
			got = code(err)
			if got == 0 && want == 0 && gd != string(wd) {
				t.Fatalf("step %d: read %s: %d bytes, want %d", i, p, len(gd), len(wd))
			}
		case 3:
			op = "mkdir " + p
			want = m.mkdir(p)
			got = code(c.Mkdir(ctx, fileproto.MkdirRequest{Cred: root, At: at(p), Mode: 0o755}))
		case 4:
			op = "unlink " + p
			want = m.remove(p, false)
			got = code(c.Unlink(ctx, fileproto.UnlinkRequest{Cred: root, At: at(p)}))
		case 5:
			op = "rmdir " + p
			want = m.remove(p, true)
			got = code(c.Unlink(ctx, fileproto.UnlinkRequest{Cred: root, At: at(p), Flags: fileproto.AT_REMOVEDIR}))
		case 6:
			q := pick()
			op = "rename " + p + " " + q
			want = m.rename(p, q)
			got = code(c.Rename(ctx, fileproto.RenameRequest{Cred: root, Old: at(p), New: at(q)}))
		}
		if got != want {
			t.Fatalf("step %d: %s: errno %d (%v), want %d (%v)", i, op, got, got, want, want)
		}
	}
	if diff := cmp.Diff(m, walkTree(t, c, ""), cmp.Comparer(func(a, b []byte) bool { return string(a) == string(b) && (a == nil) == (b == nil) })); diff != "" {
		t.Errorf("tree (-model +server):\n%.3000s", diff)
	}
	must(t, r.srv.Commit())
	if _, err := fsck.Check(r.dev); err != nil {
		t.Errorf("fsck: %v", err)
	}
}

func writeErr(c fileproto.Client, p string, data []byte) error {
	o, err := c.Open(ctx, fileproto.OpenRequest{Cred: root, At: at(p), Flags: fileproto.O_WRONLY | fileproto.O_CREAT | fileproto.O_TRUNC, Mode: 0o644})
	if err != nil {
		return err
	}
	defer c.Close(ctx, o.Fid)
	for off := 0; off < len(data); off += fileproto.MaxInline {
		if _, err := c.Write(ctx, fileproto.WriteRequest{Fid: o.Fid, Off: int64(off), Data: data[off:min(len(data), off+fileproto.MaxInline)]}); err != nil {
			return err
		}
	}
	return nil
}

// walkTree reads the server's whole tree into a model.
func walkTree(t *testing.T, c fileproto.Client, dir string) model {
	t.Helper()
	out := model{}
	names, err := list(c, root, "/"+dir, 0)
	must(t, err)
	for _, n := range names {
		if n == "." || n == ".." {
			continue
		}
		p := path.Join(dir, n)
		st, err := c.Stat(ctx, fileproto.StatRequest{Cred: root, At: at(p)})
		must(t, err)
		if st.Mode&fileproto.S_IFMT == fileproto.S_IFDIR {
			out[p] = nil
			for k, v := range walkTree(t, c, p) {
				out[k] = v
			}
			continue
		}
		data, err := readFile(c, root, p)
		must(t, err)
		out[p] = []byte(data)
	}
	return out
}

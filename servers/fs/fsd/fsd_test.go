package fsd

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"valence.dev/servers/fs/fileproto"
	"valence.dev/servers/fs/fsck"
)

// TestErrors runs calls that must fail, or succeed, with a given errno.
func TestErrors(t *testing.T) {
	r := newRig(t, Options{})
	c := r.c
	must(t, c.Mkdir(ctx, fileproto.MkdirRequest{Cred: root, At: at("d"), Mode: 0o755}))
	writeFile(t, c, root, "d/f", 0o644, "hello")
	must(t, c.Symlink(ctx, fileproto.SymlinkRequest{Cred: root, Target: "f", At: at("d/lf")}))
	must(t, c.Symlink(ctx, fileproto.SymlinkRequest{Cred: root, Target: "/d", At: at("ld")}))
	must(t, c.Symlink(ctx, fileproto.SymlinkRequest{Cred: root, Target: "loop", At: at("loop")}))
	must(t, c.Symlink(ctx, fileproto.SymlinkRequest{Cred: root, Target: "nowhere", At: at("dangling")}))
	// A chain of 40 symlinks resolves; 41 is ELOOP.
	for i := range 41 {
		must(t, c.Symlink(ctx, fileproto.SymlinkRequest{Cred: root, Target: "c" + itoa(i+1), At: at("c" + itoa(i))}))
	}
	writeFile(t, c, root, "c41", 0o644, "")
	long := strings.Repeat("x", 256)
	open := func(p string, flags uint32) func() error {
		return func() error {
			o, err := c.Open(ctx, fileproto.OpenRequest{Cred: root, At: at(p), Flags: flags, Mode: 0o644})
			if err == nil {
				c.Close(ctx, o.Fid)
			}
			return err
		}
	}
	stat := func(p string) func() error {
		return func() error { _, err := c.Stat(ctx, fileproto.StatRequest{Cred: root, At: at(p)}); return err }
	}
	tests := []struct {
		name string
		call func() error
		want syscall.Errno
	}{
		{"open missing", open("nope", 0), syscall.ENOENT},
		{"open missing dir in path", open("nope/f", fileproto.O_CREAT), syscall.ENOENT},
		{"open file as dir", open("d/f/x", 0), syscall.ENOTDIR},
		{"open file with trailing slash", open("d/f/", 0), syscall.ENOTDIR},
		{"create with trailing slash", open("d/new/", fileproto.O_CREAT|fileproto.O_WRONLY), syscall.EISDIR},
		{"O_EXCL on existing", open("d/f", fileproto.O_CREAT|fileproto.O_EXCL), syscall.EEXIST},
		{"O_EXCL on a dangling symlink", open("dangling", fileproto.O_CREAT|fileproto.O_EXCL), syscall.EEXIST},
		{"O_NOFOLLOW on a symlink", open("d/lf", fileproto.O_NOFOLLOW), syscall.ELOOP},
		{"O_DIRECTORY on a file", open("d/f", fileproto.O_DIRECTORY), syscall.ENOTDIR},
		{"write a directory", open("d", fileproto.O_WRONLY), syscall.EISDIR},
		{"O_ACCMODE 3", open("d/f", 3), syscall.EINVAL},
		{"O_PATH", open("d/f", 0o10000000), syscall.EINVAL},
		{"symlink loop", open("loop", 0), syscall.ELOOP},
		{"40 symlinks", stat("c1"), 0},
		{"41 symlinks", stat("c0"), syscall.ELOOP},
		{"name of 256 bytes", stat(long), syscall.ENAMETOOLONG},
		{"name of 256 bytes, created", open("d/"+long, fileproto.O_CREAT), syscall.ENAMETOOLONG},
		{"name of 255 bytes", open("d/"+long[1:], fileproto.O_CREAT), 0},
		{"NUL in a name", open("d/a\x00b", fileproto.O_CREAT), syscall.EINVAL},
		{"dot dot above the root", stat("../../d/./f"), 0},
		{"through a symlink to a directory", stat("ld/f"), 0},
		{"dangling followed", stat("dangling"), syscall.ENOENT},
		{"create through dangling symlink", open("dangling", fileproto.O_CREAT|fileproto.O_WRONLY), 0},
		{"mkdir existing", func() error { return c.Mkdir(ctx, fileproto.MkdirRequest{Cred: root, At: at("d")}) }, syscall.EEXIST},
		{"mkdir dot", func() error { return c.Mkdir(ctx, fileproto.MkdirRequest{Cred: root, At: at("d/.")}) }, syscall.EEXIST},
		{"mkdir over symlink", func() error { return c.Mkdir(ctx, fileproto.MkdirRequest{Cred: root, At: at("d/lf")}) }, syscall.EEXIST},
		{"unlink a dir", func() error { return c.Unlink(ctx, fileproto.UnlinkRequest{Cred: root, At: at("d")}) }, syscall.EISDIR},
		{"rmdir a file", func() error {
			return c.Unlink(ctx, fileproto.UnlinkRequest{Cred: root, At: at("d/f"), Flags: fileproto.AT_REMOVEDIR})
		}, syscall.ENOTDIR},
		{"rmdir non-empty", func() error {
			return c.Unlink(ctx, fileproto.UnlinkRequest{Cred: root, At: at("d"), Flags: fileproto.AT_REMOVEDIR})
		}, syscall.ENOTEMPTY},
		{"rmdir dot", func() error {
			return c.Unlink(ctx, fileproto.UnlinkRequest{Cred: root, At: at("d/."), Flags: fileproto.AT_REMOVEDIR})
		}, syscall.EINVAL},
		{"unlink missing", func() error { return c.Unlink(ctx, fileproto.UnlinkRequest{Cred: root, At: at("d/zz")}) }, syscall.ENOENT},
		{"rename noreplace onto existing", func() error {
			return c.Rename(ctx, fileproto.RenameRequest{Cred: root, Old: at("d/f"), New: at("c41"), Flags: fileproto.RENAME_NOREPLACE})
		}, syscall.EEXIST},
		{"rename exchange", func() error {
			return c.Rename(ctx, fileproto.RenameRequest{Cred: root, Old: at("d/f"), New: at("c41"), Flags: fileproto.RENAME_EXCHANGE})
		}, syscall.EINVAL},
		{"rename dir under itself", func() error {
			return c.Rename(ctx, fileproto.RenameRequest{Cred: root, Old: at("d"), New: at("d/sub")})
		}, syscall.EINVAL},
		{"rename dot", func() error {
			return c.Rename(ctx, fileproto.RenameRequest{Cred: root, Old: at("d/."), New: at("e")})
		}, syscall.EBUSY},
		{"link a directory", func() error {
			return c.Link(ctx, fileproto.LinkRequest{Cred: root, Old: at("d"), New: at("d2")})
		}, syscall.EPERM},
		{"link onto existing", func() error {
			return c.Link(ctx, fileproto.LinkRequest{Cred: root, Old: at("d/f"), New: at("c41")})
		}, syscall.EEXIST},
		{"readlink a file", func() error { _, err := c.Readlink(ctx, fileproto.PathRequest{Cred: root, At: at("d/f")}); return err }, syscall.EINVAL},
		{"empty symlink target", func() error {
			return c.Symlink(ctx, fileproto.SymlinkRequest{Cred: root, Target: "", At: at("e")})
		}, syscall.ENOENT},
		{"chmod a symlink itself", func() error {
			return c.Chmod(ctx, fileproto.ChmodRequest{Cred: root, At: at("d/lf"), Flags: fileproto.AT_SYMLINK_NOFOLLOW, Mode: 0o600})
		}, syscall.EOPNOTSUPP},
		{"truncate a directory", func() error { return c.Truncate(ctx, fileproto.TruncateRequest{Cred: root, At: at("d"), Size: 0}) }, syscall.EISDIR},
		{"truncate negative", func() error { return c.Truncate(ctx, fileproto.TruncateRequest{Cred: root, At: at("d/f"), Size: -1}) }, syscall.EINVAL},
		{"utimens bad nsec", func() error {
			return c.Utimens(ctx, fileproto.UtimensRequest{Cred: root, At: at("d/f"), Atime: fileproto.Timespec{Nsec: 2e9}})
		}, syscall.EINVAL},
		{"too many groups", func() error {
			_, err := c.Stat(ctx, fileproto.StatRequest{Cred: fileproto.Cred{Groups: make([]uint32, 257)}, At: at("d")})
			return err
		}, syscall.EINVAL},
		{"fid 0", func() error { _, err := c.Fstat(ctx, 0); return err }, syscall.EBADF},
		{"fid never issued", func() error { _, err := c.Fstat(ctx, 999); return err }, syscall.EBADF},
		{"Dir never issued", func() error {
			_, err := c.Stat(ctx, fileproto.StatRequest{At: fileproto.At{Dir: 5, Path: "x"}})
			return err
		}, syscall.EBADF},
		{"inline read too large", func() error {
			o, err := c.Open(ctx, fileproto.OpenRequest{Cred: root, At: at("d/f")})
			must(t, err)
			defer c.Close(ctx, o.Fid)
			_, err = c.Read(ctx, fileproto.ReadRequest{Fid: o.Fid, Len: fileproto.MaxInline + 1})
			return err
		}, syscall.EINVAL},
		{"unknown buffer", func() error {
			o, err := c.Open(ctx, fileproto.OpenRequest{Cred: root, At: at("d/f")})
			must(t, err)
			defer c.Close(ctx, o.Fid)
			_, err = c.Read(ctx, fileproto.ReadRequest{Fid: o.Fid, Len: 10, Buf: 3})
			return err
		}, syscall.EFAULT},
	}
	for _, tt := range tests {
		if got := code(tt.call()); got != tt.want {
			t.Errorf("%s: errno %d (%v), want %d (%v)", tt.name, got, got, tt.want, tt.want)
		}
	}
	must(t, r.srv.Commit()) // fsck checks the last commit
	if _, err := fsck.Check(r.dev); err != nil {
		t.Errorf("fsck: %v", err)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestPermissions checks access against owners, groups and root.
func TestPermissions(t *testing.T) {
	r := newRig(t, Options{})
	c := r.c
	must(t, c.Chmod(ctx, fileproto.ChmodRequest{Cred: root, At: at(""), Mode: 0o777}))
	must(t, c.Mkdir(ctx, fileproto.MkdirRequest{Cred: alice, At: at("home"), Mode: 0o750}))
	writeFile(t, c, alice, "home/private", 0o600, "secret")
	writeFile(t, c, alice, "home/shared", 0o640, "group")
	must(t, c.Mkdir(ctx, fileproto.MkdirRequest{Cred: root, At: at("tmp"), Mode: 0o1777}))
	writeFile(t, c, alice, "tmp/a", 0o666, "")
	must(t, c.Mkdir(ctx, fileproto.MkdirRequest{Cred: alice, At: at("closed"), Mode: 0o700}))

	st, err := c.Stat(ctx, fileproto.StatRequest{Cred: alice, At: at("home/private")})
	must(t, err)
	if st.Uid != alice.Uid || st.Gid != alice.Gid || st.Mode&0o7777 != 0o600 {
		t.Errorf("a file alice created: uid %d gid %d mode %#o, want %d %d 0600", st.Uid, st.Gid, st.Mode&0o7777, alice.Uid, alice.Gid)
	}
	read := func(cred fileproto.Cred, p string) func() error {
		return func() error { _, err := readFile(c, cred, p); return err }
	}
	tests := []struct {
		name string
		call func() error
		want syscall.Errno
	}{
		{"owner reads", read(alice, "home/private"), 0},
		{"group member reads group-readable", read(bob, "home/shared"), 0},
		{"group member, owner-only file", read(bob, "home/private"), syscall.EACCES},
		{"other cannot search", read(carol, "home/shared"), syscall.EACCES},
		{"root reads anything", read(root, "home/private"), 0},
		{"group member cannot create", func() error {
			_, err := c.Open(ctx, fileproto.OpenRequest{Cred: bob, At: at("home/new"), Flags: fileproto.O_CREAT | fileproto.O_WRONLY})
			return err
		}, syscall.EACCES},
		{"write without permission", func() error {
			_, err := c.Open(ctx, fileproto.OpenRequest{Cred: bob, At: at("home/shared"), Flags: fileproto.O_WRONLY})
			return err
		}, syscall.EACCES},
		{"sticky: other's file", func() error { return c.Unlink(ctx, fileproto.UnlinkRequest{Cred: bob, At: at("tmp/a")}) }, syscall.EPERM},
		{"chmod by non-owner", func() error {
			return c.Chmod(ctx, fileproto.ChmodRequest{Cred: bob, At: at("tmp/a"), Mode: 0o777})
		}, syscall.EPERM},
		{"chown away by non-root", func() error {
			return c.Chown(ctx, fileproto.ChownRequest{Cred: alice, At: at("tmp/a"), Uid: bob.Uid, Gid: fileproto.NoChange})
		}, syscall.EPERM},
		{"chgrp to a group not one's own", func() error {
			return c.Chown(ctx, fileproto.ChownRequest{Cred: alice, At: at("tmp/a"), Uid: fileproto.NoChange, Gid: 5})
		}, syscall.EPERM},
		{"utimens explicit by non-owner", func() error {
			return c.Utimens(ctx, fileproto.UtimensRequest{Cred: bob, At: at("tmp/a"), Atime: fileproto.Timespec{Sec: 1}, Mtime: fileproto.Timespec{Sec: 1}})
		}, syscall.EPERM},
		{"utimens now by a writer", func() error {
			now := fileproto.Timespec{Nsec: fileproto.UTIME_NOW}
			return c.Utimens(ctx, fileproto.UtimensRequest{Cred: bob, At: at("tmp/a"), Atime: now, Mtime: now})
		}, 0},
		{"access W by group", func() error {
			return c.Access(ctx, fileproto.AccessRequest{Cred: bob, At: at("home/shared"), Mode: fileproto.MayWrite})
		}, syscall.EACCES},
		{"access R by group", func() error {
			return c.Access(ctx, fileproto.AccessRequest{Cred: bob, At: at("home/shared"), Mode: fileproto.MayRead})
		}, 0},
		{"root exec of a non-executable", func() error {
			return c.Access(ctx, fileproto.AccessRequest{Cred: root, At: at("home/shared"), Mode: fileproto.MayExec})
		}, syscall.EACCES},
		{"truncate without write", func() error {
			return c.Truncate(ctx, fileproto.TruncateRequest{Cred: bob, At: at("home/shared")})
		}, syscall.EACCES},
		{"rename out of a closed dir", func() error {
			return c.Rename(ctx, fileproto.RenameRequest{Cred: bob, Old: at("closed/x"), New: at("tmp/x")})
		}, syscall.EACCES},
		{"sticky: own file", func() error { return c.Unlink(ctx, fileproto.UnlinkRequest{Cred: alice, At: at("tmp/a")}) }, 0},
		{"chgrp to own group", func() error {
			return c.Chown(ctx, fileproto.ChownRequest{Cred: bob, At: at("tmp"), Uid: fileproto.NoChange, Gid: 1000})
		}, syscall.EPERM}, // bob does not own /tmp
	}
	for _, tt := range tests {
		if got := code(tt.call()); got != tt.want {
			t.Errorf("%s: errno %d (%v), want %d (%v)", tt.name, got, got, tt.want, tt.want)
		}
	}
}

// TestFileIO covers inline and shared-buffer reads and writes, append,
// fstat, ftruncate, getdents batching and rename tracking.
func TestFileIO(t *testing.T) {
	r := newRig(t, Options{})
	c := r.c
	must(t, c.Chmod(ctx, fileproto.ChmodRequest{Cred: root, At: at(""), Mode: 0o777}))
	o, err := c.Open(ctx, fileproto.OpenRequest{Cred: alice, At: at("f"), Flags: fileproto.O_RDWR | fileproto.O_CREAT, Mode: 0o644})
	must(t, err)
	a, err := c.Attach(ctx, 1<<20)
	must(t, err)
	buf := r.mem.bytes(a.Mem)
	for i := range buf {
		buf[i] = byte(i * 13)
	}
	w, err := c.Write(ctx, fileproto.WriteRequest{Fid: o.Fid, Off: 100, Buf: a.ID, BufOff: 4096, Len: 500000})
	must(t, err)
	if w.N != 500000 || w.End != 500100 {
		t.Errorf("Write = %+v, want N 500000 End 500100", w)
	}
	want := slices.Clone(buf[4096 : 4096+500000])
	clear(buf)
	rd, err := c.Read(ctx, fileproto.ReadRequest{Fid: o.Fid, Off: 100, Buf: a.ID, Len: 600000})
	must(t, err)
	if rd.N != 500000 || !bytes.Equal(buf[:500000], want) {
		t.Errorf("Read through the buffer: N %d, data equal %v", rd.N, bytes.Equal(buf[:500000], want))
	}
	if _, err := c.Read(ctx, fileproto.ReadRequest{Fid: o.Fid, Buf: a.ID, BufOff: 1 << 20, Len: 1}); code(err) != syscall.EFAULT {
		t.Errorf("Read past the buffer: %v, want EFAULT", err)
	}
	// Another client cannot use the file or the buffer.
	other := r.as(2)
	if _, err := other.Read(ctx, fileproto.ReadRequest{Fid: o.Fid, Len: 1}); code(err) != syscall.EBADF {
		t.Errorf("Read of another client's fid: %v, want EBADF", err)
	}
	must(t, c.Truncate(ctx, fileproto.TruncateRequest{At: fileproto.At{Dir: o.Fid}, Size: 10}))
	st, err := c.Fstat(ctx, o.Fid)
	must(t, err)
	if st.Size != 10 || st.Uid != alice.Uid {
		t.Errorf("Fstat after ftruncate: size %d uid %d", st.Size, st.Uid)
	}
	must(t, c.Close(ctx, o.Fid))

	// O_APPEND writes at the end, whatever the offset.
	ap, err := c.Open(ctx, fileproto.OpenRequest{Cred: alice, At: at("f"), Flags: fileproto.O_WRONLY | fileproto.O_APPEND})
	must(t, err)
	w, err = c.Write(ctx, fileproto.WriteRequest{Fid: ap.Fid, Off: 0, Data: []byte("tail")})
	must(t, err)
	if w.End != 14 {
		t.Errorf("append ends at %d, want 14", w.End)
	}
	// Rename the directory holding an open file; fchmod still reaches it.
	must(t, c.Mkdir(ctx, fileproto.MkdirRequest{Cred: root, At: at("a"), Mode: 0o755}))
	must(t, c.Rename(ctx, fileproto.RenameRequest{Cred: root, Old: at("f"), New: at("a/g")}))
	must(t, c.Rename(ctx, fileproto.RenameRequest{Cred: root, Old: at("a"), New: at("b")}))
	must(t, c.Chmod(ctx, fileproto.ChmodRequest{Cred: alice, At: fileproto.At{Dir: ap.Fid}, Mode: 0o600}))
	st, err = c.Stat(ctx, fileproto.StatRequest{Cred: root, At: at("b/g")})
	must(t, err)
	if st.Mode&0o777 != 0o600 || st.Size != 14 {
		t.Errorf("b/g after fchmod: mode %#o size %d", st.Mode&0o777, st.Size)
	}
	must(t, c.Fsync(ctx, ap.Fid))

	// Getdents in small batches sees every entry once.
	var wantNames []string
	for i := range 150 {
		n := strings.Repeat("n", 200) + itoa(i%100) + string(rune('a'+i/100))
		writeFile(t, c, root, "b/"+n, 0o644, "")
		wantNames = append(wantNames, n)
	}
	wantNames = append(wantNames, ".", "..", "g")
	for _, max := range []uint32{0, 1, 7} {
		got, err := list(c, root, "b", max)
		must(t, err)
		if got[0] != "." || got[1] != ".." {
			t.Errorf("Getdents max %d starts with %q", max, got[:2])
		}
		slices.Sort(got)
		slices.Sort(wantNames)
		if diff := cmp.Diff(wantNames, got); diff != "" {
			t.Errorf("Getdents max %d (-want +got):\n%s", max, diff)
		}
	}
	must(t, c.Forget(ctx))
	if n := len(r.mem.bufs); n != 0 {
		t.Errorf("%d buffers left after Forget", n)
	}
}

// TestLimits: a client cannot hold more than its share.
func TestLimits(t *testing.T) {
	r := newRig(t, Options{MaxFilesPerClient: 5, MaxFiles: 8, MaxClients: 3})
	writeFile(t, r.c, root, "f", 0o644, "")
	open := func(c fileproto.Client) error {
		_, err := c.Open(ctx, fileproto.OpenRequest{Cred: root, At: at("f")})
		return err
	}
	for range 5 {
		must(t, open(r.c))
	}
	if err := open(r.c); code(err) != syscall.EMFILE {
		t.Errorf("6th open: %v, want EMFILE", err)
	}
	for range 3 {
		must(t, open(r.as(2)))
	}
	if err := open(r.as(2)); code(err) != syscall.ENFILE {
		t.Errorf("9th open in all: %v, want ENFILE", err)
	}
	if err := open(r.as(3)); code(err) != syscall.ENFILE {
		t.Errorf("open by a 3rd client: %v, want ENFILE", err)
	}
	must(t, r.c.Forget(ctx))
	must(t, open(r.as(3)))
	for range fileproto.MaxBuffers {
		if _, err := r.c.Attach(ctx, 4096); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.c.Attach(ctx, 4096); code(err) != syscall.ENOSPC {
		t.Errorf("one buffer too many: %v, want ENOSPC", err)
	}
	if _, err := r.as(2).Attach(ctx, fileproto.MaxBuffer+1); code(err) != syscall.EINVAL {
		t.Errorf("a buffer too large: %v, want EINVAL", err)
	}
}

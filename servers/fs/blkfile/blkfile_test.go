package blkfile

import (
	"fmt"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gvisor.dev/gvisor/pkg/abi/linux"

	"valence.dev/servers/fs/fileproto"
)

func TestMakedev(t *testing.T) {
	tests := []struct {
		major, minor uint32
		want         uint64
	}{
		{8, 0, 0x800},                       // sda
		{8, 17, 0x811},                      // sdb1
		{254, 0, 0xfe00},                    // vda
		{259, 1, 0x10301},                   // nvme0n1p1
		{0, 5, 5},                           // devtmpfs
		{0x1234, 0x56789, 0x1000_5672_3489}, // glibc's split layout
	}
	for _, tt := range tests {
		if got := Makedev(tt.major, tt.minor); got != tt.want {
			t.Errorf("Makedev(%d, %d) = %#x, want %#x", tt.major, tt.minor, got, tt.want)
		}
	}
}

func TestStat(t *testing.T) {
	ts := fileproto.Timespec{Sec: start.Unix(), Nsec: 123}
	base := fileproto.Stat{
		Dev: 5, Ino: 1, Mode: linux.S_IFBLK | 0o660, Nlink: 1, Uid: 0, Gid: 6,
		Size: 10 * 4096, Blocks: 80, Blksize: 4096, Atime: ts, Mtime: ts, Ctime: ts,
	}
	custom := base
	custom.Mode, custom.Uid, custom.Gid, custom.Rdev = linux.S_IFBLK|0o4640, 42, 0, Makedev(259, 0)
	tests := []struct {
		name string
		opts Options
		want fileproto.Stat
	}{
		{"defaults", Options{}, base},
		{"custom", Options{Rdev: Makedev(259, 0), Mode: new(uint32(0o174640)), Uid: new(uint32(42)), Gid: new(uint32(0))}, custom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, 10, tt.opts)
			o, err := r.srv.Open(ctx, 1, fileproto.OpenRequest{Cred: root})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, o.Stat); diff != "" {
				t.Errorf("Open's Stat (-want +got):\n%s", diff)
			}
			st, err := r.srv.Fstat(ctx, 1, fileproto.FidRequest{Fid: o.Fid})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, st); diff != "" {
				t.Errorf("Fstat (-want +got):\n%s", diff)
			}
			for _, at := range []fileproto.At{{Path: ""}, {Path: "."}, {Path: "/"}, {Dir: o.Fid}} {
				st, err := r.srv.Stat(ctx, 1, fileproto.StatRequest{Cred: alice, At: at})
				if err != nil {
					t.Fatalf("Stat %+v: %v", at, err)
				}
				if diff := cmp.Diff(tt.want, st); diff != "" {
					t.Errorf("Stat %+v (-want +got):\n%s", at, diff)
				}
			}
		})
	}
}

// TestResolve checks which Ats name the device file.
func TestResolve(t *testing.T) {
	r := newRig(t, 4, Options{})
	fid := r.open(t, 1, root, fileproto.O_RDONLY)
	r.open(t, 2, root, fileproto.O_RDONLY)
	other := r.open(t, 2, root, fileproto.O_RDONLY) // a Fid client 1 does not have
	tests := []struct {
		at   fileproto.At
		want syscall.Errno
	}{
		{fileproto.At{Path: ""}, 0},
		{fileproto.At{Path: "."}, 0},
		{fileproto.At{Path: "/"}, 0},
		{fileproto.At{Dir: fid}, 0},
		{fileproto.At{Dir: fid, Path: "/"}, 0},
		{fileproto.At{Dir: 99, Path: "/"}, 0}, // absolute: Dir does not matter
		{fileproto.At{Dir: 99}, syscall.EBADF},
		{fileproto.At{Dir: other}, syscall.EBADF}, // another client's
		{fileproto.At{Dir: fid, Path: "."}, syscall.ENOTDIR},
		{fileproto.At{Dir: fid, Path: "x"}, syscall.ENOTDIR},
		{fileproto.At{Path: "x"}, syscall.ENOTDIR},
		{fileproto.At{Path: "/x"}, syscall.ENOTDIR},
		{fileproto.At{Path: "./"}, syscall.ENOTDIR},
		{fileproto.At{Path: ".."}, syscall.ENOTDIR},
		{fileproto.At{Path: "//"}, syscall.ENOTDIR},
		{fileproto.At{Path: "a/b/c"}, syscall.ENOTDIR},
		{fileproto.At{Path: strings.Repeat("a", fileproto.MaxPathLen+1)}, syscall.ENAMETOOLONG},
	}
	for _, tt := range tests {
		_, err := r.srv.Stat(ctx, 1, fileproto.StatRequest{Cred: root, At: tt.at})
		checkCode(t, "Stat "+fmtAt(tt.at), err, tt.want)
	}
}

// fmtAt shows at, with a long path cut short.
func fmtAt(at fileproto.At) string {
	p := at.Path
	if len(p) > 20 {
		p = p[:20] + "..."
	}
	return fmt.Sprintf("{Dir %d Path %q}", at.Dir, p)
}

func TestOpen(t *testing.T) {
	const (
		rd, wr, rw = fileproto.O_RDONLY, fileproto.O_WRONLY, fileproto.O_RDWR
	)
	tests := []struct {
		name  string
		opts  Options
		cred  fileproto.Cred
		at    fileproto.At
		flags uint32
		want  syscall.Errno
	}{
		{"root reads", Options{}, root, fileproto.At{}, rd, 0},
		{"root writes", Options{}, root, fileproto.At{}, rw, 0},
		{"root writes mode 0", Options{Mode: new(uint32(0))}, root, fileproto.At{}, rw, 0},
		{"other may not read", Options{}, alice, fileproto.At{}, rd, syscall.EACCES},
		{"other may not write", Options{}, alice, fileproto.At{}, wr, syscall.EACCES},
		{"other reads 0664", Options{Mode: new(uint32(0o664))}, alice, fileproto.At{}, rd, 0},
		{"other writes 0664", Options{Mode: new(uint32(0o664))}, alice, fileproto.At{}, wr, syscall.EACCES},
		{"group member reads and writes", Options{}, dana, fileproto.At{}, rw, 0},
		{"group member, group bits read-only", Options{Mode: new(uint32(0o640))}, dana, fileproto.At{}, rw, syscall.EACCES},
		{"owner bits decide for the owner", Options{Uid: new(uint32(1001)), Mode: new(uint32(0o066))}, dana, fileproto.At{}, rd, syscall.EACCES},
		{"O_TRUNC needs write permission", Options{Mode: new(uint32(0o664))}, alice, fileproto.At{}, rd | fileproto.O_TRUNC, syscall.EACCES},
		{"O_TRUNC is ignored", Options{}, root, fileproto.At{}, rw | fileproto.O_TRUNC, 0},
		{"O_CREAT opens", Options{}, root, fileproto.At{}, rw | fileproto.O_CREAT, 0},
		{"O_CREAT|O_EXCL", Options{}, root, fileproto.At{}, rw | fileproto.O_CREAT | fileproto.O_EXCL, syscall.EEXIST},
		{"O_DIRECTORY", Options{}, root, fileproto.At{}, rd | fileproto.O_DIRECTORY, syscall.ENOTDIR},
		{"O_APPEND, O_DIRECT, O_SYNC, O_CLOEXEC", Options{}, root, fileproto.At{}, rw | fileproto.O_APPEND | oDirect | oSync | fileproto.O_CLOEXEC, 0},
		{"O_ACCMODE 3", Options{}, root, fileproto.At{}, 3, syscall.EINVAL},
		{"O_PATH", Options{}, root, fileproto.At{}, linux.O_PATH, syscall.EINVAL},
		{"O_NOATIME by the owner", Options{}, root, fileproto.At{}, rd | oNoatime, 0},
		{"O_NOATIME by another", Options{}, dana, fileproto.At{}, rd | oNoatime, syscall.EPERM},
		{"read-only, read", Options{ReadOnly: true}, root, fileproto.At{}, rd, 0},
		{"read-only, write", Options{ReadOnly: true}, root, fileproto.At{}, wr, syscall.EROFS},
		{"read-only, O_TRUNC", Options{ReadOnly: true}, root, fileproto.At{}, rd | fileproto.O_TRUNC, 0},
		{"read-only, no permission first", Options{ReadOnly: true}, alice, fileproto.At{}, wr, syscall.EACCES},
		{"below the root", Options{}, root, fileproto.At{Path: "p1"}, rd, syscall.ENOTDIR},
		{"create below the root", Options{}, root, fileproto.At{Path: "new"}, wr | fileproto.O_CREAT, syscall.ENOTDIR},
		{"too many groups", Options{}, fileproto.Cred{Uid: 1, Groups: make([]uint32, fileproto.MaxGroups+1)}, fileproto.At{}, rd, syscall.EINVAL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, 4, tt.opts)
			rep, err := r.srv.Open(ctx, 1, fileproto.OpenRequest{Cred: tt.cred, At: tt.at, Flags: tt.flags})
			checkCode(t, "Open", err, tt.want)
			if err == nil && rep.Fid == 0 {
				t.Errorf("Open gave Fid 0")
			}
			if tt.flags&fileproto.O_TRUNC != 0 && r.mem.Bytes()[0] != pattern(0) {
				t.Errorf("O_TRUNC changed the device")
			}
		})
	}
}

// TestOpenExclusive: O_EXCL without O_CREAT claims the device, as on
// Linux; the claim ends with the Fid (Close or Forget).
func TestOpenExclusive(t *testing.T) {
	r := newRig(t, 4, Options{})
	excl := uint32(fileproto.O_RDWR | fileproto.O_EXCL)
	a := r.open(t, 1, root, excl)
	_, err := r.srv.Open(ctx, 2, fileproto.OpenRequest{Cred: root, Flags: excl})
	checkCode(t, "second O_EXCL open", err, syscall.EBUSY)
	r.open(t, 2, root, fileproto.O_RDWR) // a plain open is not affected
	if _, err := r.srv.Close(ctx, 1, fileproto.FidRequest{Fid: a}); err != nil {
		t.Fatal(err)
	}
	r.open(t, 2, root, excl)
	_, err = r.srv.Open(ctx, 1, fileproto.OpenRequest{Cred: root, Flags: excl})
	checkCode(t, "O_EXCL open while client 2 holds the claim", err, syscall.EBUSY)
	if _, err := r.srv.Forget(ctx, 2, fileproto.Empty{}); err != nil {
		t.Fatal(err)
	}
	r.open(t, 1, root, excl)
}

// TestNames checks the calls that would add, remove or read names.
func TestNames(t *testing.T) {
	r := newRig(t, 4, Options{})
	fid := r.open(t, 1, root, fileproto.O_RDWR)
	rootAt, below := fileproto.At{}, fileproto.At{Path: "p1"}
	srv := r.srv
	tests := []struct {
		name string
		call func() error
		want syscall.Errno
	}{
		{"mkdir root", func() error { _, err := srv.Mkdir(ctx, 1, fileproto.MkdirRequest{Cred: root, At: rootAt}); return err }, syscall.EEXIST},
		{"mkdir below", func() error { _, err := srv.Mkdir(ctx, 1, fileproto.MkdirRequest{Cred: root, At: below}); return err }, syscall.ENOTDIR},
		{"unlink root", func() error {
			_, err := srv.Unlink(ctx, 1, fileproto.UnlinkRequest{Cred: root, At: rootAt})
			return err
		}, syscall.EBUSY},
		{"rmdir root", func() error {
			_, err := srv.Unlink(ctx, 1, fileproto.UnlinkRequest{Cred: root, At: rootAt, Flags: fileproto.AT_REMOVEDIR})
			return err
		}, syscall.ENOTDIR},
		{"unlink below", func() error { _, err := srv.Unlink(ctx, 1, fileproto.UnlinkRequest{Cred: root, At: below}); return err }, syscall.ENOTDIR},
		{"unlink bad flags", func() error { _, err := srv.Unlink(ctx, 1, fileproto.UnlinkRequest{Cred: root, Flags: 1}); return err }, syscall.EINVAL},
		{"rename root to itself", func() error {
			_, err := srv.Rename(ctx, 1, fileproto.RenameRequest{Cred: root, Old: rootAt, New: fileproto.At{Path: "/"}})
			return err
		}, 0},
		{"rename root to itself, noreplace", func() error {
			_, err := srv.Rename(ctx, 1, fileproto.RenameRequest{Cred: root, Old: rootAt, New: rootAt, Flags: fileproto.RENAME_NOREPLACE})
			return err
		}, syscall.EEXIST},
		{"rename exchange", func() error {
			_, err := srv.Rename(ctx, 1, fileproto.RenameRequest{Cred: root, Old: rootAt, New: rootAt, Flags: fileproto.RENAME_EXCHANGE})
			return err
		}, syscall.EINVAL},
		{"rename root below", func() error {
			_, err := srv.Rename(ctx, 1, fileproto.RenameRequest{Cred: root, Old: rootAt, New: below})
			return err
		}, syscall.ENOTDIR},
		{"rename below to root", func() error {
			_, err := srv.Rename(ctx, 1, fileproto.RenameRequest{Cred: root, Old: below, New: rootAt})
			return err
		}, syscall.ENOTDIR},
		{"link root to root", func() error {
			_, err := srv.Link(ctx, 1, fileproto.LinkRequest{Cred: root, Old: rootAt, New: rootAt})
			return err
		}, syscall.EEXIST},
		{"link root below", func() error {
			_, err := srv.Link(ctx, 1, fileproto.LinkRequest{Cred: root, Old: rootAt, New: below})
			return err
		}, syscall.ENOTDIR},
		{"link bad flags", func() error {
			_, err := srv.Link(ctx, 1, fileproto.LinkRequest{Cred: root, Old: rootAt, New: rootAt, Flags: 0x8000})
			return err
		}, syscall.EINVAL},
		{"symlink at root", func() error {
			_, err := srv.Symlink(ctx, 1, fileproto.SymlinkRequest{Cred: root, Target: "x", At: rootAt})
			return err
		}, syscall.EEXIST},
		{"symlink below", func() error {
			_, err := srv.Symlink(ctx, 1, fileproto.SymlinkRequest{Cred: root, Target: "x", At: below})
			return err
		}, syscall.ENOTDIR},
		{"symlink empty target", func() error {
			_, err := srv.Symlink(ctx, 1, fileproto.SymlinkRequest{Cred: root, At: below})
			return err
		}, syscall.ENOENT},
		{"readlink root", func() error { _, err := srv.Readlink(ctx, 1, fileproto.PathRequest{Cred: root}); return err }, syscall.EINVAL},
		{"readlink below", func() error { _, err := srv.Readlink(ctx, 1, fileproto.PathRequest{Cred: root, At: below}); return err }, syscall.ENOTDIR},
		{"truncate", func() error { _, err := srv.Truncate(ctx, 1, fileproto.TruncateRequest{Cred: root}); return err }, syscall.EINVAL},
		{"ftruncate", func() error {
			_, err := srv.Truncate(ctx, 1, fileproto.TruncateRequest{Cred: root, At: fileproto.At{Dir: fid}})
			return err
		}, syscall.EINVAL},
		{"ftruncate bad fid", func() error {
			_, err := srv.Truncate(ctx, 1, fileproto.TruncateRequest{Cred: root, At: fileproto.At{Dir: fid + 1}})
			return err
		}, syscall.EBADF},
		{"truncate below", func() error {
			_, err := srv.Truncate(ctx, 1, fileproto.TruncateRequest{Cred: root, At: below})
			return err
		}, syscall.ENOTDIR},
		{"getdents", func() error { _, err := srv.Getdents(ctx, 1, fileproto.GetdentsRequest{Fid: fid}); return err }, syscall.ENOTDIR},
		{"getdents bad fid", func() error { _, err := srv.Getdents(ctx, 1, fileproto.GetdentsRequest{Fid: fid + 1}); return err }, syscall.EBADF},
	}
	for _, tt := range tests {
		checkCode(t, tt.name, tt.call(), tt.want)
	}
	if diff := cmp.Diff(pattern(0), r.mem.Bytes()[0]); diff != "" {
		t.Errorf("the device changed")
	}
}

func TestAttributes(t *testing.T) {
	now := fileproto.Timespec{Sec: start.Unix(), Nsec: 123}
	at := fileproto.Timespec{Sec: 1000, Nsec: 5}
	type attrs struct {
		Mode, Uid, Gid      uint32
		Atime, Mtime, Ctime fileproto.Timespec
	}
	get := func(s *Server) attrs {
		st := s.stat()
		return attrs{st.Mode &^ linux.S_IFBLK, st.Uid, st.Gid, st.Atime, st.Mtime, st.Ctime}
	}
	owned := Options{Uid: new(uint32(1001)), Mode: new(uint32(0o6770))} // dana's
	tests := []struct {
		name string
		opts Options
		call func(s *Server) error
		want syscall.Errno
		// after is the attributes after the call, from the defaults
		// (root:6 0660, or dana:6 06770 with owned).
		after attrs
	}{
		{"root chmods", Options{}, func(s *Server) error {
			_, err := s.Chmod(ctx, 1, fileproto.ChmodRequest{Cred: root, Mode: 0o170600})
			return err
		}, 0, attrs{0o600, 0, 6, now, now, now}},
		{"other may not chmod", Options{}, func(s *Server) error {
			_, err := s.Chmod(ctx, 1, fileproto.ChmodRequest{Cred: dana, Mode: 0o666})
			return err
		}, syscall.EPERM, attrs{0o660, 0, 6, now, now, now}},
		{"owner outside the group loses setgid", Options{Uid: new(uint32(1000))}, func(s *Server) error {
			_, err := s.Chmod(ctx, 1, fileproto.ChmodRequest{Cred: alice, Mode: 0o2660})
			return err
		}, 0, attrs{0o660, 1000, 6, now, now, now}},
		{"owner in the group keeps setgid", owned, func(s *Server) error {
			_, err := s.Chmod(ctx, 1, fileproto.ChmodRequest{Cred: dana, Mode: 0o2660})
			return err
		}, 0, attrs{0o2660, 1001, 6, now, now, now}},
		{"chmod bad flags", Options{}, func(s *Server) error {
			_, err := s.Chmod(ctx, 1, fileproto.ChmodRequest{Cred: root, Flags: 1})
			return err
		}, syscall.EINVAL, attrs{0o660, 0, 6, now, now, now}},
		{"chmod below", Options{}, func(s *Server) error {
			_, err := s.Chmod(ctx, 1, fileproto.ChmodRequest{Cred: root, At: fileproto.At{Path: "x"}})
			return err
		}, syscall.ENOTDIR, attrs{0o660, 0, 6, now, now, now}},
		{"root chowns, clearing setuid and setgid", owned, func(s *Server) error {
			_, err := s.Chown(ctx, 1, fileproto.ChownRequest{Cred: root, Uid: 7, Gid: fileproto.NoChange})
			return err
		}, 0, attrs{0o770, 7, 6, now, now, now}},
		{"owner changes to its own group", owned, func(s *Server) error {
			_, err := s.Chown(ctx, 1, fileproto.ChownRequest{Cred: dana, Uid: fileproto.NoChange, Gid: 100})
			return err
		}, 0, attrs{0o770, 1001, 100, now, now, now}},
		{"owner may not give away", owned, func(s *Server) error {
			_, err := s.Chown(ctx, 1, fileproto.ChownRequest{Cred: dana, Uid: 1000, Gid: fileproto.NoChange})
			return err
		}, syscall.EPERM, attrs{0o6770, 1001, 6, now, now, now}},
		{"owner may not take a group it is not in", owned, func(s *Server) error {
			_, err := s.Chown(ctx, 1, fileproto.ChownRequest{Cred: dana, Uid: fileproto.NoChange, Gid: 0})
			return err
		}, syscall.EPERM, attrs{0o6770, 1001, 6, now, now, now}},
		{"other may not chown", Options{}, func(s *Server) error {
			_, err := s.Chown(ctx, 1, fileproto.ChownRequest{Cred: dana, Uid: fileproto.NoChange, Gid: fileproto.NoChange})
			return err
		}, syscall.EPERM, attrs{0o660, 0, 6, now, now, now}},
		{"owner sets times", owned, func(s *Server) error {
			_, err := s.Utimens(ctx, 1, fileproto.UtimensRequest{Cred: dana, Atime: at, Mtime: fileproto.Timespec{Nsec: fileproto.UTIME_OMIT}})
			return err
		}, 0, attrs{0o6770, 1001, 6, at, now, now}},
		{"writer touches", Options{}, func(s *Server) error {
			_, err := s.Utimens(ctx, 1, fileproto.UtimensRequest{Cred: dana, Atime: fileproto.Timespec{Nsec: fileproto.UTIME_NOW}, Mtime: fileproto.Timespec{Nsec: fileproto.UTIME_NOW}})
			return err
		}, 0, attrs{0o660, 0, 6, now, now, now}},
		{"writer may not set times", Options{}, func(s *Server) error {
			_, err := s.Utimens(ctx, 1, fileproto.UtimensRequest{Cred: dana, Atime: at, Mtime: at})
			return err
		}, syscall.EPERM, attrs{0o660, 0, 6, now, now, now}},
		{"other may not touch", Options{}, func(s *Server) error {
			_, err := s.Utimens(ctx, 1, fileproto.UtimensRequest{Cred: alice, Atime: fileproto.Timespec{Nsec: fileproto.UTIME_NOW}, Mtime: fileproto.Timespec{Nsec: fileproto.UTIME_NOW}})
			return err
		}, syscall.EACCES, attrs{0o660, 0, 6, now, now, now}},
		{"bad nanoseconds", Options{}, func(s *Server) error {
			_, err := s.Utimens(ctx, 1, fileproto.UtimensRequest{Cred: root, Atime: fileproto.Timespec{Nsec: 1e9}})
			return err
		}, syscall.EINVAL, attrs{0o660, 0, 6, now, now, now}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, 4, tt.opts)
			checkCode(t, tt.name, tt.call(r.srv), tt.want)
			if diff := cmp.Diff(tt.after, get(r.srv)); diff != "" {
				t.Errorf("attributes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAccess(t *testing.T) {
	r := newRig(t, 4, Options{ReadOnly: true})
	tests := []struct {
		cred  fileproto.Cred
		mode  uint32
		flags uint32
		want  syscall.Errno
	}{
		{alice, 0, 0, 0},
		{alice, fileproto.MayRead, 0, syscall.EACCES},
		{dana, fileproto.MayRead | fileproto.MayWrite, 0, 0}, // the bits, not the device's write protection
		{dana, fileproto.MayExec, 0, syscall.EACCES},
		{root, fileproto.MayRead | fileproto.MayWrite, fileproto.AT_EACCESS, 0},
		{root, fileproto.MayExec, 0, syscall.EACCES}, // no execute bit at all
		{root, 8, 0, syscall.EINVAL},
		{root, 0, 1, syscall.EINVAL},
	}
	for _, tt := range tests {
		_, err := r.srv.Access(ctx, 1, fileproto.AccessRequest{Cred: tt.cred, Mode: tt.mode, Flags: tt.flags})
		checkCode(t, fmt.Sprintf("Access uid %d mode %#o flags %#x", tt.cred.Uid, tt.mode, tt.flags), err, tt.want)
	}
}

func TestStatfs(t *testing.T) {
	r := newRig(t, 4, Options{})
	got, err := r.srv.Statfs(ctx, 1, fileproto.Empty{})
	if err != nil {
		t.Fatal(err)
	}
	want := fileproto.Statfs{Type: 0x1373, Bsize: 4096, Frsize: 4096, Files: 1, Fsid: 5, Namelen: 255}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Statfs (-want +got):\n%s", diff)
	}
}

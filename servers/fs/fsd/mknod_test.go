package fsd

import (
	"syscall"
	"testing"

	"valence.dev/servers/fs/fileproto"
)

// TestMknod: the protocol's Mknod makes socket and FIFO nodes, which
// stat and readdir report by type and which do not open (ENXIO, as
// Linux opens a socket); other types and taken names are refused.
func TestMknod(t *testing.T) {
	r := newRig(t, Options{})
	root := fileproto.Cred{}
	must(t, r.c.Mkdir(ctx, fileproto.MkdirRequest{Cred: root, At: at("/tmp"), Mode: 0o777}))
	tests := []struct {
		path string
		mode uint32
		want syscall.Errno
	}{
		{"/tmp/s", syscall.S_IFSOCK | 0o755, 0},
		{"/tmp/f", syscall.S_IFIFO | 0o644, 0},
		{"/tmp/s", syscall.S_IFSOCK | 0o755, syscall.EEXIST},
		{"/tmp/r", syscall.S_IFREG | 0o644, syscall.EPERM},
		{"/tmp/c", syscall.S_IFCHR | 0o644, syscall.EPERM},
		{"/none/s", syscall.S_IFSOCK, syscall.ENOENT},
	}
	for _, tc := range tests {
		err := r.c.Mknod(ctx, fileproto.MknodRequest{Cred: root, At: at(tc.path), Mode: tc.mode})
		if code(err) != tc.want {
			t.Errorf("Mknod(%s, %#o) = %v, want %v", tc.path, tc.mode, err, tc.want)
		}
	}
	st, err := r.c.Stat(ctx, fileproto.StatRequest{Cred: root, At: at("/tmp/s")})
	if err != nil || st.Mode != syscall.S_IFSOCK|0o755 {
		t.Errorf("stat of the socket node: mode %#o, %v", st.Mode, err)
	}
	_, err = r.c.Open(ctx, fileproto.OpenRequest{Cred: root, At: at("/tmp/s"), Flags: fileproto.O_RDONLY})
	if code(err) != syscall.ENXIO {
		t.Errorf("open of a socket node: %v, want ENXIO", err)
	}
	o, err := r.c.Open(ctx, fileproto.OpenRequest{Cred: root, At: at("/tmp"), Flags: fileproto.O_RDONLY | fileproto.O_DIRECTORY})
	must(t, err)
	g, err := r.c.Getdents(ctx, fileproto.GetdentsRequest{Fid: o.Fid, Max: 64})
	must(t, err)
	types := map[string]uint8{}
	for _, e := range g.Entries {
		types[e.Name] = e.Type
	}
	if types["s"] != fileproto.DT_SOCK || types["f"] != fileproto.DT_FIFO {
		t.Errorf("getdents types: %v; want s DT_SOCK, f DT_FIFO", types)
	}
}

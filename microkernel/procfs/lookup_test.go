package procfs

import (
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"
)

// names returns the names of a directory node's entries, in order.
func names(n Node) []string {
	var s []string
	for _, e := range n.Entries {
		s = append(s, e.Name)
	}
	return s
}

func TestLookupErrors(t *testing.T) {
	tests := []struct {
		rel  string
		self int
		want errno.Errno
	}{
		{rel: "9", want: errno.ENOENT},             // no such process
		{rel: "9/status", want: errno.ENOENT},      // no such process
		{rel: "13", want: errno.ENOENT},            // listed by PIDs but gone
		{rel: "self", self: 0, want: errno.ENOENT}, // a kernel thread has no self
		{rel: "self/stat", self: -1, want: errno.ENOENT},
		{rel: "nosuch", want: errno.ENOENT},
		{rel: "1/nosuch", want: errno.ENOENT},
		{rel: "01", want: errno.ENOENT}, // not canonical
		{rel: "+1", want: errno.ENOENT},
		{rel: "0", want: errno.ENOENT},
		{rel: "99999999999", want: errno.ENOENT},
		{rel: "/1", want: errno.ENOENT}, // not clean
		{rel: "1/", want: errno.ENOENT},
		{rel: "1//stat", want: errno.ENOENT},
		{rel: "./1", want: errno.ENOENT},
		{rel: "1/../1", want: errno.ENOENT},
		{rel: "..", want: errno.ENOENT},
		{rel: "1/fd/3", want: errno.ENOENT}, // not open
		{rel: "1/fd/00", want: errno.ENOENT},
		{rel: "1/fd/-1", want: errno.ENOENT},
		{rel: "7/exe", want: errno.ENOENT}, // a zombie has none
		{rel: "7/cwd", want: errno.ENOENT},
		{rel: "7/fd/0", want: errno.ENOENT},
		{rel: "100/exe", want: errno.ENOENT},    // Exe ""
		{rel: "meminfo/x", want: errno.ENOTDIR}, // a file as a directory
		{rel: "1/status/x", want: errno.ENOTDIR},
		{rel: "self/stat/x", self: 1, want: errno.ENOTDIR},
		{rel: "1/cwd/etc", want: errno.ENOTDIR}, // a symlink mid-path
		{rel: "1/fd/0/x", want: errno.ENOTDIR},
		{rel: "self/exe/x", self: 1, want: errno.ENOTDIR},
	}
	for _, tt := range tests {
		_, got := Lookup(newFake(), tt.self, tt.rel)
		if got != tt.want {
			t.Errorf("Lookup(self=%d, %q) = %v, want %v", tt.self, tt.rel, got, tt.want)
		}
	}
}

func TestDirectories(t *testing.T) {
	tests := []struct {
		rel  string
		self int
		want Node // without Entries' Ino
		ents []string
	}{
		{
			rel: "", self: 42,
			want: Node{Kind: Dir, Mode: 0o555, Ino: 1},
			ents: []string{"1", "100", "13", "42", "7", "cpuinfo", "filesystems", "loadavg", "meminfo",
				"mounts", "net", "self", "stat", "thread-self", "uptime", "version"},
		},
		{
			rel: "", self: 0, // no self or thread-self for a kernel thread
			want: Node{Kind: Dir, Mode: 0o555, Ino: 1},
			ents: []string{"1", "100", "13", "42", "7", "cpuinfo", "filesystems", "loadavg", "meminfo",
				"mounts", "net", "stat", "uptime", "version"},
		},
		{
			rel:  "42",
			want: Node{Kind: Dir, Mode: 0o555, Ino: 42<<32 | 1, UID: 1000, GID: 100},
			ents: []string{"cmdline", "comm", "cwd", "environ", "exe", "fd", "mounts", "net", "stat", "statm", "status"},
		},
		{
			rel:  "7", // a zombie: no exe, no cwd
			want: Node{Kind: Dir, Mode: 0o555, Ino: 7<<32 | 1},
			ents: []string{"cmdline", "comm", "environ", "fd", "mounts", "net", "stat", "statm", "status"},
		},
		{
			rel:  "42/fd", // sorted by name; no -1, one 10
			want: Node{Kind: Dir, Mode: 0o500, Ino: 42<<32 | 7, UID: 1000, GID: 100},
			ents: []string{"0", "1", "10", "100", "2"},
		},
		{
			rel:  "7/fd",
			want: Node{Kind: Dir, Mode: 0o500, Ino: 7<<32 | 7},
		},
		{
			rel:  "net",
			want: Node{Kind: Dir, Mode: 0o555, Ino: 12},
			ents: netNames,
		},
		{
			rel:  "42/net", // the same files, the process's
			want: Node{Kind: Dir, Mode: 0o555, Ino: 42<<32 | 12, UID: 1000, GID: 100},
			ents: netNames,
		},
	}
	for _, tt := range tests {
		n, e := Lookup(newFake(), tt.self, tt.rel)
		if e != 0 {
			t.Errorf("Lookup(%q): %v", tt.rel, e)
			continue
		}
		if diff := cmp.Diff(tt.ents, names(n)); diff != "" {
			t.Errorf("Lookup(%q) entries (-want +got):\n%s", tt.rel, diff)
		}
		n.Entries = nil
		if diff := cmp.Diff(tt.want, n); diff != "" {
			t.Errorf("Lookup(%q) (-want +got):\n%s", tt.rel, diff)
		}
	}
}

func TestSymlinks(t *testing.T) {
	tests := []struct {
		rel  string
		self int
		want Node
	}{
		{"self", 42, Node{Kind: Symlink, Mode: 0o777, Ino: 10, Link: "42"}},
		{"thread-self", 42, Node{Kind: Symlink, Mode: 0o777, Ino: 11, Link: "42"}},
		{"self/exe", 42, Node{Kind: Symlink, Mode: 0o777, Ino: 42<<32 | 6, Link: "/bin/sh", UID: 1000, GID: 100}},
		{"1/exe", 42, Node{Kind: Symlink, Mode: 0o777, Ino: 1<<32 | 6, Link: "/bin/init"}},
		{"1/cwd", 42, Node{Kind: Symlink, Mode: 0o777, Ino: 1<<32 | 4, Link: "/"}},
		{"42/fd/1", 1, Node{Kind: Symlink, Mode: 0o700, Ino: 42<<32 | 1<<31 | 1, Link: "pipe:[12]", UID: 1000, GID: 100}},
		{"42/fd/10", 1, Node{Kind: Symlink, Mode: 0o700, Ino: 42<<32 | 1<<31 | 10, Link: "anon_inode:[eventfd]", UID: 1000, GID: 100}},
		{"thread-self/fd/100", 42, Node{Kind: Symlink, Mode: 0o700, Ino: 42<<32 | 1<<31 | 100, Link: "/etc/motd", UID: 1000, GID: 100}},
	}
	for _, tt := range tests {
		got, e := Lookup(newFake(), tt.self, tt.rel)
		if e != 0 {
			t.Errorf("Lookup(self=%d, %q): %v", tt.self, tt.rel, e)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Lookup(self=%d, %q) (-want +got):\n%s", tt.self, tt.rel, diff)
		}
	}
}

func TestWalkStopsAtSymlink(t *testing.T) {
	tests := []struct {
		rel      string
		wantLink string
		wantRest string
	}{
		{"self/cwd/notes/a.txt", "/home/user", "notes/a.txt"},
		{"42/exe/x", "/bin/sh", "x"},
		{"42/fd/100/y", "/etc/motd", "y"},
		{"self/status", "", ""}, // self is resolved, not returned
	}
	for _, tt := range tests {
		n, rest, e := Walk(newFake(), 42, tt.rel)
		if e != 0 {
			t.Errorf("Walk(%q): %v", tt.rel, e)
			continue
		}
		if n.Link != tt.wantLink || rest != tt.wantRest {
			t.Errorf("Walk(%q) = link %q rest %q, want %q %q", tt.rel, n.Link, rest, tt.wantLink, tt.wantRest)
		}
	}
}

// TestSelfIsPID checks that every path through self and thread-self
// gives the same Node as through the pid.
func TestSelfIsPID(t *testing.T) {
	for _, self := range []int{1, 7, 42, 100} {
		for _, f := range append(slices.Clone(pidFiles), pidFile{name: "fd/0"}, pidFile{name: "fd/0/x"}) {
			byPID, e1 := Lookup(newFake(), self, path.Join(itoa(self), f.name))
			for _, alias := range []string{"self", "thread-self"} {
				rel := path.Join(alias, f.name)
				got, e2 := Lookup(newFake(), self, rel)
				if e1 != e2 {
					t.Errorf("self=%d: %q: %v, via pid: %v", self, rel, e2, e1)
				}
				if diff := cmp.Diff(byPID, got); diff != "" {
					t.Errorf("self=%d: %q differs from via pid (-pid +self):\n%s", self, rel, diff)
				}
			}
		}
	}
}

// TestTree walks the whole tree and checks doc.go's invariants: every
// entry resolves to a node of its kind and inode number, entries are
// sorted and unique, and inode numbers are non-zero and unique.
func TestTree(t *testing.T) {
	src := newFake()
	src.ghosts = nil // a ghost is listed but does not resolve
	seen := map[uint64]string{}
	var walk func(rel string, n Node)
	walk = func(rel string, n Node) {
		if n.Ino == 0 {
			t.Errorf("%q: inode number 0", rel)
		}
		if other, ok := seen[n.Ino]; ok {
			t.Errorf("%q and %q share inode number %#x", rel, other, n.Ino)
		}
		seen[n.Ino] = rel
		if n.Kind != Dir {
			return
		}
		if !slices.IsSortedFunc(n.Entries, func(a, b Entry) int { return strings.Compare(a.Name, b.Name) }) {
			t.Errorf("%q: entries not sorted: %q", rel, names(n))
		}
		for i, ent := range n.Entries {
			if ent.Name == "" || ent.Name == "." || ent.Name == ".." || strings.Contains(ent.Name, "/") {
				t.Errorf("%q: bad entry name %q", rel, ent.Name)
			}
			if i > 0 && n.Entries[i-1].Name == ent.Name {
				t.Errorf("%q: entry %q twice", rel, ent.Name)
			}
			child := path.Join(rel, ent.Name)
			got, e := Lookup(src, 42, child)
			if e != 0 {
				t.Errorf("%q is listed, but Lookup: %v", child, e)
				continue
			}
			if got.Kind != ent.Kind || got.Ino != ent.Ino {
				t.Errorf("%q: listed as %v %#x, found %v %#x", child, ent.Kind, ent.Ino, got.Kind, got.Ino)
			}
			walk(child, got)
		}
	}
	root, e := Lookup(src, 42, "")
	if e != 0 {
		t.Fatalf("Lookup(\"\"): %v", e)
	}
	walk("", root)
	if len(seen) < 50 {
		t.Errorf("walked only %d nodes", len(seen))
	}
}

// TestInoStable checks that inode numbers depend on the path only, not
// on the state rendered.
func TestInoStable(t *testing.T) {
	for _, rel := range []string{"", "meminfo", "1", "1/stat", "42/fd", "42/fd/100", "self"} {
		a, _ := Lookup(newFake(), 42, rel)
		src := newFake()
		src.mem.Free /= 2
		p := src.procs[42]
		p.UTime *= 3
		src.procs[42], src.procs[1] = p, p
		b, _ := Lookup(src, 42, rel)
		if a.Ino != b.Ino || a.Ino == 0 {
			t.Errorf("%q: inode number %#x, then %#x", rel, a.Ino, b.Ino)
		}
	}
}

// TestLookupAsksOnlyForWhatItNeeds checks that a system file does not
// look at processes, and a process file at its process only.
func TestLookupAsksOnlyForWhatItNeeds(t *testing.T) {
	tests := []struct {
		rel  string
		want int
	}{
		{"meminfo", 0},
		{"", 0},
		{"self", 0},
		{"self/status", 1},
		{"42/fd/1", 1},
	}
	for _, tt := range tests {
		src := newFake()
		Lookup(src, 42, tt.rel)
		if src.processes != tt.want {
			t.Errorf("Lookup(%q) asked for %d processes, want %d", tt.rel, src.processes, tt.want)
		}
	}
}

func FuzzLookup(f *testing.F) {
	for _, s := range []string{"", "self", "self/status", "1/fd/0", "42/fd/100/x", "thread-self/cwd/a",
		"7/exe", "01", "1//stat", "/", "..", "meminfo/x", "4294967297/stat", "99999999999999999999"} {
		f.Add(s, 42)
	}
	f.Fuzz(func(t *testing.T, rel string, self int) {
		n, e := Lookup(newFake(), self, rel)
		if e == 0 && n.Ino == 0 {
			t.Errorf("Lookup(%q): inode number 0", rel)
		}
		if e != 0 && e != errno.ENOENT && e != errno.ENOTDIR {
			t.Errorf("Lookup(%q): unexpected %v", rel, e)
		}
		n2, rest, e2 := Walk(newFake(), self, rel)
		if e2 == 0 && rest != "" && n2.Kind != Symlink {
			t.Errorf("Walk(%q): stopped at a %v with rest %q", rel, n2.Kind, rest)
		}
	})
}

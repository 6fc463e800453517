package procfs

import (
	"fmt"
	"slices"
	"strings"
)

// renderMounts renders /proc/mounts and /proc/<pid>/mounts in fstab(5)
// format, "source target fstype options 0 0", with space, tab, newline
// and backslash in a field written as octal escapes (\040, \011, \012,
// \134), as Linux's show_vfsmnt does and getmntent(3) undoes. An empty
// field is shown as "none" (options as "rw"), so every line has six.
func renderMounts(src Source) []byte {
	var b []byte
	for _, m := range src.Mounts() {
		opts := m.Options
		if opts == "" {
			opts = "rw"
		}
		b = fmt.Appendf(b, "%s %s %s %s 0 0\n",
			mangle(orNone(m.Source)), mangle(orNone(m.Target)), mangle(orNone(m.FSType)), mangle(opts))
	}
	return b
}

func mangle(s string) string {
	if !strings.ContainsAny(s, " \t\n\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t', '\n', '\\':
			fmt.Fprintf(&b, "\\%03o", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// filesystems are the filesystem types Valence has, as /proc/filesystems
// lists them: nodev for those that need no block device.
var filesystems = []struct {
	name  string
	nodev bool
}{
	{"initfs", true},
	{"devtmpfs", true},
	{"proc", true},
	{"valfs", false},
}

// renderFilesystems renders /proc/filesystems: "nodev\tname" or
// "\tname" per line. A type that is mounted but not in the list above is
// added, as nodev, so that mount(8) never calls a mounted type unknown.
func renderFilesystems(src Source) []byte {
	var b []byte
	var seen []string
	for _, f := range filesystems {
		if f.nodev {
			b = append(b, "nodev"...)
		}
		b = fmt.Appendf(b, "\t%s\n", f.name)
		seen = append(seen, f.name)
	}
	for _, m := range src.Mounts() {
		t := m.FSType
		if t == "" || strings.ContainsAny(t, " \t\n") || slices.Contains(seen, t) {
			continue
		}
		b = fmt.Appendf(b, "nodev\t%s\n", t)
		seen = append(seen, t)
	}
	return b
}

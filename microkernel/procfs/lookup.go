package procfs

import (
	"strconv"
	"strings"

	"gvisor.dev/gvisor/pkg/abi/linux/errno"
)

// Lookup finds rel, a clean path relative to /proc ("" for /proc itself,
// no leading slash), for a caller whose pid is self: "self" and
// "thread-self" resolve to it, also in the middle of rel ("self/status"
// is "<self>/status"). Lookup follows no other symlink: one in the middle
// of rel is ENOTDIR (use Walk to follow it). A name that does not exist,
// a process that has exited, or a rel that is not clean is ENOENT; a file
// used as a directory is ENOTDIR.
func Lookup(src Source, self int, rel string) (Node, errno.Errno) {
	n, rest, e := Walk(src, self, rel)
	if e != 0 {
		return Node{}, e
	}
	if rest != "" {
		return Node{}, errno.ENOTDIR
	}
	return n, 0
}

// Walk is Lookup for a caller that follows symlinks itself. It walks rel
// as Lookup does, but when a component before the last is a symlink (other
// than self and thread-self, which it resolves), it stops there and
// returns that symlink's Node and rest, the components after it, so that
// the caller can go on at path.Join(n.Link, rest). rest is "" when rel was
// walked to its end. The targets of exe, cwd and fd/N are absolute; a
// target such as "pipe:[12]" names no path, and following it is ENOENT.
func Walk(src Source, self int, rel string) (n Node, rest string, e errno.Errno) {
	names, ok := split(rel)
	if !ok {
		return Node{}, "", errno.ENOENT
	}
	if len(names) == 0 {
		return rootDir(src, self), "", 0
	}
	first, names := names[0], names[1:]
	if first == "self" || first == "thread-self" {
		if !validPID(self) {
			return Node{}, "", errno.ENOENT
		}
		if len(names) == 0 {
			return selfLink(first, self), "", 0
		}
		first = strconv.Itoa(self)
	}
	if first == "net" {
		return walkNet(src, 0, names, 0, 0)
	}
	if f, ok := findRootFile(first); ok {
		if len(names) > 0 {
			return Node{}, "", errno.ENOTDIR
		}
		return f.node(src), "", 0
	}
	pid, ok := parseNum(first, maxPID)
	if !ok || !validPID(pid) {
		return Node{}, "", errno.ENOENT
	}
	return walkProcess(src, pid, names)
}

// split breaks rel into its names. It refuses a path that is not clean:
// a leading or trailing slash, an empty name, "." or "..".
func split(rel string) ([]string, bool) {
	if rel == "" {
		return nil, true
	}
	names := strings.Split(rel, "/")
	for _, n := range names {
		if n == "" || n == "." || n == ".." {
			return nil, false
		}
	}
	return names, true
}

// parseNum parses a pid or fd number written the one way Linux accepts
// (its name_to_int): decimal digits, no sign, no leading zero. Anything
// else, or a value above max, is not a number, so "01" never aliases "1".
func parseNum(s string, max int) (int, bool) {
	if s == "" || len(s) > 10 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	v := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	if v > max {
		return 0, false
	}
	return v, true
}

func validPID(pid int) bool { return pid >= 1 && pid <= maxPID }

// joinRest joins the names left after a symlink met mid-path.
func joinRest(names []string) string { return strings.Join(names, "/") }

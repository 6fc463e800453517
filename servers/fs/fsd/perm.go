package fsd

import (
	"slices"
	"syscall"

	"valence.dev/servers/fs/fileproto"
	"valence.dev/servers/fs/fs"
)

// Permissions follow Unix: the owner's bits if the caller owns the
// file, else the group's if the caller is in its group, else the
// others'. Uid 0 passes every check except execute of a file with no
// execute bit at all.

const (
	modeSetuid = 0o4000
	modeSetgid = 0o2000
	modeSticky = 0o1000
)

func checkCred(c fileproto.Cred) error {
	if len(c.Groups) > fileproto.MaxGroups {
		return errno(syscall.EINVAL, "%d groups (at most %d)", len(c.Groups), fileproto.MaxGroups)
	}
	return nil
}

func inGroup(c fileproto.Cred, gid uint32) bool {
	return c.Gid == gid || slices.Contains(c.Groups, gid)
}

// may reports whether c may access st as want (MayRead|MayWrite|MayExec).
func may(c fileproto.Cred, st fs.Stat, want uint32) bool {
	if c.Uid == 0 {
		return want&fileproto.MayExec == 0 || st.IsDir() || st.Mode&0o111 != 0
	}
	bits := st.Mode & 7
	switch {
	case c.Uid == st.Uid:
		bits = st.Mode >> 6 & 7
	case inGroup(c, st.Gid):
		bits = st.Mode >> 3 & 7
	}
	return bits&want == want
}

// owns reports whether c may change st's attributes as its owner.
func owns(c fileproto.Cred, st fs.Stat) bool { return c.Uid == 0 || c.Uid == st.Uid }

// mayChangeIn checks that c may add or remove names in directory dir.
func mayChangeIn(c fileproto.Cred, dir node) error {
	if !may(c, dir.st, fileproto.MayWrite|fileproto.MayExec) {
		return errno(syscall.EACCES, "write permission denied in %s", join(dir.path))
	}
	return nil
}

// mayRemove checks that c may remove or replace the entry l names:
// write and search in its directory, and in a sticky directory (/tmp)
// ownership of the entry or of the directory.
func mayRemove(c fileproto.Cred, l loc) error {
	if err := mayChangeIn(c, l.dir); err != nil {
		return err
	}
	if l.dir.st.Mode&modeSticky != 0 && c.Uid != 0 && c.Uid != l.st.Uid && c.Uid != l.dir.st.Uid {
		return errno(syscall.EPERM, "%s: sticky directory", l.path())
	}
	return nil
}

// newOwner returns the owner of a file c creates in dir: c's uid, and
// the directory's group if it is setgid, else c's gid.
func newOwner(c fileproto.Cred, dir node) (uint32, uint32) {
	if dir.st.Mode&modeSetgid != 0 {
		return c.Uid, dir.st.Gid
	}
	return c.Uid, c.Gid
}

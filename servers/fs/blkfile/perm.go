package blkfile

import (
	"slices"
	"syscall"

	"valence.dev/servers/fs/fileproto"
)

// Permissions follow Linux's generic_permission: the owner's bits if
// the caller owns the file, else the group's if the caller is in its
// group, else the others'. Uid 0 passes every check except execute,
// which needs some execute bit on a non-directory.

const (
	permBits   = 0o7777
	modeSetuid = 0o4000
	modeSetgid = 0o2000
)

// checkCred refuses a Cred with more groups than the protocol allows.
func (s *Server) checkCred(c fileproto.Cred) error {
	if len(c.Groups) > fileproto.MaxGroups {
		return s.errno(syscall.EINVAL, "%d groups (at most %d)", len(c.Groups), fileproto.MaxGroups)
	}
	return nil
}

func inGroup(c fileproto.Cred, gid uint32) bool {
	return c.Gid == gid || slices.Contains(c.Groups, gid)
}

// may reports whether c may access a file with attributes a as want
// (an OR of MayRead, MayWrite, MayExec).
func may(c fileproto.Cred, a attr, want uint32) bool {
	if c.Uid == 0 {
		return want&fileproto.MayExec == 0 || a.mode&0o111 != 0
	}
	bits := a.mode & 7
	switch {
	case c.Uid == a.uid:
		bits = a.mode >> 6 & 7
	case inGroup(c, a.gid):
		bits = a.mode >> 3 & 7
	}
	return bits&want == want
}

// owns reports whether c may change a's attributes as its owner
// (inode_owner_or_capable).
func owns(c fileproto.Cred, a attr) bool { return c.Uid == 0 || c.Uid == a.uid }

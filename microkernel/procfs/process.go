package procfs

import (
	"cmp"
	"slices"
	"strconv"

	"gvisor.dev/gvisor/pkg/abi/linux/errno"
)

// pidFile is one name in /proc/<pid>/.
type pidFile struct {
	name string
	kind Kind
	mode uint32
	slot uint32 // ino(pid, slot); fixed per name, never dirSlot

	data func(Source, *Proc) []byte // File: the content
	link func(*Proc) string         // Symlink: the target; "" hides the name
}

// fdDirSlot is the slot of /proc/<pid>/fd.
const fdDirSlot = 7

// pidFiles is the content of every /proc/<pid>/; the renderers are in
// process_files.go. fd and net are directories, handled by walkFD and
// walkNet (net.go).
var pidFiles = []pidFile{
	{name: "cmdline", kind: File, mode: modeFile, slot: 2, data: renderCmdline},
	{name: "comm", kind: File, mode: modeFile, slot: 3, data: renderComm},
	{name: "cwd", kind: Symlink, mode: modeSymlink, slot: 4, link: func(p *Proc) string { return liveOnly(p, p.Cwd) }},
	{name: "environ", kind: File, mode: modePrivate, slot: 5, data: renderEnviron},
	{name: "exe", kind: Symlink, mode: modeSymlink, slot: 6, link: func(p *Proc) string { return liveOnly(p, p.Exe) }},
	{name: "fd", kind: Dir, mode: modeFDDir, slot: fdDirSlot},
	{name: "mounts", kind: File, mode: modeFile, slot: 8, data: func(src Source, _ *Proc) []byte { return renderMounts(src) }},
	{name: "net", kind: Dir, mode: modeDir, slot: netDirSlot},
	{name: "stat", kind: File, mode: modeFile, slot: 9, data: renderProcStat},
	{name: "statm", kind: File, mode: modeFile, slot: 10, data: renderStatm},
	{name: "status", kind: File, mode: modeFile, slot: 11, data: renderStatus},
}

// exited reports whether p has released its address space, files and
// working directory: a zombie, or dead.
func exited(p *Proc) bool { return p.State == 'Z' || p.State == 'X' }

// liveOnly returns s, or "" if p has exited (a zombie has no exe or cwd).
func liveOnly(p *Proc, s string) string {
	if exited(p) {
		return ""
	}
	return s
}

func findPIDFile(name string) (pidFile, bool) {
	i := slices.IndexFunc(pidFiles, func(f pidFile) bool { return f.name == name })
	if i < 0 {
		return pidFile{}, false
	}
	return pidFiles[i], true
}

// present reports whether f appears in p's directory.
func (f pidFile) present(p *Proc) bool {
	return f.kind != Symlink || f.link(p) != ""
}

// walkProcess walks names below /proc/<pid>.
func walkProcess(src Source, pid int, names []string) (Node, string, errno.Errno) {
	p, ok := src.Process(pid)
	if !ok {
		return Node{}, "", errno.ENOENT
	}
	if len(names) == 0 {
		return processDir(&p, pid), "", 0
	}
	f, ok := findPIDFile(names[0])
	if !ok || !f.present(&p) {
		return Node{}, "", errno.ENOENT
	}
	n := Node{Kind: f.kind, Mode: f.mode, Ino: ino(pid, f.slot), UID: p.UID, GID: p.GID}
	switch f.kind {
	case Dir:
		if f.name == "net" {
			return walkNet(src, pid, names[1:], p.UID, p.GID)
		}
		return walkFD(&p, pid, names[1:])
	case Symlink:
		n.Link = f.link(&p)
		return n, joinRest(names[1:]), 0
	}
	if len(names) > 1 {
		return Node{}, "", errno.ENOTDIR
	}
	n.Data = f.data(src, &p)
	return n, "", 0
}

// processDir is /proc/<pid>/.
func processDir(p *Proc, pid int) Node {
	entries := make([]Entry, 0, len(pidFiles))
	for _, f := range pidFiles {
		if f.present(p) {
			entries = append(entries, Entry{Name: f.name, Kind: f.kind, Ino: ino(pid, f.slot)})
		}
	}
	return dirNode(modeDir, ino(pid, dirSlot), entries, p.UID, p.GID)
}

// walkFD walks names below /proc/<pid>/fd.
func walkFD(p *Proc, pid int, names []string) (Node, string, errno.Errno) {
	fds := openFDs(p)
	if len(names) == 0 {
		entries := make([]Entry, len(fds))
		for i, fd := range fds {
			entries[i] = Entry{Name: strconv.Itoa(fd.Num), Kind: Symlink, Ino: fdIno(pid, fd.Num)}
		}
		return dirNode(modeFDDir, ino(pid, fdDirSlot), entries, p.UID, p.GID), "", 0
	}
	num, ok := parseNum(names[0], maxFD)
	if !ok {
		return Node{}, "", errno.ENOENT
	}
	i, ok := slices.BinarySearchFunc(fds, num, func(fd FD, n int) int { return cmp.Compare(fd.Num, n) })
	if !ok {
		return Node{}, "", errno.ENOENT
	}
	n := Node{Kind: Symlink, Mode: modeFDLink, Ino: fdIno(pid, num), Link: fds[i].Path, UID: p.UID, GID: p.GID}
	return n, joinRest(names[1:]), 0
}

func fdIno(pid, num int) uint64 { return ino(pid, fdSlot|uint32(num)) }

// openFDs returns p's descriptors sorted by number, keeping the first of
// any duplicates and dropping numbers that cannot be a descriptor. A
// process that has exited has none.
func openFDs(p *Proc) []FD {
	if exited(p) {
		return nil
	}
	fds := slices.DeleteFunc(slices.Clone(p.FDs), func(fd FD) bool { return fd.Num < 0 || fd.Num > maxFD })
	slices.SortStableFunc(fds, func(a, b FD) int { return cmp.Compare(a.Num, b.Num) })
	return slices.CompactFunc(fds, func(a, b FD) bool { return a.Num == b.Num })
}

package procfs

import (
	"slices"
	"strconv"
)

// rootFile is one of the system files directly in /proc.
type rootFile struct {
	name   string
	slot   uint32 // ino(0, slot); fixed per name, never dirSlot
	render func(Source) []byte
}

// rootFiles are /proc's system files, each rendered by system.go.
var rootFiles = []rootFile{
	{"cpuinfo", 2, renderCPUInfo},
	{"filesystems", 3, renderFilesystems},
	{"loadavg", 4, renderLoadavg},
	{"meminfo", 5, renderMeminfo},
	{"mounts", 6, renderMounts},
	{"stat", 7, renderStat},
	{"uptime", 8, renderUptime},
	{"version", 9, renderVersion},
}

// The slots of /proc/self and /proc/thread-self.
const (
	selfSlot       = 10
	threadSelfSlot = 11
)

func findRootFile(name string) (rootFile, bool) {
	i := slices.IndexFunc(rootFiles, func(f rootFile) bool { return f.name == name })
	if i < 0 {
		return rootFile{}, false
	}
	return rootFiles[i], true
}

func (f rootFile) node(src Source) Node {
	return Node{Kind: File, Mode: modeFile, Ino: ino(0, f.slot), Data: f.render(src)}
}

// selfLink is /proc/self or /proc/thread-self for the caller self. Both
// point at the process directory: Valence has no per-thread task/ dirs,
// and what programs read through thread-self (stat, status, comm) says
// the same there.
func selfLink(name string, self int) Node {
	slot := uint32(selfSlot)
	if name == "thread-self" {
		slot = threadSelfSlot
	}
	return Node{Kind: Symlink, Mode: modeSymlink, Ino: ino(0, slot), Link: strconv.Itoa(self)}
}

// rootDir is /proc: every live pid, the system files, and self and
// thread-self if the caller is a process.
func rootDir(src Source, self int) Node {
	pids := livePIDs(src)
	entries := make([]Entry, 0, len(pids)+len(rootFiles)+3)
	for _, pid := range pids {
		entries = append(entries, Entry{Name: strconv.Itoa(pid), Kind: Dir, Ino: ino(pid, dirSlot)})
	}
	for _, f := range rootFiles {
		entries = append(entries, Entry{Name: f.name, Kind: File, Ino: ino(0, f.slot)})
	}
	entries = append(entries, Entry{Name: "net", Kind: Dir, Ino: ino(0, netDirSlot)})
	if validPID(self) {
		entries = append(entries,
			Entry{Name: "self", Kind: Symlink, Ino: ino(0, selfSlot)},
			Entry{Name: "thread-self", Kind: Symlink, Ino: ino(0, threadSelfSlot)})
	}
	return dirNode(modeDir, ino(0, dirSlot), entries, 0, 0)
}

// livePIDs returns src's pids, sorted, without duplicates or values
// that cannot be a pid.
func livePIDs(src Source) []int {
	pids := slices.DeleteFunc(slices.Clone(src.PIDs()), func(p int) bool { return !validPID(p) })
	slices.Sort(pids)
	return slices.Compact(pids)
}

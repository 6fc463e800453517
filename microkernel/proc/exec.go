package proc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"path"
	"strings"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/arch/amd64"
	"valence.dev/microkernel/elf"
	"valence.dev/microkernel/kfile"
	"valence.dev/microkernel/mm"
	"valence.dev/microkernel/mm/vma"
	"valence.dev/microkernel/rt"
	"valence.dev/microkernel/vfs"
)

// The initial stack: 8 MiB, demand-paged, ending below the top of user
// space with an unmapped guard gap under it.
const (
	stackTop  = 0x0000_7fff_fff0_0000
	stackSize = 8 << 20
	maxArgs   = 256 << 10 // bytes of argv+envp strings, like ARG_MAX/8
)

// image is a loaded program ready to run.
type image struct {
	as    *mm.AddressSpace
	entry uint64
	sp    uint64
	brk   uint64
	name  string
	path  string // the executable's absolute path
}

// load reads the executable at path from the file system, maps it into a
// new address space, and builds the initial stack with argv, envp and the
// auxiliary vector (System V AMD64 ABI §3.4.1).
func load(ns *vfs.Table, t *Thread, cwd, file string, argv, envp []string) (*image, errno.Errno, error) {
	data, full, e, why := readExecutable(ns, t, cwd, file)
	if e != 0 {
		return nil, e, why
	}
	return loadImage(data, full, argv, envp)
}

// loadImage is load once the executable has been read.
func loadImage(data []byte, full string, argv, envp []string) (*image, errno.Errno, error) {
	f, err := elf.Parse(data)
	if err != nil {
		return nil, errno.ENOEXEC, fmt.Errorf("%s: %w", full, err)
	}
	n := 0
	for _, s := range append(argv, envp...) {
		n += len(s) + 1
	}
	if n > maxArgs {
		return nil, errno.E2BIG, fmt.Errorf("%s: arguments too long", full)
	}
	as, err := mm.NewAddressSpace()
	if err != nil {
		return nil, errno.ENOMEM, err
	}
	img := &image{as: as, entry: f.Entry, name: path.Base(full), path: full}
	if err := mapSegments(as, f, data); err != nil {
		as.Release()
		return nil, errno.ENOMEM, fmt.Errorf("%s: %w", full, err)
	}
	for _, s := range f.Segments {
		if e := pageUpU(s.End()); e > img.brk {
			img.brk = e
		}
	}
	if _, err := as.Map(stackTop-stackSize, stackSize, vma.Read|vma.Write, true, false, 0); err != nil {
		as.Release()
		return nil, errno.ENOMEM, err
	}
	sp, err := buildStack(as, f, full, argv, envp)
	if err != nil {
		as.Release()
		return nil, errno.EFAULT, err
	}
	img.sp = sp
	return img, 0, nil
}

// mapSegments maps each loadable segment, copies its file bytes in, and
// then applies its permissions. Segments may share a page at their edges;
// such a page gets the union of their permissions.
func mapSegments(as *mm.AddressSpace, f *elf.File, data []byte) error {
	type span struct {
		start, end uint64
		prot       vma.Prot
	}
	var spans []span
	for _, s := range f.Segments {
		start, end := s.Vaddr&^(mm.PageSize-1), pageUpU(s.End())
		p := segProt(s.Prot)
		if n := len(spans); n > 0 && start < spans[n-1].end {
			spans[n-1].prot |= p // the shared page
			start = spans[n-1].end
		}
		if start < end {
			spans = append(spans, span{start, end, p})
		}
	}
	for _, sp := range spans {
		if _, err := as.Map(sp.start, sp.end-sp.start, vma.Read|vma.Write, true, false, 0); err != nil {
			return err
		}
	}
	for _, s := range f.Segments {
		if s.Filesz > 0 {
			if err := as.CopyOut(s.Vaddr, data[s.Offset:s.Offset+s.Filesz]); err != nil {
				return err
			}
		}
	}
	for _, sp := range spans {
		if err := as.Protect(sp.start, sp.end-sp.start, sp.prot); err != nil {
			return err
		}
	}
	return nil
}

func segProt(p int) vma.Prot {
	var r vma.Prot
	if p&elf.ProtRead != 0 {
		r |= vma.Read
	}
	if p&elf.ProtWrite != 0 {
		r |= vma.Write | vma.Read
	}
	if p&elf.ProtExec != 0 {
		r |= vma.Exec | vma.Read
	}
	return r
}

// buildStack writes the strings, the auxiliary vector and the argv/envp
// pointer arrays at the top of the stack and returns the stack pointer,
// which points at argc and is 16-byte aligned.
func buildStack(as *mm.AddressSpace, f *elf.File, execfn string, argv, envp []string) (uint64, error) {
	var strs []byte
	add := func(s string) uint64 { // offset from the end, fixed up below
		strs = append(strs, s...)
		strs = append(strs, 0)
		return uint64(len(strs))
	}
	argOff := make([]uint64, len(argv))
	for i, a := range argv {
		argOff[i] = add(a)
	}
	envOff := make([]uint64, len(envp))
	for i, e := range envp {
		envOff[i] = add(e)
	}
	platOff := add("x86_64")
	fnOff := add(execfn)
	var random [16]byte
	rt.RandomBytes(random[:])
	strs = append(strs, random[:]...)
	randOff := uint64(len(strs))

	top := uint64(stackTop)
	strBase := (top - uint64(len(strs))) &^ 15
	// Strings are laid out from strBase; a string ending at offset o
	// (counted from the start of strs) begins at strBase + o - len - 1.
	addrOf := func(end uint64, n int) uint64 { return strBase + end - uint64(n) - 1 }
	_, _, _, edx := amd64.Cpuid(1, 0)
	auxv := []uint64{
		linux.AT_PHDR, f.Phdr,
		linux.AT_PHENT, uint64(f.Phentsize),
		linux.AT_PHNUM, uint64(f.Phnum),
		linux.AT_PAGESZ, mm.PageSize,
		linux.AT_BASE, 0,
		linux.AT_FLAGS, 0,
		linux.AT_ENTRY, f.Entry,
		linux.AT_UID, 0, linux.AT_EUID, 0, linux.AT_GID, 0, linux.AT_EGID, 0,
		linux.AT_SECURE, 0,
		linux.AT_HWCAP, uint64(edx),
		linux.AT_CLKTCK, 100,
		linux.AT_RANDOM, strBase + randOff - 16,
		linux.AT_PLATFORM, addrOf(platOff, len("x86_64")),
		linux.AT_EXECFN, addrOf(fnOff, len(execfn)),
		linux.AT_NULL, 0,
	}
	words := 1 + len(argv) + 1 + len(envp) + 1 + len(auxv)
	sp := (strBase - uint64(words*8)) &^ 15
	w := make([]byte, 0, words*8)
	put := func(v uint64) { w = binary.LittleEndian.AppendUint64(w, v) }
	put(uint64(len(argv)))
	for i, a := range argv {
		put(addrOf(argOff[i], len(a)))
	}
	put(0)
	for i, e := range envp {
		put(addrOf(envOff[i], len(e)))
	}
	put(0)
	for _, v := range auxv {
		put(v)
	}
	if err := as.CopyOut(strBase, strs); err != nil {
		return 0, err
	}
	if err := as.CopyOut(sp, w); err != nil {
		return 0, err
	}
	return sp, nil
}

// maxExecutable bounds the executables the kernel reads whole into its
// heap to load them.
const maxExecutable = 512 << 20

// readExecutable reads an executable file, found in namespace ns
// (relative to cwd) with symlinks followed, on behalf of thread t (nil:
// the kernel). If it cannot, it returns the errno and the reason, for the
// log.
func readExecutable(ns *vfs.Table, t *Thread, cwd, file string) ([]byte, string, errno.Errno, error) {
	r, e := resolveIn(ns, cwd, file)
	if e != 0 {
		return nil, file, e, fmt.Errorf("%s: %w", file, errnoError(e))
	}
	c := callerOf(t)
	full := r.abs
	st, e := r.fs.Stat(c, r.at, 0)
	if target, leaves := procLinkOut(c, r, e); leaves {
		// /proc/self/exe and its kind point out of /proc, which cannot
		// resolve other mounts: follow the link here, once, as Linux
		// follows its magic links (exec of /proc/self/exe re-runs the
		// program).
		if r, e = resolveIn(ns, "/", target); e != 0 {
			return nil, target, e, fmt.Errorf("%s: %w", target, errnoError(e))
		}
		full = r.abs
		st, e = r.fs.Stat(c, r.at, 0)
	}
	if e != 0 {
		return nil, full, e, fmt.Errorf("%s: %w", full, errnoError(e))
	}
	switch {
	case st.Mode&linux.S_IFMT == linux.S_IFDIR:
		return nil, full, errno.EACCES, fmt.Errorf("%s: is a directory", full)
	case st.Mode&linux.S_IFMT != linux.S_IFREG:
		return nil, full, errno.EACCES, fmt.Errorf("%s: not a regular file", full)
	case st.Mode&0o111 == 0:
		return nil, full, errno.EACCES, fmt.Errorf("%s: not executable (mode %#o)", full, st.Mode&0o7777)
	case st.Size > maxExecutable:
		return nil, full, errno.ENOMEM, fmt.Errorf("%s: %d bytes, over the %d the kernel loads", full, st.Size, maxExecutable)
	}
	if n, isNode := r.fs.(nodeFS); isNode {
		// The initfs's bytes are in memory already: no copy.
		if nd, e := n.walk(r.at, true); e == 0 {
			if data, ok := nd.bytes(); ok {
				return data, full, 0, nil
			}
		}
	}
	if e := admitObject(uint64(st.Size)); e != 0 {
		return nil, full, e, fmt.Errorf("%s: no kernel memory for its %d bytes", full, st.Size)
	}
	f, e := r.fs.Open(c, r.at, linux.O_RDONLY, 0)
	if e != 0 {
		return nil, full, e, fmt.Errorf("%s: open: %w", full, errnoError(e))
	}
	defer f.Release()
	data := make([]byte, st.Size)
	for off := 0; off < len(data); {
		n, e := f.Read(c, data[off:], int64(off), false)
		if e != 0 {
			return nil, full, e, fmt.Errorf("%s: read at %d: %w", full, off, errnoError(e))
		}
		if n == 0 {
			data = data[:off] // it shrank meanwhile
			break
		}
		off += n
	}
	return data, full, 0, nil
}

// Spawn starts the program at path as a new process, a child of parent
// (nil for the first process), with stdin, stdout and stderr on the
// console unless files says otherwise.
func Spawn(parent *Process, file string, argv, envp []string, files *kfile.FDTable) (*Process, error) {
	return spawnWith(parent, file, argv, envp, files, nil, nil)
}

// spawnWith is Spawn with two steps of the caller's. setup runs once the
// process exists, before it is loaded: it may give the process
// capabilities and returns extra environment entries describing them.
// ready runs once it is loaded, before its first thread exists: it is the
// last step that may refuse the spawn. If either fails the process is
// undone, never having run, and spawnWith returns that error.
func spawnWith(parent *Process, file string, argv, envp []string, files *kfile.FDTable,
	setup func(*Process) ([]string, error), ready func(*Process) error) (*Process, error) {
	cwd := "/"
	if parent != nil {
		parent.mu.Lock()
		cwd = parent.cwd
		parent.mu.Unlock()
	}
	data, full, e, why := readExecutable(nsOf(parent), nil, cwd, file)
	if e != 0 {
		return nil, &SpawnError{Errno: e, Err: why}
	}
	p, e := newProcess(parent, path.Base(file))
	if e != 0 {
		return nil, &SpawnError{Errno: e, Err: fmt.Errorf("%s: %w", file, errnoError(e))}
	}
	jobMu.Lock()
	p.execed = true // spawned running a program, as fork and execve would
	jobMu.Unlock()
	if setup != nil {
		extra, err := setup(p)
		if err != nil {
			p.abandon()
			return nil, err
		}
		envp = withEnv(envp, extra)
	}
	img, e, err := loadImage(data, full, argv, envp)
	if err != nil {
		p.abandon()
		return nil, &SpawnError{Errno: e, Err: err}
	}
	if ready != nil {
		if err := ready(p); err != nil {
			img.as.Release()
			p.abandon()
			return nil, err
		}
	}
	p.Name = img.name
	p.as = img.as
	p.brk = brkState{start: img.brk, cur: img.brk}
	p.args = append([]string(nil), argv...)
	p.exe = full
	if files == nil {
		files = consoleFiles()
	}
	p.files = files
	ctx := rt.NewUserContext(img.entry, img.sp)
	ctx.Regs.RFLAGS = amd64.FlagIF | 2
	t := p.newThread(ctx, true)
	t.start()
	return p, nil
}

// SpawnError is why Spawn failed, with the errno execve would return.
type SpawnError struct {
	Errno errno.Errno
	Err   error
}

func (e *SpawnError) Error() string { return e.Err.Error() }
func (e *SpawnError) Unwrap() error { return e.Err }

// ErrNotFound is returned for a missing executable.
var ErrNotFound = errors.New("proc: no such file")

// withEnv returns envp with the entries of extra added, replacing any of
// the same name: a program's environment lookup takes the first entry of
// a name, so a handle list inherited from the parent must not shadow the
// one the kernel gives.
func withEnv(envp, extra []string) []string {
	out := make([]string, 0, len(envp)+len(extra))
	for _, e := range envp {
		name, _, _ := strings.Cut(e, "=")
		shadowed := false
		for _, x := range extra {
			if xn, _, _ := strings.Cut(x, "="); xn == name {
				shadowed = true
			}
		}
		if !shadowed {
			out = append(out, e)
		}
	}
	return append(out, extra...)
}

// procLinkOut reports whether the failed (e) resolution r is a link of
// /proc whose target, returned, is an absolute path outside /proc.
func procLinkOut(c kfile.Caller, r resolved, e errno.Errno) (string, bool) {
	if e != errno.ENOENT {
		return "", false
	}
	if _, isProc := r.fs.(procFS); !isProc {
		return "", false
	}
	target, le := r.fs.Readlink(c, r.at)
	if le != 0 || !strings.HasPrefix(target, "/") || target == "/proc" || strings.HasPrefix(target, "/proc/") {
		return "", false
	}
	return target, true
}

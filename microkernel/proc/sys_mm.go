package proc

import (
	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/kfile"
	"valence.dev/microkernel/mm"
	"valence.dev/microkernel/mm/vma"
)

func protOf(p uint64) vma.Prot {
	var r vma.Prot
	if p&linux.PROT_READ != 0 {
		r |= vma.Read
	}
	if p&linux.PROT_WRITE != 0 {
		r |= vma.Write | vma.Read // x86 cannot make a page writable but not readable
	}
	if p&linux.PROT_EXEC != 0 {
		r |= vma.Exec | vma.Read
	}
	return r
}

const protMask = linux.PROT_READ | linux.PROT_WRITE | linux.PROT_EXEC

// sysMmap implements mmap(2) for anonymous memory (private or shared;
// sharing with other processes comes with memory objects). File mappings
// are refused with ENODEV.
func sysMmap(c *call) result {
	addr, length, prot, flags := c.arg(0), c.arg(1), c.arg(2), c.arg(3)
	if prot&^protMask != 0 {
		return fail(errno.EINVAL)
	}
	if flags&(linux.MAP_PRIVATE|linux.MAP_SHARED) == 0 {
		return fail(errno.EINVAL)
	}
	var of *kfile.OpenFile
	if flags&linux.MAP_ANONYMOUS == 0 {
		var e errno.Errno
		if of, e = mappableFile(c, prot, flags); e != 0 {
			return fail(e)
		}
		defer of.Drop()
	}
	fixed := flags&(linux.MAP_FIXED|linux.MAP_FIXED_NOREPLACE) != 0
	c.p.vmMu.Lock() // RLIMIT_AS, RLIMIT_DATA: check and map as one step
	defer c.p.vmMu.Unlock()
	write := prot&linux.PROT_WRITE != 0 || of != nil
	if e := c.p.checkVM(c.as(), addr, length, write, fixed); e != 0 {
		return fail(e)
	}
	mapProt := protOf(prot)
	if of != nil {
		mapProt = protOf(prot | linux.PROT_WRITE) // until the file's bytes are in
	}
	va, err := c.as().Map(addr, length, mapProt, fixed, flags&linux.MAP_FIXED_NOREPLACE != 0, 0)
	if err != nil {
		return fail(toErrno(err))
	}
	if of != nil {
		if e := fillFromFile(c, of, va, length, int64(c.arg(5))); e != 0 {
			c.as().Unmap(va, length)
			return fail(e)
		}
		if err := c.as().Protect(va, length, protOf(prot)); err != nil {
			c.as().Unmap(va, length)
			return fail(toErrno(err))
		}
	}
	return ok(va)
}

// mappableFile checks a file mapping's descriptor (argument 4) and
// offset (argument 5). A file mapping is a copy of the file's bytes made
// at mmap time: MAP_PRIVATE exactly so; MAP_SHARED only read-only, since
// writes through it would not reach the file (ENODEV, docs/processes.md).
func mappableFile(c *call, prot, flags uint64) (*kfile.OpenFile, errno.Errno) {
	if c.arg(5)%mm.PageSize != 0 || int64(c.arg(5)) < 0 {
		return nil, errno.EINVAL
	}
	of, e := c.file(4)
	if e != 0 {
		return nil, e
	}
	acc := of.Flags & linux.O_ACCMODE
	switch {
	case of.FS == nil || !of.File.Seekable():
		e = errno.ENODEV
	case acc == linux.O_WRONLY:
		e = errno.EACCES
	case flags&linux.MAP_SHARED != 0 && prot&linux.PROT_WRITE != 0 && acc != linux.O_RDWR:
		e = errno.EACCES
	case flags&linux.MAP_SHARED != 0 && prot&linux.PROT_WRITE != 0:
		e = errno.ENODEV
	}
	if _, isDir := of.File.(kfile.Directory); isDir && e == 0 {
		e = errno.ENODEV
	}
	if e != 0 {
		of.Drop()
		return nil, e
	}
	return of, 0
}

// fillFromFile copies the file's bytes from off into [va, va+length);
// what lies past the end of the file stays zero.
func fillFromFile(c *call, of *kfile.OpenFile, va, length uint64, off int64) errno.Errno {
	buf := make([]byte, min(length, 1<<20))
	for done := uint64(0); done < length; {
		n, e := of.File.Read(c.t, buf[:min(uint64(len(buf)), length-done)], off+int64(done), false)
		if e != 0 {
			return e
		}
		if n == 0 {
			return 0
		}
		if err := c.as().CopyOut(va+done, buf[:n]); err != nil {
			return errno.EFAULT
		}
		done += uint64(n)
	}
	return 0
}

// sysMunmap implements munmap(2).
func sysMunmap(c *call) result {
	if err := c.as().Unmap(c.arg(0), c.arg(1)); err != nil {
		return fail(toErrno(err))
	}
	return ok0()
}

// sysMprotect implements mprotect(2). A mapping never gets more than the
// maximum protection it was made with (a memory object's mapping: what its
// capability allowed): EACCES, as Linux for PROT_WRITE on a read-only
// shared file mapping, and nothing changes.
func sysMprotect(c *call) result {
	if c.arg(2)&^protMask != 0 {
		return fail(errno.EINVAL)
	}
	if c.arg(1) == 0 {
		return ok0()
	}
	c.p.vmMu.Lock()
	defer c.p.vmMu.Unlock()
	if c.arg(2)&linux.PROT_WRITE != 0 {
		if e := c.p.checkProtect(c.as(), c.arg(0), c.arg(1)); e != 0 {
			return fail(e) // RLIMIT_DATA
		}
	}
	if err := c.as().Protect(c.arg(0), c.arg(1), protOf(c.arg(2))); err != nil {
		return fail(toErrno(err))
	}
	return ok0()
}

// MADV_FREE (include/uapi/asm-generic/mman-common.h) is not in gvisor's
// abi/linux.
const madvFree = 8

// sysMadvise implements madvise(2): MADV_DONTNEED and MADV_FREE drop the
// pages (the next access sees zeros); the rest is advice and accepted.
func sysMadvise(c *call) result {
	addr, length := c.arg(0), c.arg(1)
	if addr&(mm.PageSize-1) != 0 {
		return fail(errno.EINVAL)
	}
	if length == 0 {
		return ok0()
	}
	switch c.arg(2) {
	case linux.MADV_DONTNEED, madvFree:
		if err := c.as().Discard(addr, length); err != nil {
			return fail(toErrno(err))
		}
	}
	return ok0()
}

// brkState is the program break: the heap a C-style allocator grows with
// brk(2), starting after the executable's last segment.
type brkState struct {
	start, cur uint64
}

// maxBrk bounds the heap brk can grow.
const maxBrk = 1 << 30

// sysBrk implements brk(2): it returns the new break, or the old one if
// the request cannot be met.
func sysBrk(c *call) result {
	p := c.p
	p.mu.Lock()
	b := p.brk
	p.mu.Unlock()
	want := c.arg(0)
	if want == 0 || want < b.start || want > b.start+maxBrk {
		return ok(b.cur)
	}
	oldTop, newTop := pageUpU(b.cur), pageUpU(want)
	as := c.as()
	p.vmMu.Lock()
	defer p.vmMu.Unlock()
	switch {
	case newTop > oldTop:
		if p.checkVM(as, oldTop, newTop-oldTop, true, true) != 0 {
			return ok(b.cur) // RLIMIT_AS or RLIMIT_DATA
		}
		if _, err := as.Map(oldTop, newTop-oldTop, vma.Read|vma.Write, true, true, 0); err != nil {
			return ok(b.cur)
		}
	case newTop < oldTop:
		if err := as.Unmap(newTop, oldTop-newTop); err != nil {
			return ok(b.cur)
		}
	}
	p.mu.Lock()
	p.brk.cur = want
	p.mu.Unlock()
	return ok(want)
}

func pageUpU(v uint64) uint64 { return (v + mm.PageSize - 1) &^ (mm.PageSize - 1) }

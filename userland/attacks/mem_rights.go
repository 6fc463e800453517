package main

// Attacks on the protection of shared memory mappings: a process holding a
// memory object's capability without RightWrite must never get a writable
// mapping of it, whatever it does to the mapping afterwards (mprotect,
// partial munmap, MAP_FIXED into the hole, madvise, ...), and a fault must
// never find the frame of an object that is no longer mapped there.

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"syscall"
	"unsafe"

	"valence.dev/ipc"
	"valence.dev/libos"
)

func init() {
	addTest("mprotect-rights", testMprotectRights)
	addTest("mprotect-exec", testMprotectExec)
	addTest("stale-mapping", testStaleMapping)
	addTest("stale-mapping-span", testStaleMappingSpan)
	addTest("unmap-pieces", testUnmapPieces)
	addRole("mem-ro-write", roleMemReadOnlyWrite)
}

const mrPage = 4096

// mrMap maps memory object h at addr (flags: 0 or MAP_FIXED) with prot and
// returns the address; the length is the object's size.
func mrMap(h ipc.Handle, addr uintptr, prot, flags int) (uintptr, error) {
	r, _, e := syscall.RawSyscall6(ipc.SysMemMap, uintptr(h), addr, uintptr(prot), uintptr(flags), 0, 0)
	if e != 0 {
		return 0, e
	}
	return r, nil
}

func mrMprotect(addr, length uintptr, prot int) error {
	if _, _, e := syscall.RawSyscall(syscall.SYS_MPROTECT, addr, length, uintptr(prot)); e != 0 {
		return e
	}
	return nil
}

func mrMunmap(addr, length uintptr) error {
	if _, _, e := syscall.RawSyscall(syscall.SYS_MUNMAP, addr, length, 0); e != 0 {
		return e
	}
	return nil
}

func mrMadvise(addr, length uintptr, advice int) error {
	if _, _, e := syscall.RawSyscall(syscall.SYS_MADVISE, addr, length, uintptr(advice)); e != 0 {
		return e
	}
	return nil
}

// mrUnmapBytes unmaps what b views (syscall.Munmap only takes slices
// syscall.Mmap returned).
func mrUnmapBytes(b []byte) error {
	return mrMunmap(uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
}

// mrBytes views length bytes at the user address addr.
func mrBytes(addr, length uintptr) []byte {
	return unsafe.Slice((*byte)(*(*unsafe.Pointer)(unsafe.Pointer(&addr))), length)
}

// mrTryWrite stores v at *p and reports whether that faulted (recovered
// as a Go panic, so the test survives a correct kernel refusing it).
func mrTryWrite(p *byte, v byte) (faulted bool) {
	old := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(old)
	defer func() {
		if r := recover(); r != nil {
			faulted = true
		}
	}()
	*p = v
	return false
}

// mrObject creates a memory object of n pages, maps it read-write through
// the full handle and fills it with seed-derived bytes.
func mrObject(n int, seed byte) (ipc.Handle, []byte, error) {
	h, err := libos.NewMemory(uint64(n * mrPage))
	if err != nil {
		return 0, nil, err
	}
	b, err := libos.Map(h, syscall.PROT_READ|syscall.PROT_WRITE)
	if err != nil {
		libos.Close(h)
		return 0, nil, err
	}
	for i := range b {
		b[i] = seed + byte(i/mrPage)
	}
	return h, b, nil
}

// mrIntact reports where b no longer holds what mrObject put there.
func mrIntact(what string, b []byte, seed byte) error {
	for i := range b {
		if b[i] != seed+byte(i/mrPage) {
			return fmt.Errorf("%s changed: byte %d is %#x, want %#x", what, i, b[i], seed+byte(i/mrPage))
		}
	}
	return nil
}

// testMprotectRights: a mapping made through a Read|Map handle cannot be
// made writable with mprotect (EACCES, as Linux for a read-only shared
// file mapping), in whole, in part, or together with a writable anonymous
// neighbour; PROT_NONE and back is allowed but still never writable; a
// Map-only handle's PROT_NONE mapping stays inaccessible; and a write
// through the read-only mapping kills the writer with SIGSEGV, leaving the
// object unchanged.
func testMprotectRights() error {
	const pages = 4
	const seed = 0x40
	mem, full, err := mrObject(pages, seed)
	if err != nil {
		return err
	}
	defer libos.Close(mem)
	defer mrUnmapBytes(full)
	ro, err := libos.Dup(mem, ipc.RightRead|ipc.RightMap|ipc.RightGrant, 0)
	if err != nil {
		return err
	}
	defer libos.Close(ro)
	if _, err := mrMap(ro, 0, syscall.PROT_READ|syscall.PROT_WRITE, 0); err != syscall.EACCES {
		return fmt.Errorf("mapping the read-only handle writable: %v, want EACCES", err)
	}
	// Reserve pages+4 pages, and put the read-only mapping in the upper
	// part, so that its lower neighbour is writable anonymous memory.
	const size = pages * mrPage
	anon, err := syscall.Mmap(-1, 0, size+4*mrPage, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return err
	}
	base := uintptr(unsafe.Pointer(&anon[0]))
	defer mrMunmap(base, size+4*mrPage)
	va := base + 4*mrPage
	if err := mrMunmap(va, size); err != nil {
		return err
	}
	if got, err := mrMap(ro, va, syscall.PROT_READ, syscall.MAP_FIXED); err != nil || got != va {
		return fmt.Errorf("mapping the read-only handle at %#x: %#x %v", va, got, err)
	}
	for _, tc := range []struct {
		what      string
		addr, len uintptr
		prot      int
		want      error
	}{
		{"PROT_READ|PROT_WRITE", va, size, syscall.PROT_READ | syscall.PROT_WRITE, syscall.EACCES},
		{"PROT_WRITE", va, size, syscall.PROT_WRITE, syscall.EACCES},
		{"PROT_READ|PROT_WRITE|PROT_EXEC", va, size, syscall.PROT_READ | syscall.PROT_WRITE | syscall.PROT_EXEC, syscall.EACCES},
		{"PROT_READ|PROT_WRITE on one middle page", va + mrPage, mrPage, syscall.PROT_READ | syscall.PROT_WRITE, syscall.EACCES},
		{"PROT_READ|PROT_WRITE on the last page", va + size - mrPage, mrPage, syscall.PROT_READ | syscall.PROT_WRITE, syscall.EACCES},
		{"PROT_READ|PROT_WRITE over the anonymous neighbour and the mapping", base, size + 4*mrPage, syscall.PROT_READ | syscall.PROT_WRITE, syscall.EACCES},
		{"PROT_READ|PROT_WRITE over the neighbour's last page and the first page", va - mrPage, 2 * mrPage, syscall.PROT_READ | syscall.PROT_WRITE, syscall.EACCES},
		{"PROT_NONE", va, size, syscall.PROT_NONE, nil},
		{"PROT_READ|PROT_WRITE after PROT_NONE", va, size, syscall.PROT_READ | syscall.PROT_WRITE, syscall.EACCES},
		{"PROT_READ on the first page", va, mrPage, syscall.PROT_READ, nil},
		{"PROT_READ|PROT_WRITE on the split mapping", va, size, syscall.PROT_READ | syscall.PROT_WRITE, syscall.EACCES},
		{"PROT_READ on the rest", va + mrPage, size - mrPage, syscall.PROT_READ, nil},
		{"PROT_READ|PROT_EXEC (Read allows exec)", va, size, syscall.PROT_READ | syscall.PROT_EXEC, nil},
		{"PROT_READ|PROT_WRITE|PROT_EXEC after PROT_EXEC", va + 2*mrPage, mrPage, syscall.PROT_READ | syscall.PROT_WRITE | syscall.PROT_EXEC, syscall.EACCES},
		{"PROT_READ", va, size, syscall.PROT_READ, nil},
	} {
		err := mrMprotect(tc.addr, tc.len, tc.prot)
		if err != tc.want {
			msg := fmt.Sprintf("mprotect(%s) of a Read|Map mapping: %v, want %v", tc.what, err, tc.want)
			if err == nil && tc.want != nil {
				// Show what that means: write through it (the range's
				// last byte is in the read-only mapping) and look at
				// the object.
				if !mrTryWrite(&mrBytes(tc.addr, tc.len)[tc.len-1], 0xee) {
					msg += "; a write through it did not fault"
					if err := mrIntact("the object", full, seed); err != nil {
						msg += " and reached the object (" + err.Error() + ")"
					}
				}
			}
			return errors.New(msg)
		}
	}
	// The anonymous neighbour kept its protection (the failed mprotect
	// over both changed nothing).
	if mrTryWrite(&anon[4*mrPage-1], 1) {
		return errors.New("the anonymous neighbour lost PROT_WRITE in a refused mprotect")
	}
	if got := mrBytes(va, size); got[0] != seed || got[size-1] != seed+pages-1 {
		return fmt.Errorf("the read-only mapping reads %#x..%#x, want %#x..%#x", got[0], got[size-1], seed, seed+pages-1)
	}
	if !mrTryWrite(&mrBytes(va, size)[mrPage+5], 0xee) {
		return errors.New("a write through the read-only mapping did not fault")
	}
	if err := mrIntact("the object", full, seed); err != nil {
		return err
	}

	// Nor does the kernel write into it on the process's behalf.
	var fds [2]int
	if err := syscall.Pipe(fds[:]); err != nil {
		return err
	}
	syscall.Write(fds[1], []byte("written by the kernel"))
	_, _, e := syscall.Syscall(syscall.SYS_READ, uintptr(fds[0]), va+mrPage, 8)
	syscall.Close(fds[0])
	syscall.Close(fds[1])
	if e != syscall.EFAULT {
		return fmt.Errorf("read(2) from a pipe into the read-only mapping: %v, want EFAULT", e)
	}
	if err := mrIntact("the object after read(2) into its read-only mapping", full, seed); err != nil {
		return err
	}

	// A Map-only handle maps PROT_NONE and nothing more, ever.
	mo, err := libos.Dup(mem, ipc.RightMap, 0)
	if err != nil {
		return err
	}
	defer libos.Close(mo)
	if _, err := mrMap(mo, 0, syscall.PROT_READ, 0); err != syscall.EACCES {
		return fmt.Errorf("mapping a Map-only handle readable: %v, want EACCES", err)
	}
	none, err := mrMap(mo, 0, syscall.PROT_NONE, 0)
	if err != nil {
		return fmt.Errorf("mapping a Map-only handle PROT_NONE: %v", err)
	}
	defer mrMunmap(none, size)
	for _, p := range []int{syscall.PROT_READ, syscall.PROT_READ | syscall.PROT_WRITE, syscall.PROT_EXEC} {
		if err := mrMprotect(none, size, p); err != syscall.EACCES {
			return fmt.Errorf("mprotect(%#x) of a Map-only mapping: %v, want EACCES", p, err)
		}
	}

	// A child holding only the read-only handle tries the same and writes
	// with SIGSEGV at its default action: it must die of it.
	child, _, err := libos.ProcSpawn(self(), []string{"attacks", "role", "mem-ro-write"}, nil, []ipc.Handle{ro})
	if err != nil {
		return err
	}
	st, err := libos.ProcWait(child)
	libos.Close(child)
	if err != nil {
		return err
	}
	if !st.Signaled() || st.Signal() != syscall.SIGSEGV {
		how := fmt.Sprintf("exit status %d", st.ExitStatus())
		if st.Signaled() {
			how = st.Signal().String()
		}
		msg := "the child writing through its read-only mapping was not killed by SIGSEGV: " + how
		if st.Exited() && st.ExitStatus() == 3 {
			msg += " (its mprotect to PROT_READ|PROT_WRITE succeeded)"
		}
		if err := mrIntact("the object", full, seed); err != nil {
			msg += "; " + err.Error()
		}
		return errors.New(msg)
	}
	return mrIntact("the object after the child's write", full, seed)
}

// roleMemReadOnlyWrite maps the memory object of its only handle (which
// has no RightWrite) read-only, asks for PROT_READ|PROT_WRITE and writes
// with SIGSEGV at its default action. Exit status 3: the mprotect was
// accepted; 0: the write went through without a fault.
func roleMemReadOnlyWrite([]string) int {
	hs := libos.InitialHandles()
	if len(hs) != 1 {
		fmt.Fprintf(os.Stderr, "mem-ro-write: %d handles\n", len(hs))
		return 2
	}
	info, err := libos.Info(hs[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, "mem-ro-write:", err)
		return 2
	}
	va, err := mrMap(hs[0], 0, syscall.PROT_READ, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mem-ro-write: map:", err)
		return 2
	}
	status := 0
	if mrMprotect(va, uintptr(info.Size), syscall.PROT_READ|syscall.PROT_WRITE) == nil {
		status = 3
	}
	mrSetDefault(syscall.SIGSEGV)
	b := mrBytes(va, uintptr(info.Size))
	b[0] = 0xee
	b[len(b)-1] = 0xee
	return status
}

// mrSetDefault restores a signal's default action behind the Go runtime's
// back, so that a fault is not caught.
func mrSetDefault(sig syscall.Signal) {
	var act [4]uint64 // struct sigaction: handler SIG_DFL, no flags
	syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&act)), 0, 8, 0, 0)
}

// testMprotectExec: a mapping made through a Write|Map handle (no
// RightRead, which executing needs) cannot be made executable.
func testMprotectExec() error {
	const seed = 0x50
	mem, full, err := mrObject(2, seed)
	if err != nil {
		return err
	}
	defer libos.Close(mem)
	defer mrUnmapBytes(full)
	wo, err := libos.Dup(mem, ipc.RightWrite|ipc.RightMap, 0)
	if err != nil {
		return err
	}
	defer libos.Close(wo)
	if _, err := mrMap(wo, 0, syscall.PROT_READ|syscall.PROT_EXEC, 0); err != syscall.EACCES {
		return fmt.Errorf("mapping a Write|Map handle executable: %v, want EACCES", err)
	}
	va, err := mrMap(wo, 0, syscall.PROT_WRITE, 0)
	if err != nil {
		return err
	}
	defer mrMunmap(va, 2*mrPage)
	for _, p := range []int{syscall.PROT_EXEC, syscall.PROT_READ | syscall.PROT_EXEC, syscall.PROT_READ | syscall.PROT_WRITE | syscall.PROT_EXEC} {
		if err := mrMprotect(va, 2*mrPage, p); err != syscall.EACCES {
			return fmt.Errorf("mprotect(%#x) of a Write|Map mapping: %v, want EACCES", p, err)
		}
		if err := mrMprotect(va+mrPage, mrPage, p); err != syscall.EACCES {
			return fmt.Errorf("mprotect(%#x) of a Write|Map mapping's second page: %v, want EACCES", p, err)
		}
	}
	// Writing is what the handle allows (and on x86 a writable page is
	// readable).
	if err := mrMprotect(va, 2*mrPage, syscall.PROT_READ|syscall.PROT_WRITE); err != nil {
		return fmt.Errorf("mprotect(PROT_READ|PROT_WRITE) of a Write|Map mapping: %v", err)
	}
	mrBytes(va, 2*mrPage)[mrPage] = 0x77
	if full[mrPage] != 0x77 {
		return errors.New("a write through the Write|Map mapping did not reach the object")
	}
	return nil
}

// testStaleMapping: unmap the middle of a read-only mapping of object A,
// map a writable object B into the hole with MAP_FIXED, drop the pages
// with MADV_DONTNEED and write: the write must land in B, never in A
// (whose mapping record once covered those addresses), and the hole must
// read B's contents.
func testStaleMapping() error {
	const seedA, seedB = 0x10, 0x80
	a, fullA, err := mrObject(4, seedA)
	if err != nil {
		return err
	}
	defer libos.Close(a)
	defer mrUnmapBytes(fullA)
	roA, err := libos.Dup(a, ipc.RightRead|ipc.RightMap, 0)
	if err != nil {
		return err
	}
	defer libos.Close(roA)
	b, fullB, err := mrObject(2, seedB)
	if err != nil {
		return err
	}
	defer libos.Close(b)
	defer mrUnmapBytes(fullB)

	va, err := mrMap(roA, 0, syscall.PROT_READ, 0)
	if err != nil {
		return err
	}
	defer mrMunmap(va, 4*mrPage)
	if err := mrMunmap(va+mrPage, 2*mrPage); err != nil {
		return err
	}
	if got, err := mrMap(b, va+mrPage, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_FIXED); err != nil || got != va+mrPage {
		return fmt.Errorf("mapping B into the hole at %#x: %#x %v", va+mrPage, got, err)
	}
	if err := mrMadvise(va, 4*mrPage, syscall.MADV_DONTNEED); err != nil {
		return err
	}
	view := mrBytes(va, 4*mrPage)
	if mrTryWrite(&view[mrPage+9], 0xee) || mrTryWrite(&view[2*mrPage+9], 0xee) {
		return errors.New("writing B's mapping faulted")
	}
	if err := mrIntact("the read-only object A", fullA, seedA); err != nil {
		return fmt.Errorf("a write through B's mapping in the hole: %v", err)
	}
	if view[mrPage] != seedB || view[2*mrPage] != seedB+1 {
		return fmt.Errorf("after MADV_DONTNEED the hole reads %#x %#x, want B's %#x %#x (A's are %#x %#x)",
			view[mrPage], view[2*mrPage], seedB, seedB+1, seedA+1, seedA+2)
	}
	if fullB[9] != 0xee || fullB[mrPage+9] != 0xee {
		return errors.New("the writes to B's mapping did not reach B")
	}
	fullB[9], fullB[mrPage+9] = seedB, seedB+1
	// The pieces of A still read A and are still read-only.
	if view[0] != seedA || view[3*mrPage] != seedA+3 {
		return fmt.Errorf("A's remaining pieces read %#x %#x, want %#x %#x", view[0], view[3*mrPage], seedA, seedA+3)
	}
	if !mrTryWrite(&view[3*mrPage], 0xee) {
		return errors.New("a write to A's last piece did not fault")
	}

	// The same with anonymous memory MAP_FIXED over part of A: it must
	// be fresh zeroes, not A's frame.
	if _, _, e := syscall.Syscall6(syscall.SYS_MMAP, va+3*mrPage, mrPage, syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_PRIVATE|syscall.MAP_ANON|syscall.MAP_FIXED, ^uintptr(0), 0); e != 0 {
		return fmt.Errorf("anonymous MAP_FIXED over A's last page: %v", e)
	}
	if err := mrMadvise(va+3*mrPage, mrPage, syscall.MADV_DONTNEED); err != nil {
		return err
	}
	if view[3*mrPage] != 0 {
		return fmt.Errorf("anonymous memory over A's last page reads %#x, want 0", view[3*mrPage])
	}
	view[3*mrPage] = 0xee
	if err := mrIntact("the read-only object A", fullA, seedA); err != nil {
		return fmt.Errorf("a write to anonymous memory mapped over A: %v", err)
	}
	// And PROT_NONE then back on A's first piece finds A again.
	if err := mrMprotect(va, mrPage, syscall.PROT_NONE); err != nil {
		return err
	}
	if err := mrMadvise(va, mrPage, syscall.MADV_DONTNEED); err != nil {
		return err
	}
	if err := mrMprotect(va, mrPage, syscall.PROT_READ); err != nil {
		return err
	}
	if view[0] != seedA {
		return fmt.Errorf("A's first page reads %#x after PROT_NONE and back, want %#x", view[0], seedA)
	}
	return nil
}

// testStaleMappingSpan: one munmap across the end of read-only A and the
// start of read-only B (two mapping records), then a writable C mapped
// into the hole: touching C after MADV_DONTNEED must reach only C.
func testStaleMappingSpan() error {
	const seedA, seedB, seedC = 0x20, 0x30, 0x90
	a, fullA, err := mrObject(3, seedA)
	if err != nil {
		return err
	}
	defer libos.Close(a)
	defer mrUnmapBytes(fullA)
	b, fullB, err := mrObject(3, seedB)
	if err != nil {
		return err
	}
	defer libos.Close(b)
	defer mrUnmapBytes(fullB)
	c, fullC, err := mrObject(2, seedC)
	if err != nil {
		return err
	}
	defer libos.Close(c)
	defer mrUnmapBytes(fullC)
	roA, err := libos.Dup(a, ipc.RightRead|ipc.RightMap, 0)
	if err != nil {
		return err
	}
	defer libos.Close(roA)
	roB, err := libos.Dup(b, ipc.RightRead|ipc.RightMap, 0)
	if err != nil {
		return err
	}
	defer libos.Close(roB)

	// A at va, B right after it: one mapping of six pages made of two
	// records (the regions may even merge, having the same protection).
	anon, err := syscall.Mmap(-1, 0, 6*mrPage, syscall.PROT_NONE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return err
	}
	va := uintptr(unsafe.Pointer(&anon[0]))
	defer mrMunmap(va, 6*mrPage)
	if err := mrMunmap(va, 6*mrPage); err != nil {
		return err
	}
	if _, err := mrMap(roA, va, syscall.PROT_READ, syscall.MAP_FIXED); err != nil {
		return err
	}
	if _, err := mrMap(roB, va+3*mrPage, syscall.PROT_READ, syscall.MAP_FIXED); err != nil {
		return err
	}
	if err := mrMunmap(va+2*mrPage, 2*mrPage); err != nil {
		return err
	}
	if _, err := mrMap(c, va+2*mrPage, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_FIXED); err != nil {
		return err
	}
	if err := mrMadvise(va, 6*mrPage, syscall.MADV_DONTNEED); err != nil {
		return err
	}
	view := mrBytes(va, 6*mrPage)
	if mrTryWrite(&view[2*mrPage+3], 0xee) || mrTryWrite(&view[3*mrPage+3], 0xee) {
		return errors.New("writing C's mapping faulted")
	}
	if err := mrIntact("the read-only object A", fullA, seedA); err != nil {
		return fmt.Errorf("a write through C's mapping: %v", err)
	}
	if err := mrIntact("the read-only object B", fullB, seedB); err != nil {
		return fmt.Errorf("a write through C's mapping: %v", err)
	}
	if view[2*mrPage] != seedC || view[3*mrPage] != seedC+1 {
		return fmt.Errorf("C's mapping reads %#x %#x, want %#x %#x", view[2*mrPage], view[3*mrPage], seedC, seedC+1)
	}
	if fullC[3] != 0xee || fullC[mrPage+3] != 0xee {
		return errors.New("the writes to C's mapping did not reach C")
	}
	if view[mrPage] != seedA+1 || view[4*mrPage] != seedB+1 {
		return fmt.Errorf("the pieces of A and B read %#x %#x, want %#x %#x", view[mrPage], view[4*mrPage], seedA+1, seedB+1)
	}
	if !mrTryWrite(&view[mrPage], 0xee) || !mrTryWrite(&view[4*mrPage], 0xee) {
		return errors.New("a write to a piece of A or B did not fault")
	}
	// mprotect across A's piece, C and B's piece, and of each piece.
	for _, r := range []struct {
		what      string
		addr, len uintptr
	}{{"A's piece, C and B's piece", va, 6 * mrPage}, {"C and B's piece", va + 2*mrPage, 4 * mrPage}, {"A's piece", va, 2 * mrPage}, {"B's piece", va + 4*mrPage, 2 * mrPage}} {
		if err := mrMprotect(r.addr, r.len, syscall.PROT_READ|syscall.PROT_WRITE); err != syscall.EACCES {
			return fmt.Errorf("mprotect(PROT_READ|PROT_WRITE) of %s: %v, want EACCES", r.what, err)
		}
	}
	if !mrTryWrite(&view[mrPage], 0xee) || !mrTryWrite(&view[4*mrPage], 0xee) {
		return errors.New("a write to a piece of A or B did not fault after the refused mprotects")
	}
	if mrTryWrite(&view[2*mrPage+3], 0xef) {
		return errors.New("C's mapping lost PROT_WRITE in a refused mprotect")
	}
	return nil
}

// testUnmapPieces: a memory object unmapped piece by piece and whose
// handles are all closed gives its frames back (each piece holds the
// object, the last one lets it go).
func testUnmapPieces() error {
	const size = 32 << 20
	before, err := libos.MemInfo()
	if err != nil {
		return err
	}
	h, err := libos.NewMemory(size)
	if err != nil {
		return err
	}
	va, err := mrMap(h, 0, syscall.PROT_READ|syscall.PROT_WRITE, 0)
	if err != nil {
		libos.Close(h)
		return err
	}
	libos.Close(h)
	mrBytes(va, size)[size/2] = 1
	if err := mrMunmap(va+size/4, size/2); err != nil { // the middle: two pieces remain
		return err
	}
	if err := mrMunmap(va, size/4); err != nil {
		return err
	}
	if err := mrMunmap(va+3*size/4, size/4); err != nil {
		return err
	}
	after, err := libos.MemInfo()
	if err != nil {
		return err
	}
	if after.Free+size/2 < before.Free {
		return fmt.Errorf("%d KiB free before, %d KiB after creating, mapping, unmapping in pieces and closing a %d KiB object",
			before.Free>>10, after.Free>>10, size>>10)
	}
	return nil
}

package main

// caps-mapped: memory objects mapped in several processes, their handles
// gone (caps_attacks.go).

import (
	"fmt"
	"strconv"
	"syscall"
	"time"

	"valence.dev/ipc"
	"valence.dev/libos"
)

// testCapsMapped shares memory objects between processes and drops every
// capability and the creator: the mappings stay (docs/capabilities.md),
// read the same data, never a frame reused for something else, and the
// object's memory comes back exactly when its last capability and its
// last mapping are gone.
func testCapsMapped() error {
	const size = 8 << 20
	// The creator dies: a child creates, fills and shares an object,
	// closes its handles, writes through its mapping and exits.
	const seed = 0x5eed
	ph, pid, m, err := caBootstrap("caps-mem-creator", []string{strconv.Itoa(size), strconv.Itoa(seed)})
	if err != nil {
		return err
	}
	if m.NHandles != 1 {
		caEnd(ph, pid, true, 10*time.Second)
		return fmt.Errorf("the creator's hello carried %d handles", m.NHandles)
	}
	ro := m.Handles[0]
	info, _ := caInfo(ro)
	if info.Type != ipc.TypeMemory || info.Rights != ipc.RightRead|ipc.RightMap|ipc.RightGrant || info.Size != size {
		caEnd(ph, pid, true, 10*time.Second)
		return fmt.Errorf("the creator's handle arrived as %+v", info)
	}
	va, e := caMap(ro, 0, syscall.PROT_READ, 0)
	if e != 0 {
		caEnd(ph, pid, true, 10*time.Second)
		return fmt.Errorf("mapping the creator's object: %s", caName(e))
	}
	view := caWords(va, size)
	if err := caEndOK("the creator", ph, pid, 30*time.Second); err != nil {
		return err
	}
	marker := map[int]uint64{1: 0xfeed}
	if err := caCheck("the object after its creator closed its handles, wrote and died", view, seed, marker); err != nil {
		return err
	}
	f1, _ := libos.MemInfo()
	if e := caClose(ro); e != 0 {
		return fmt.Errorf("close: %s", caName(e))
	}
	f2, _ := libos.MemInfo()
	if f2.Free > f1.Free+size/2 {
		return fmt.Errorf("closing the last capability of an object still mapped freed its memory (%d KiB free, was %d)", f2.Free>>10, f1.Free>>10)
	}
	// Fresh memory must not be made of the object's frames.
	if err := caScribble(size, 0x0bad); err != nil {
		return err
	}
	if err := caCheck("the object's last mapping after its last capability was closed", view, seed, marker); err != nil {
		return err
	}
	f3, _ := libos.MemInfo()
	if e := caMunmap(va, size); e != 0 {
		return fmt.Errorf("munmap: %s", caName(e))
	}
	f4, _ := libos.MemInfo()
	if f4.Free < f3.Free+size/2 {
		return fmt.Errorf("unmapping the last mapping of an object without capabilities left %d KiB free (was %d): its %d KiB were not freed", f4.Free>>10, f3.Free>>10, size>>10)
	}

	// Two mappers, the creator (us) drops everything first.
	c0, _ := libos.MemInfo()
	mem, e := caMemory(size)
	if e != 0 {
		return fmt.Errorf("mem create: %s", caName(e))
	}
	ownClosed := false
	defer func() {
		if !ownClosed {
			caClose(mem)
		}
	}()
	c1, _ := libos.MemInfo()
	if c1.Charge+256<<10 < c0.Charge+size {
		return fmt.Errorf("creating a %d KiB object charged us %d KiB", size>>10, (int64(c1.Charge)-int64(c0.Charge))>>10)
	}
	va, e = caMap(mem, 0, syscall.PROT_READ|syscall.PROT_WRITE, 0)
	if e != 0 {
		return fmt.Errorf("mem map: %s", caName(e))
	}
	mapped := true
	defer func() {
		if mapped {
			caMunmap(va, size)
		}
	}()
	view = caWords(va, size)
	caFill(view, 1)
	peer, err := caStartPeer()
	if err != nil {
		return err
	}
	defer peer.end()
	give, _ := caDup(mem, ipc.RightRead|ipc.RightMap|ipc.RightGrant, 0)
	idx, _, err := peer.keep("sharing the object", give)
	if err != nil {
		return err
	}
	if _, err := peer.must("the peer mapping it", caPeerMap, nil, uint64(idx), syscall.PROT_READ); err != nil {
		return err
	}
	if _, err := peer.must("the peer closing its handle", caPeerClose, nil, uint64(idx)); err != nil {
		return err
	}
	sum := func(what string, want uint64) error {
		rep, err := peer.must(what, caPeerSum, nil)
		if err != nil {
			return err
		}
		if got := caWord(rep, 0); got != want {
			return fmt.Errorf("%s: the peer's mapping reads checksum %#x, want %#x", what, got, want)
		}
		return nil
	}
	if err := sum("after the peer closed its handle", caChecksum(view)); err != nil {
		return err
	}
	caClose(mem)
	ownClosed = true
	caFill(view, 2)
	if err := sum("after every capability was closed, a write by the creator", caChecksum(view)); err != nil {
		return err
	}
	want := caChecksum(view)
	f1, _ = libos.MemInfo()
	caMunmap(va, size)
	mapped = false
	f2, _ = libos.MemInfo()
	if f2.Free > f1.Free+size/2 {
		return fmt.Errorf("the creator unmapping while the peer still maps the object freed it (%d KiB free, was %d)", f2.Free>>10, f1.Free>>10)
	}
	if err := caScribble(size, 0x0bad2); err != nil {
		return err
	}
	if err := sum("after the creator unmapped it and fresh memory was written", want); err != nil {
		return err
	}
	ca, _ := libos.MemInfo()
	if _, err := peer.must("the peer unmapping it", caPeerUnmap, nil); err != nil {
		return err
	}
	cb, _ := libos.MemInfo()
	if cb.Free < ca.Free+size/2 {
		return fmt.Errorf("the last unmapping of an object without capabilities left %d KiB free (was %d): not freed", cb.Free>>10, ca.Free>>10)
	}
	if int64(ca.Charge)-int64(cb.Charge) < size-256<<10 {
		return fmt.Errorf("the freed object's creator is still charged: %d KiB, was %d KiB", cb.Charge>>10, ca.Charge>>10)
	}

	// Map, unmap, close: back when the last goes, whichever it is.
	for _, closeFirst := range []bool{false, true} {
		m0, _ := libos.MemInfo()
		h, e := caMemory(size)
		if e != 0 {
			return fmt.Errorf("mem create: %s", caName(e))
		}
		va, e := caMap(h, 0, syscall.PROT_READ|syscall.PROT_WRITE, 0)
		if e != 0 {
			caClose(h)
			return fmt.Errorf("mem map: %s", caName(e))
		}
		caFill(caWords(va, size), 3)
		if closeFirst {
			caClose(h)
		} else {
			caMunmap(va, size)
		}
		m1, _ := libos.MemInfo()
		if m1.Free > m0.Free-size/2 {
			return fmt.Errorf("an object still mapped or held was freed (close first: %v): %d KiB free, was %d before creating it", closeFirst, m1.Free>>10, m0.Free>>10)
		}
		if closeFirst {
			caMunmap(va, size)
		} else {
			caClose(h)
		}
		m2, _ := libos.MemInfo()
		if m2.Free < m1.Free+size/2 || m2.Charge+size-256<<10 > m1.Charge {
			return fmt.Errorf("an object with no capability and no mapping left (close first: %v): %d KiB free (was %d), charge %d KiB (was %d): not freed",
				closeFirst, m2.Free>>10, m1.Free>>10, m2.Charge>>10, m1.Charge>>10)
		}
	}
	return nil
}

// caScribble makes and fills a fresh object of size bytes and frees it:
// had a mapped object's frames been freed, the object would take them.
func caScribble(size uint64, seed uint64) error {
	h, e := caMemory(size)
	if e != 0 {
		return fmt.Errorf("mem create: %s", caName(e))
	}
	defer caClose(h)
	va, e := caMap(h, 0, syscall.PROT_READ|syscall.PROT_WRITE, 0)
	if e != 0 {
		return fmt.Errorf("mem map: %s", caName(e))
	}
	caFill(caWords(va, uintptr(size)), seed)
	caMunmap(va, uintptr(size))
	return nil
}

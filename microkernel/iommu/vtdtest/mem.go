// Package vtdtest is a fake Intel VT-d remapping unit and physical memory
// for hosted tests of package iommu and of the kernel code that drives it.
//
// Unit implements iommu.Regs with the register semantics of VT-d rev 3.x
// §10.4 as QEMU 7.2's intel-iommu shows them (status bits that follow
// commands, invalidation bits that clear themselves, fault recording
// registers that fill and are cleared), and its Translate walks the root,
// context and second-level tables in a Mem the way the hardware does,
// caching context entries and translations until they are invalidated,
// so that a missing invalidation shows as a stale translation. Mem can
// model a unit whose page walks do not snoop the CPU caches (ECAP.C 0):
// the unit then sees only what was flushed.
//
// The bit layouts here are written out again from the specification
// rather than taken from package iommu, so that a misreading there is not
// silently shared.
package vtdtest

import "fmt"

// junk is what a non-coherent Mem's device view of a new page holds until
// it is flushed: present, readable, writable, reserved bits set.
const junk = 0xffff_ffff_ffff_ffff

// Mem is fake physical memory for translation tables. Pages are handed
// out from FirstPage upwards, freed pages reused last-in first-out.
type Mem struct {
	// Coherent makes the unit's view the CPU's. Otherwise the unit sees
	// a line only once it has been flushed.
	Coherent bool
	// Limit, if not 0, is how many pages may be in use at once.
	Limit int

	Allocs, Frees, Flushes int
	// Errs lists misuse: freeing a page not allocated, or Page of one.
	Errs []string

	next uint64
	cpu  map[uint64]*[512]uint64
	dev  map[uint64]*[512]uint64
	free []uint64
}

// FirstPage is the physical address of the first page a Mem hands out.
const FirstPage = 0x10_0000

// NewMem returns an empty memory.
func NewMem(coherent bool) *Mem {
	return &Mem{Coherent: coherent, next: FirstPage, cpu: map[uint64]*[512]uint64{}, dev: map[uint64]*[512]uint64{}}
}

// Alloc implements iommu.Mem.
func (m *Mem) Alloc() (uint64, bool) {
	if m.Limit > 0 && len(m.cpu) >= m.Limit {
		return 0, false
	}
	var pa uint64
	if n := len(m.free); n > 0 {
		pa, m.free = m.free[n-1], m.free[:n-1]
	} else {
		pa, m.next = m.next, m.next+4096
	}
	m.cpu[pa] = new([512]uint64)
	d := new([512]uint64)
	if !m.Coherent {
		for i := range d {
			d[i] = junk
		}
	}
	m.dev[pa] = d
	m.Allocs++
	return pa, true
}

// Free implements iommu.Mem.
func (m *Mem) Free(pa uint64) {
	if m.cpu[pa] == nil {
		m.Errs = append(m.Errs, fmt.Sprintf("Free(%#x): not allocated", pa))
		return
	}
	delete(m.cpu, pa)
	delete(m.dev, pa)
	m.free = append(m.free, pa)
	m.Frees++
}

// Page implements iommu.Mem.
func (m *Mem) Page(pa uint64) *[512]uint64 {
	p := m.cpu[pa]
	if p == nil {
		m.Errs = append(m.Errs, fmt.Sprintf("Page(%#x): not allocated", pa))
		return new([512]uint64)
	}
	return p
}

// Flush implements iommu.Flusher: the 64-byte line holding pa becomes
// visible to the unit.
func (m *Mem) Flush(pa uint64) {
	m.Flushes++
	page, line := pa&^0xfff, int(pa&0xfff)/64*8
	c, d := m.cpu[page], m.dev[page]
	if c == nil {
		m.Errs = append(m.Errs, fmt.Sprintf("Flush(%#x): not allocated", pa))
		return
	}
	copy(d[line:line+8], c[line:line+8])
}

// InUse returns the number of pages allocated and not freed.
func (m *Mem) InUse() int { return len(m.cpu) }

// read returns the 64-bit word at pa as the unit sees it; ok is false
// if the page is not allocated (a DMA read error, for the unit).
func (m *Mem) read(pa uint64) (uint64, bool) {
	page := pa &^ 0xfff
	p := m.dev[page]
	if m.Coherent {
		p = m.cpu[page]
	}
	if p == nil || pa%8 != 0 {
		return 0, false
	}
	return p[pa&0xfff/8], true
}

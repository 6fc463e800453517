package iommu

import "fmt"

// Second-level paging entry bits (§9.8). Leaf entries of a 4 KiB page
// and entries pointing at a next-level table have the same form here:
// R, W, and the address in bits 51:12. Everything else stays 0: no
// large pages (PS, bit 7), no snoop or memory-type overrides, which
// QEMU without snoop control treats as reserved.
const (
	slRead  = 1 << 0
	slWrite = 1 << 1
	slPS    = 1 << 7
)

// Domain is an IOVA space: one set of second-level page tables and a
// domain id that tags what the unit caches from them. Every function
// attached to the domain sees the same mappings.
type Domain struct {
	id       uint16
	top      uint64 // physical address of the top-level table
	tables   int    // table pages, the top one included
	mapped   int    // leaf entries present
	attached int    // functions attached
	dead     bool
}

// ID returns the domain id.
func (d *Domain) ID() uint16 { return d.id }

// Mapped returns the number of pages mapped.
func (d *Domain) Mapped() int { return d.mapped }

// Attached returns the number of functions attached.
func (d *Domain) Attached() int { return d.attached }

// domainIDs returns how many domain ids the unit supports and the
// lowest usable one: in caching mode id 0 is reserved (§9.3, DID).
func (u *Unit) domainIDs() (first, n uint32) {
	n = min(u.Cap.Domains, 1<<16)
	if u.Cap.CM {
		first = 1
	}
	return first, n
}

// FreeDomainID returns the lowest domain id not in use, or false if all
// are.
func (u *Unit) FreeDomainID() (uint16, bool) {
	first, n := u.domainIDs()
	for id := first; id < n; id++ {
		if u.domains[uint16(id)] == nil {
			return uint16(id), true
		}
	}
	return 0, false
}

// NewDomain creates an empty domain with the given id, which must be
// below the unit's CAP.ND limit, not 0 in caching mode, and not in use.
func (u *Unit) NewDomain(id uint16) (*Domain, error) {
	if u.root == 0 {
		return nil, ErrState
	}
	first, n := u.domainIDs()
	if uint32(id) < first || uint32(id) >= n {
		return nil, fmt.Errorf("%w: %d, usable ids are %d-%d", ErrDomainID, id, first, n-1)
	}
	if u.domains[id] != nil {
		return nil, fmt.Errorf("%w: %d", ErrDomainInUse, id)
	}
	top, err := u.newTable()
	if err != nil {
		return nil, err
	}
	d := &Domain{id: id, top: top, tables: 1}
	u.domains[id] = d
	return d, nil
}

// DestroyDomain frees every table page of d and its id. A domain with
// functions attached is refused (ErrAttached): the unit may be walking
// its tables. Pages still mapped are dropped with the tables; since
// detaching invalidated the IOTLB for the domain, nothing can reach them
// once the domain is gone, and their frames are the caller's again.
func (u *Unit) DestroyDomain(d *Domain) error {
	if err := u.check(d); err != nil {
		return err
	}
	if d.attached != 0 {
		return fmt.Errorf("%w: domain %d has %d functions", ErrAttached, d.id, d.attached)
	}
	u.freeTable(d.top, u.levels)
	delete(u.domains, d.id)
	d.dead, d.top, d.tables, d.mapped = true, 0, 0, 0
	return nil
}

// freeTable frees the table at pa, of the given level, and every table
// below it. Leaves point at the caller's pages, which are not freed.
func (u *Unit) freeTable(pa uint64, level int) {
	if level > 1 {
		for i := 0; i < 512; i++ {
			if e := u.load(pa, i); e != 0 {
				u.freeTable(e&addrMask, level-1)
			}
		}
	}
	u.mem.Free(pa)
}

func (u *Unit) check(d *Domain) error {
	if u.root == 0 {
		return ErrState
	}
	if d == nil || d.dead || u.domains[d.id] != d {
		return ErrNoDomain
	}
	return nil
}

// index returns the entry of iova in a table of the given level (1 is
// the last, whose entries map 4 KiB pages).
func index(iova uint64, level int) int { return int(iova >> (12 + 9*(level-1)) & 511) }

// walk returns the last-level table for iova and the entry's index in
// it, creating missing tables if create is set.
func (u *Unit) walk(d *Domain, iova uint64, create bool) (table uint64, i int, err error) {
	table = d.top
	for level := u.levels; level > 1; level-- {
		i = index(iova, level)
		e := u.load(table, i)
		if e == 0 {
			if !create {
				return 0, 0, fmt.Errorf("%w: %#x in domain %d", ErrNotMapped, iova, d.id)
			}
			next, err := u.newTable()
			if err != nil {
				return 0, 0, err
			}
			d.tables++
			e = next | slRead | slWrite // access is decided at the leaf
			u.store(table, i, e)
		} else if e&slPS != 0 || e&(slRead|slWrite) == 0 {
			return 0, 0, fmt.Errorf("%w: level %d entry %#x for %#x in domain %d", ErrCorrupt, level, e, iova, d.id)
		}
		table = e & addrMask
	}
	return table, index(iova, 1), nil
}

func (u *Unit) checkIOVA(d *Domain, iova uint64) error {
	if err := u.check(d); err != nil {
		return err
	}
	if iova%pageSize != 0 {
		return fmt.Errorf("%w: iova %#x", ErrAlign, iova)
	}
	if iova>>u.iovaBits != 0 {
		return fmt.Errorf("%w: iova %#x is not below 2^%d", ErrRange, iova, u.iovaBits)
	}
	return nil
}

// Map makes the 4 KiB page at pa readable, and writable if write is set,
// by d's functions at iova. A page already mapped at iova is refused
// (ErrMapped): unmap it first, so that no translation ever changes
// under a device without an invalidation.
func (u *Unit) Map(d *Domain, iova, pa uint64, write bool) error {
	if err := u.checkIOVA(d, iova); err != nil {
		return err
	}
	if pa%pageSize != 0 {
		return fmt.Errorf("%w: physical address %#x", ErrAlign, pa)
	}
	if pa>>u.haw != 0 {
		return fmt.Errorf("%w: physical address %#x is not below 2^%d", ErrRange, pa, u.haw)
	}
	t, i, err := u.walk(d, iova, true)
	if err != nil {
		return err
	}
	if e := u.load(t, i); e != 0 {
		return fmt.Errorf("%w: %#x in domain %d, to %#x", ErrMapped, iova, d.id, e&addrMask)
	}
	e := pa | slRead
	if write {
		e |= slWrite
	}
	u.store(t, i, e)
	d.mapped++
	// Only in caching mode may the unit have cached the entry as not
	// present (§6.1); then it must be told.
	if u.Cap.CM && d.attached > 0 {
		return u.InvalidatePage(d, iova)
	}
	return u.flushWriteBuffer()
}

// Unmap removes the page at iova from d. It reports whether the IOTLB
// must be invalidated (InvalidatePage or InvalidateDomain) before the
// page's frame may be reused: true whenever a function is attached,
// since the unit may have cached the translation. Unmapping a page that
// is not mapped is ErrNotMapped. Tables emptied by Unmap are kept until
// DestroyDomain.
func (u *Unit) Unmap(d *Domain, iova uint64) (invalidate bool, err error) {
	if err := u.checkIOVA(d, iova); err != nil {
		return false, err
	}
	t, i, err := u.walk(d, iova, false)
	if err != nil {
		return false, err
	}
	if u.load(t, i) == 0 {
		return false, fmt.Errorf("%w: %#x in domain %d", ErrNotMapped, iova, d.id)
	}
	u.store(t, i, 0)
	d.mapped--
	return d.attached > 0, nil
}

// Lookup returns what d maps iova to, as the tables say (not what the
// unit may have cached).
func (u *Unit) Lookup(d *Domain, iova uint64) (pa uint64, write, ok bool) {
	if u.checkIOVA(d, iova) != nil {
		return 0, false, false
	}
	t, i, err := u.walk(d, iova, false)
	if err != nil {
		return 0, false, false
	}
	e := u.load(t, i)
	return e & addrMask, e&slWrite != 0, e != 0
}

// InvalidatePage invalidates the IOTLB for one page of d, page-selective
// if the unit supports it (CAP.PSI), else for the whole domain. Call it
// after Unmap reported true and before reusing the page's frame.
func (u *Unit) InvalidatePage(d *Domain, iova uint64) error {
	if err := u.checkIOVA(d, iova); err != nil {
		return err
	}
	if err := u.flushWriteBuffer(); err != nil {
		return err
	}
	if !u.Cap.PSI {
		return u.invalidateIOTLB(IOTLBDomain, d.id, 0)
	}
	return u.invalidateIOTLB(IOTLBPage, d.id, iova)
}

// InvalidateDomain invalidates the IOTLB for every page of d: cheaper
// than InvalidatePage after unmapping many pages.
func (u *Unit) InvalidateDomain(d *Domain) error {
	if err := u.check(d); err != nil {
		return err
	}
	if err := u.flushWriteBuffer(); err != nil {
		return err
	}
	return u.invalidateIOTLB(IOTLBDomain, d.id, 0)
}

package mm

import "valence.dev/microkernel/mm/vma"

// VMUsage is how much of an address range is mapped, in bytes, in the
// terms of the Linux limits: Total for RLIMIT_AS (every mapping, however
// inaccessible) and Data for RLIMIT_DATA (private writable memory, Linux's
// data_vm; memory objects are not counted, they have their own limit).
// Private is the part of Total that would be data if it were writable
// (what mprotect may add to Data).
type VMUsage struct {
	Total, Data, Private uint64
}

// Usage returns what is mapped in [start, end); pages in [skipStart,
// skipEnd) (the stack, which RLIMIT_DATA leaves out) count only towards
// Total. proc checks a mapping against the limits with it before making it.
func (as *AddressSpace) Usage(start, end, skipStart, skipEnd uint64) VMUsage {
	as.mu.Lock()
	defer as.mu.Unlock()
	return as.layout.usage(start, end, skipStart, skipEnd)
}

// usage is Usage on the bookkeeping alone (tested on the host).
func (l *layout) usage(start, end, skipStart, skipEnd uint64) VMUsage {
	var u VMUsage
	for i := l.set.FirstOverlap(start, end); i >= 0 && i < l.set.Len(); i++ {
		r := l.set.At(i)
		if r.Start >= end {
			break
		}
		lo, hi := max(r.Start, start), min(r.End, end)
		if lo >= hi {
			continue
		}
		u.Total += hi - lo
		if r.Flags&regionShared != 0 {
			continue
		}
		// The part outside [skipStart, skipEnd) is private memory, and
		// data if writable.
		d := hi - lo
		if s, e := max(lo, skipStart), min(hi, skipEnd); s < e {
			d -= e - s
		}
		u.Private += d
		if r.Prot&vma.Write != 0 {
			u.Data += d
		}
	}
	return u
}

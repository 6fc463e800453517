package frame

// Used reports whether the frame at physical address pa is marked used in
// the bitmap (allocated, reserved or never added). An address beyond the
// managed frames counts as used, as the allocator never hands it out; an
// unaligned one is rounded down. The debug checkers (mm/check.go) use it
// to verify that every frame a page table refers to is still allocated.
func (a *Allocator) Used(pa uint64) bool {
	f := pa >> pageShift
	if f >= a.nframes || f/64 >= uint64(len(a.bits)) {
		return true
	}
	return a.bits[f/64]>>(f%64)&1 != 0
}

// Package vma keeps the set of virtual memory regions of one address
// space: which page ranges are mapped, with what protection and of what
// kind. The kernel consults it to answer mmap, munmap and mprotect and to
// decide, on a page fault, whether the faulting address is mapped at all.
//
// # Where it runs
//
// The callers are the ring-0 handlers that serve the Go runtime's own
// system calls and page faults, which may run while the runtime is in any
// state. So no method allocates, and none uses maps, fmt, interfaces,
// closures, defer, append, panics or recursion. Every index is checked
// before use; errors are package-level sentinel values. Region storage is
// a slice the caller provides (the kernel points it at static memory), so
// a Set holds no pointer into the Go heap.
//
// A Set is not safe for concurrent use. The kernel serialises all calls
// by running them with interrupts disabled on a single CPU. That includes
// lookups: Find updates a one-entry cache of the last region it found.
//
// # Representation
//
// A Set manages the page-aligned window [lo, hi) given to Init. Its
// regions are stored in storage[0:n], sorted by Start. Each Region is a
// half-open range [Start, End) with a protection (Prot) and opaque Flags
// the caller uses to tell kinds of mapping apart (anonymous, stack,
// guard...). Prot 0 is a valid region: the addresses are reserved but any
// access faults, like PROT_NONE.
//
// A sorted array rather than a tree because the Go runtime creates few,
// large mappings (arenas are reserved in big PROT_NONE blocks and then
// committed), so n is small; binary search over contiguous memory beats
// pointer chasing, and an array needs no node allocator.
//
// # Invariants
//
// Check verifies all of these; the randomized and fuzz tests call it after
// every operation.
//
//   - lo and hi are multiples of PageSize and lo <= hi.
//   - n <= len(storage).
//   - Every region is non-empty, page aligned, inside [lo, hi), and has no
//     Prot bits other than Read|Write|Exec.
//   - Regions are sorted and disjoint: r[i].End <= r[i+1].Start.
//   - No two regions that touch (r[i].End == r[i+1].Start) have the same
//     Prot and Flags: such neighbours are always merged.
//
// The last invariant makes the representation canonical: a given
// page-by-page assignment of (Prot, Flags) has exactly one region list.
// That keeps n as small as possible and lets tests compare a Set with a
// page-by-page reference model exactly.
//
// # Errors and atomicity
//
// Addresses must be multiples of PageSize with start < end, else
// ErrInvalid; a range not inside [lo, hi) is ErrOutOfWindow. Map, Unmap
// and Protect either succeed completely or return an error and leave the
// Set exactly as it was. In particular each computes how many regions the
// result will have before it writes anything and fails with ErrNoSpace if
// that exceeds the storage; the count is of the final, merged result, so
// an operation that splits one region but merges two others still fits
// in a full Set. Protect performs its merges before its splits for the
// same reason: no intermediate state needs more slots than the result.
//
// # Complexity
//
// With n regions: Find is O(log n) by binary search, preceded by an O(1)
// check of the region the previous Find returned, since consecutive
// faults tend to hit the same region. FirstOverlap and IsFree are
// O(log n). Map and Unmap are O(log n) to locate the range plus one
// memmove of the regions after it, O(n) worst case. Protect is O(log n +
// k) for k regions in the range plus the memmove. FindFree is O(log n)
// plus one step per region it passes. Check is O(n).
//
// # Walking a range
//
// Callers that must visit the regions overlapping a range (for example to
// free the physical pages behind a range before unmapping it) use an
// index instead of a callback:
//
//	for i := s.FirstOverlap(start, end); i < s.Len() && s.At(i).Start < end; i++ {
//		r := s.At(i) // clip to [start, end) as needed
//	}
package vma

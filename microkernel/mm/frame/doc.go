// Package frame is Valence's physical frame allocator: it hands out 4 KiB
// frames of physical memory, singly or as aligned contiguous runs.
//
// # Where it runs
//
// The callers are the ring-0 handlers that answer the Go runtime's own
// memory system calls (mmap, munmap, madvise) and page faults. They run
// while the runtime may be in any state, including half-way through a
// garbage collection or holding the heap lock, so nothing here may call
// back into the runtime. Every method other than the test helpers
// therefore performs no heap allocation, uses no maps, fmt, interfaces,
// closures, defer, append, panics or recursion, and checks every index
// before using it. Errors are package-level sentinel values, which are
// allocated once at program start and never again.
//
// The allocator is not safe for concurrent use. The kernel serialises all
// calls by running them with interrupts disabled on a single CPU; hosted
// tests must do the same by not sharing an Allocator between goroutines.
//
// # Representation
//
// The allocator manages frame numbers [0, nframes). The frame number of a
// physical address pa is pa/PageSize. State is one bit per frame in a
// []uint64 bitmap supplied by the caller: bit f%64 of word f/64 is 1 when
// frame f is used and 0 when it is free. The kernel carves the bitmap out
// of free RAM before the allocator exists, so the Allocator holds no
// pointer into the Go heap: its only reference is the caller's slice.
// WordsFor says how many words a given nframes needs.
//
// "Used" covers three situations the bitmap cannot tell apart: frames
// that were never added (holes, MMIO, firmware), frames reserved with
// Reserve, and frames handed out by Alloc or AllocContig. Init starts
// with every frame used; the kernel then calls AddFree for each usable
// range of the firmware memory map and Reserve for whatever it finds
// occupied later (kernel image, boot modules, ACPI tables).
//
// Frame 0 is never handed out, so a physical address of 0 can mean
// "none". Init marks it used, AddFree skips it and Free refuses it.
//
// # Invariants
//
// Check verifies all of these; the randomized and fuzz tests call it after
// every operation.
//
//   - len(bitmap) == WordsFor(nframes).
//   - Frame 0 is used.
//   - The padding bits of the last word (frames nframes and above) are
//     set, so a word-at-a-time scan never treats them as free and the
//     "word == all ones" test means "no free frame here".
//   - free equals the number of zero bits.
//   - Every word below the search hint is all ones. Alloc therefore
//     starts its scan at the hint and never has to look below it; Free
//     and AddFree lower the hint when they clear a bit beneath it.
//   - allocated <= used frames - 1 (frame 0 is used but never allocated),
//     and the high-water mark is at least allocated.
//
// # Accounting
//
// Free and allocated are counters. Managed (the frames currently in the
// allocator's pool) is defined as free + allocated: AddFree grows it by
// the number of used frames it frees, Reserve shrinks it by the number
// of free frames it takes, Alloc and Free move frames between the two
// counters without changing it. Because the bitmap cannot distinguish an
// allocated frame from a reserved one, the following misuse cannot be
// detected in general and only makes the statistics wrong, never the
// bitmap:
//
//   - AddFree over a frame that is currently allocated frees it without
//     lowering allocated. Return allocated frames with Free.
//   - Free of a frame that was reserved or never added succeeds if at
//     least one frame is allocated; it fails with ErrNotAllocated only
//     when allocated would go negative.
//
// Free of a frame that is already free is always detected
// (ErrDoubleFree), and so is an unaligned, out-of-range or zero address.
//
// # Policy and complexity
//
// Alloc returns the lowest free frame (first fit). Because all words below
// the hint are full it reads only from the hint upwards, skipping 64 used
// frames per comparison, so a typical call costs O(1) and the worst case
// O(nframes/64). AllocContig returns the lowest run of n free frames whose
// first frame is a multiple of alignFrames; after each used frame that
// defeats a candidate it resumes at the next free frame, so the scan is
// O(nframes/64 + number of candidates) word operations. AddFree, Reserve
// and FreeContig work a word at a time: O(n/64 + 1). Free, FreeCount and
// Stats are O(1). Check is O(nframes/64).
//
// Because first fit is deterministic the tests compare every result
// against a one-bool-per-frame reference model, not just its validity.
package frame

// Package mm manages memory in ring 0: physical frames, the kernel's page
// tables, and the kernel's own virtual memory, which is where the Go runtime
// that runs the kernel keeps its heap.
//
// Layout of the kernel half of every address space (addresses at or above
// 0xffff800000000000 are kernel-only; user space, later, gets the lower half):
//
//	0xffff800000000000  direct map: physical address p is at DirectMapBase+p
//	                    (2 MiB pages, all RAM and the first 4 GiB; not
//	                    executable, and read-only over the kernel's code
//	                    and read-only data)
//	0xffffc00000000000  the kernel heap window (2 TiB): every mmap the Go
//	                    runtime makes, demand-paged
//	0xfffffe0000000000  device MMIO windows, uncached (512 GiB)
//	0xffffffff80000000  the kernel image: physical address p at KernelBase+p,
//	                    4 KiB pages with its ELF segments' permissions (W^X:
//	                    see protectImage)
//
// Physical frames come from a bitmap allocator (mm/frame) seeded from the
// firmware memory map minus the kernel image, the boot modules and the boot
// information. Page tables are reached through the direct map. User memory
// (pages, user page tables, memory objects: AllocUserFrame) stops short of
// a reserve that only the kernel heap and kernel page tables may use, so
// that a process exhausting memory cannot make a kernel heap fault fatal
// (reserve.go).
//
// The Go runtime's mmap requests are served in the heap window: the window's
// regions are tracked in a vma.Set with static storage, and no frame is
// committed until the runtime touches a page (Fault). madvise(MADV_DONTNEED)
// and munmap give frames back at once. Hints outside the window are ignored,
// as a hint may be; the runtime then asks for any address and gets one here.
//
// The top-level page-table pages (PDPTs) of every kernel region are allocated
// at boot and never freed, so the PML4 entries 256-511 never change after
// boot and can be shared by every address space.
//
// Concurrency: one CPU; callers run with interrupts disabled (trap context,
// or goroutine code holding Lock), which serialises everything here. No
// function allocates Go memory or writes a Go pointer, so all of it is safe
// in trap context and before the runtime starts.
package mm

// Package mbimage turns the Valence kernel ELF into a Multiboot (v1) image
// that QEMU's -kernel loader and GRUB's multiboot command can boot.
//
// # Why a flat binary
//
// The kernel is a static Go binary linked in the higher half, so it is an
// ELF64 file whose segments have virtual addresses near the top of the
// address space. A Multiboot v1 loader runs in 32-bit protected mode and
// QEMU refuses ELF64 files outright. The header's "a.out kludge" (flag bit
// 16) sidesteps both problems: it tells the loader to ignore the file's
// format and copy a byte range to a physical address given in the header.
// Build therefore flattens the ELF into exactly the bytes that should sit
// in physical memory.
//
// # Address map
//
// Every PT_LOAD segment must lie in the kernel window
// [KernelBase, KernelBase+1 GiB) and is loaded at physical address
// vaddr-KernelBase. The ELF's p_paddr is ignored: the linker does not know
// about the higher-half mapping, and trusting it would couple the image to
// linker behaviour we do not control. The window bounds every physical
// address below 1 GiB, so all header fields fit in 32 bits.
//
// # File layout
//
//	offset 0       multiboot header (32 bytes), rest of the page zero
//	offset 4096    byte at physical address lowest, the first segment
//	...            each segment's file bytes at 4096+(phys-lowest);
//	               gaps and bss tails of non-final segments zero-filled
//	end            last file byte of the highest segment
//
// The header page is loaded too, at lowest-4096, so header_addr and
// load_addr are both lowest-4096 and the file offset of every byte equals
// its physical address minus load_addr; that identity is what keeps the
// loader's arithmetic trivial. The final segment's bss is not stored: the
// loader zeroes [load_end_addr, bss_end_addr), and bss_end_addr is the
// highest segment end rounded up to a page so the kernel may treat whole
// pages after its image as free.
//
// # Validation
//
// Build rejects anything a loader would misplace rather than trying to
// repair it: wrong ELF class, machine or type, no loadable segments,
// segments outside the window, overlapping segments, filesz > memsz,
// truncated files, a load address below 1 MiB (where BIOS data and the
// loader live), images over MaxImage, and an entry symbol that is missing
// or not in executable file-backed bytes. The entry symbol is looked up as
// name.abi0 first: that is what the Go linker calls an assembly function
// whose address Go code takes, while the plain name then belongs to a
// 64-bit ABI wrapper that a 32-bit loader must not jump to. After writing the header Build
// re-reads its own output with ParseHeader, the same checks a loader makes,
// so a bug in the writer surfaces as an error instead of a silent hang
// in QEMU. ParseHeader is also useful on its own to inspect images.
package mbimage

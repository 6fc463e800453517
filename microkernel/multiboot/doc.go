// Package multiboot reads the Multiboot (version 1) boot information
// structure that a compliant loader, such as QEMU's -kernel multiboot
// loader, leaves in physical memory for the kernel.
//
// It implements the parts of section 3.3, "Boot information format", of
// the Multiboot Specification version 0.6.96 that the kernel needs to set
// up physical memory: the flags word, mem_lower/mem_upper (flags bit 0),
// the kernel command line (bit 2), the boot module list (bit 3) and the
// BIOS memory map (bit 6). Everything else in the structure (boot device,
// symbol tables, drives, APM, VBE, framebuffer, loader name) is ignored.
//
// # Where it runs
//
// Parse runs in the kernel's entry path, after the loader has jumped to
// the kernel with EAX = 0x2BADB002 and EBX = the physical address of the
// information structure, but before the Go runtime is initialised. That
// rules out anything that needs the runtime: there is no heap, package
// initialisers have not run, and a panic has nowhere to go. The code in
// this package (tests aside) therefore
//
//   - performs no heap allocation; the tests prove it with
//     testing.AllocsPerRun for Parse, Available and CmdlineArgs;
//   - uses no fmt, maps, closures, defer, append or panics, and imports no
//     other package at all, so no foreign initialiser is relied on;
//   - checks every index and length explicitly before using it, so none
//     of the compiler's bounds checks can fire on any input;
//   - writes its results into a caller-provided Info made of fixed-size
//     arrays, and never stores the Memory it is given.
//
// The only interfaces involved are Memory, which the kernel implements
// and passes in, and the error results.
//
// # Errors are constants, not variables
//
// The usual Go idiom, var ErrX = errors.New("..."), would be wrong here.
// Those variables are assigned by package initialisation, which the
// runtime performs after it has started; before that they are nil, so
// "return ErrBadMagic" would return a nil error and report success. The
// sentinels are therefore constants of the integer type Error. Turning a
// constant into an error interface needs no allocation and no
// initialisation (the compiler emits the interface's type word and
// value statically), and the values still compare with == and work
// with errors.Is once the runtime is up.
//
// # Reading physical memory
//
// All memory is read through Memory.Slice, which returns the bytes of a
// physical range or reports it unreadable. Nothing the loader wrote is
// trusted: every pointer and length is checked for wrap-around, every
// Slice result is checked to have the requested length, and every
// variable-length structure has a fixed upper bound (MaxModules module
// entries, MaxMmapLength bytes of memory map, MaxCmdline bytes of string).
// Since each loop advances by at least one byte or entry through a
// bounded range, Parse terminates on any input and calls Slice at most a
// few tens of thousands of times. Strings are found byte by byte because
// the end of a string is not known until its NUL is seen and a longer
// read might run into an unreadable page; the returned slices alias the
// loader's memory, which is why their extents are listed in
// Info.Reserved.
//
// # Results and failure
//
// Parse clears *out before it starts. On success every field reflects
// the structure; on failure the Info is cleared again, so a half-parsed
// Info is never mistaken for a good one. The one exception is
// ErrTooManyRegions: a memory map with more than MaxRegions entries is
// truncated to its first MaxRegions entries and everything else is still
// parsed, so the caller may choose to carry on. Dropping entries is safe
// because Available only ever hands out memory that some kept entry
// marks as available, so truncation loses RAM but never invents it.
//
// When the loader supplies no memory map but does supply mem_lower and
// mem_upper, Parse synthesises the two available regions they describe
// ([0, mem_lower KiB) and [1 MiB, 1 MiB + mem_upper KiB)), so that the
// rest of the kernel has a single source of truth. Flags still tells the
// caller which case applied.
//
// Module end addresses are exclusive, as QEMU and GRUB write them
// (mod_end = mod_start + size). A module's string field of 0 means "no
// string" (the specification allows this) and yields a nil Cmdline.
//
// # Reserved memory
//
// The information structure and everything it points to live in memory
// the loader took from the available regions; the kernel must not hand
// those frames out until it has copied what it needs. Info.Reserved lists
// one range each for the structure (InfoSize bytes, the size the
// specification defines, even if the loader's flags use fewer), the
// command line including its NUL, the memory map buffer, the module list
// and each module's string. Modules themselves are listed separately in
// Info.Modules; Available excludes both.
//
// # Available memory
//
// Available computes the RAM the frame allocator may use: the union of
// all type 1 regions, minus every region of any other type (a firmware
// map that calls a range both available and reserved is believed on the
// safe side), minus Reserved, minus every module, minus the caller's
// extra exclusions (typically the kernel image). Each remaining piece is
// then shrunk to whole 4 KiB pages. The order matters: overlapping and
// touching available entries are joined before rounding so that a page
// straddling two of them is not lost, and rounding happens after
// subtraction so that an exclusion that ends mid-page removes that whole
// page. The result is sorted, non-overlapping and page aligned.
//
// Available has no scratch memory, so instead of sorting and merging it
// sweeps upwards through the address space: from a cursor it finds the
// lowest usable address, extends it to the end of its piece, emits the
// rounded piece and moves the cursor there. Every step lands on one of
// the finitely many endpoints, so the sweep terminates; it costs
// O(pieces x ranges^2) comparisons, a few million at worst and a few
// hundred for a real map. Because pieces come out in address order, an
// out that is too small receives exactly the lowest pieces, and a count
// below len(out) means the answer is complete.
//
// CmdlineArgs splits a command line into words. QEMU passes the kernel's
// path as the first word; it is kept, and the caller decides what to
// skip.
package multiboot

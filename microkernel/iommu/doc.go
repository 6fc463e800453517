// Package iommu isolates DMA with Intel VT-d: each PCI function's memory
// requests are translated through page tables the kernel writes, so a
// device can reach only the pages its driver was given, and a request to
// anything else is blocked and recorded as a fault.
//
// Section numbers are those of the Intel Virtualization Technology for
// Directed I/O Architecture Specification, rev 3.x. The package is pure
// Go with no hardware access: the kernel supplies the register window
// (Regs) and physical pages (Mem), and the tests supply a fake unit
// (package vtdtest) that walks the tables as the hardware does.
//
// # What it implements
//
// A Unit drives one remapping unit (one DRHD of the ACPI DMAR table) in
// legacy mode, the mode QEMU 7.2's intel-iommu offers without
// x-scalable-mode: root table, context tables, second-level page tables,
// register-based invalidation. Not implemented: scalable mode, first-
// level and nested translation, pass-through, large pages, queued
// invalidation (it is turned off if firmware left it on, since register
// invalidation is refused while it runs, §6.5.2), interrupt remapping,
// device TLBs (ATS), RMRR identity maps, and advanced fault logging.
//
// # Tables
//
// The root table (§9.1) is one page of 256 128-bit entries, one per bus,
// each pointing at that bus's context table. A context table (§9.3) is
// one page of 256 128-bit entries, one per device and function; a
// present entry gives the translation type (00b: untranslated requests
// through second-level tables), fault processing left enabled, the
// address width (AW 1: 39 bits, 3 levels; AW 2: 48 bits, 4 levels), the
// domain id and the physical address of the domain's top table. Context
// tables are made on first use and kept for the unit's life (at most 256
// pages).
//
// A Domain's second-level tables (§9.8) have 512 64-bit entries per page
// at each of 3 or 4 levels; bits 51:12 of an entry hold the next table
// or, at the last level, the 4 KiB page; R (bit 0) and W (bit 1) grant
// access, and the unit checks the request's right at every level, so
// entries pointing at tables carry both and the last level decides. An
// entry with neither is not present. Tables emptied by Unmap are kept
// until DestroyDomain, so no table page is freed while a function that
// could walk it is attached.
//
// The depth is chosen once, in Init, from CAP.SAGAW: 4 levels if the unit
// supports 48-bit tables, else 3. IOVAs must be below 2^min(AGAW, MGAW):
// 2^39 on QEMU's default unit. Physical addresses must be below 2^HAW,
// the host address width from the DMAR.
//
// # Registers and commands
//
// GCMD has no memory of its own (§10.4.4): every write is the whole set
// of enables, so each command is written as the current GSTS with the
// one-shot bits masked off, plus the command bit, and then GSTS is polled
// for the acknowledgement. Without this, a write-buffer flush after
// translation is on would turn translation off. Every wait is a bounded
// loop (Unit.MaxPolls reads) that fails with ErrTimeout naming the
// register and bit, so a unit that never answers costs an error, not a
// hung kernel. Init follows the order §10.4.4 requires before setting TE:
// root table address, SRTP, write-buffer flush (if CAP.RWBF), global
// context-cache invalidation, global IOTLB invalidation, then TE. An
// invalidation whose completion reports granularity 0 was not performed
// and fails with ErrInvalidation.
//
// # Caches and the rule for reusing a frame
//
// The unit caches context entries (the context cache) and translations
// (the IOTLB), tagged with the domain id, and does not see table writes
// until told. Hence:
//
//   - A page must be unmapped, and the IOTLB invalidated for it (Unmap,
//     then InvalidatePage or InvalidateDomain), before its frame is freed
//     or given to anyone else. Until the invalidation completes the
//     device may still reach the frame through a cached translation; the
//     tests show the fake unit doing exactly that. Unmap reports whether
//     the invalidation is needed (true whenever a function is attached),
//     so callers can batch several unmaps under one InvalidateDomain. The
//     invalidation asks the unit to drain in-flight DMA (CAP.DRD/DWD), so
//     when it returns no request is still using the old translation.
//   - Detach clears the context entry and invalidates the context cache
//     for the function and the IOTLB for its domain before returning:
//     after Detach the function reaches nothing. DestroyDomain refuses a
//     domain with functions attached, and frees only table pages; the
//     frames it mapped are the caller's, free to reuse once every
//     function is detached.
//   - Map never changes a present entry (ErrMapped): a translation only
//     goes from absent to present, which needs no invalidation, except
//     in caching mode (CAP.CM, §6.1), where the unit may cache absent
//     entries too; there Map and Attach invalidate, and domain id 0 is
//     reserved because absent entries are cached under it.
//   - If CAP.RWBF is set, the write buffer is flushed after table
//     updates (§6.8).
//   - If ECAP.C is 0 (QEMU reports 0) the unit's page walks do not snoop
//     the CPU caches: every entry written is followed by Flush of its
//     cache line, and a new table by a Flush of all of its lines. Mem
//     must then implement Flusher (clflush in the kernel), or Init fails.
//
// Entries are written with atomic 64-bit stores. A 128-bit root or
// context entry is written high half first, low half (with Present)
// last, and cleared low half first, so the unit never sees a present
// entry with a stale other half.
//
// # Faults
//
// A blocked request is recorded in one of CAP.NFR fault recording
// registers at CAP.FRO (§10.4.14) and FSTS.PPF is set; Faults reads
// them from FSTS.FRI on, decodes each (source id, page address, read or
// write, reason code, §7.1.3) into a Fault and clears it by writing 1 to
// its F bit, then clears FSTS.PFO if faults were lost. The fault event
// interrupt stays masked until SetFaultEvent programs it.
//
// # QEMU 7.2
//
// Read from a running `qemu-system-x86_64 -machine q35 -device
// intel-iommu` with the monitor's xp command: registers at 0xfed90000,
// VER 0x10, CAP 0x00d2008c22260206 (ND 6: 65536 domains; SAGAW 39-bit
// only; MGAW 39; CM 0; RWBF 0; PSI; FRO 0x220 with one record; MAMV 18;
// DRD, DWD), ECAP 0xf00f4a (C 0, QI, IR, PT, IRO 0xf0). aw-bits=48 adds
// 48-bit tables (CAP 0x00d2008c222f0606) and caching-mode=on sets CM.
// Its DMAR lists the unit without INCLUDE_PCI_ALL and names each
// function on bus 0 (bridges as type 2 scopes), with INTR_REMAP set.
//
// # Concurrency
//
// A Unit is not safe for concurrent use. The kernel serialises calls
// (one CPU, with mm.Lock or a unit lock); no method blocks except for
// the bounded polls.
package iommu

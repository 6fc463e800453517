// Package acpi reads the firmware's ACPI tables for the two things the
// Valence kernel needs from them: how to turn the machine off, and how
// legacy and I/O APIC interrupts are routed.
//
// # What it implements
//
// From the ACPI 6.x specification:
//
//   - 5.2.5 Root System Description Pointer: locating the RSDP in the
//     EBDA and BIOS read-only area (5.2.5.1), and verifying it (5.2.5.3):
//     the checksum of the first 20 bytes and, for revision 2 and later,
//     the Length field and the extended checksum.
//   - 5.2.6 System Description Table Header: signature, length and
//     checksum of every table.
//   - 5.2.7 RSDT and 5.2.8 XSDT: the root tables. The XSDT is used when
//     the RSDP's revision is at least 2 and its XsdtAddress is non-zero;
//     if the XSDT fails verification and an RSDT exists, Parse falls back
//     to the RSDT and records the problem.
//   - 5.2.9 FADT: the SCI interrupt, the SMI command port, the DSDT
//     address (X_DSDT preferred), the PM1a/PM1b control blocks (the
//     X_PM1x_CNT_BLK generic addresses preferred when present and in
//     system I/O space, else the legacy port fields), the reset register
//     and the IA-PC boot architecture flags.
//   - 5.2.12 MADT: the local APIC address (with the 64-bit override entry,
//     type 5), processor local APICs and x2APICs (types 0 and 9), I/O
//     APICs (type 1), interrupt source overrides (type 2), NMI sources
//     (type 3) and local APIC NMIs (types 4 and 10).
//   - MCFG (PCI Firmware Specification 3.2 §4.1.2): each segment's PCI
//     Express configuration window (ECAM).
//   - DMAR (Intel VT-d specification §8): the DMA remapping units, their
//     register bases and device scopes, and the reserved memory regions.
//   - 7.4.2 \_Sx system states: the SLP_TYPa and SLP_TYPb values for S5,
//     found by recognising the AML encoding of Name(_S5_, Package(){...})
//     in the DSDT: NameOp 0x08, an optional root prefix '\', the name
//     "_S5_", PackageOp 0x12, a PkgLength (20.2.4, one to four bytes),
//     NumElements, then integer constants as ZeroOp, OneOp, OnesOp or
//     BytePrefix 0x0A, WordPrefix 0x0B, DWordPrefix 0x0C, QWordPrefix
//     0x0E followed by the value.
//
// There is deliberately no AML interpreter. In practice firmware, QEMU's
// included, declares \_S5 as a literal package, so pattern matching is
// enough, and it is far less code to trust at a time when the machine is
// going down.
//
// # Trust
//
// The code runs with the Go runtime up, so it may allocate, but nothing
// read from memory is trusted. All memory goes through Memory.Slice,
// whose result is checked to have the requested length; every address
// sum is checked for wrap-around; every offset is bounds-checked before
// use. Table lengths are capped at MaxTableLength and the RSDP length at
// 1 KiB, so allocation is bounded by those caps rather than by what the
// firmware claims. The root table is examined for at most
// MaxRootEntries entries, each distinct address once, and every other
// loop (the RSDP scan, the MADT entries, the AML scan) advances through
// a bounded range by at least one byte per step, so Parse terminates on
// any input. A corrupt table yields an error, never a panic; the fuzz
// tests hold the parsers to that.
//
// # Failure policy
//
// Parse fails only if the RSDP or the root table cannot be used, since
// then nothing is known. A problem with an individual table (unreadable,
// bad length, bad checksum, malformed contents, no \_S5_ in the DSDT) is
// appended to Tables.Problems as a *TableError naming the table and its
// address, and that table is left out (Tables.FADT, Tables.MADT or
// FADT.S5 stays nil). The kernel can then still route interrupts when
// only the DSDT is broken, or still power off when only the MADT is, and
// it can log every problem. Tables the package does not interpret are
// still verified, so their signatures in Tables.Signatures can be
// believed.
//
// Errors wrap sentinel values (ErrChecksum, ErrMalformed, ...) so that
// callers can test them with errors.Is; errors tied to a table are
// *TableError values and can be unpacked with errors.As.
//
// # Powering off
//
// PowerOffWrites turns the FADT and \_S5_ into the port writes that
// enter S5: SLP_TYPa<<10 | SLP_EN (bit 13) to PM1a_CNT, and the same with
// SLP_TYPb to PM1b_CNT if that block exists. On QEMU's q35 and pc
// machines PM1a_CNT is port 0x604 and \_S5_ is Package(4){0,0,0,0}, so
// the single write is 0x2000 to 0x604. Hardware-reduced platforms, which
// use the SLEEP_CONTROL_REG instead, are not supported. Each PortWrite
// carries a Mask so that a kernel that can read the register may
// preserve its other bits, as an OSPM normally does.
//
// # Interrupt routing
//
// MADT.ISAToGSI maps a legacy ISA IRQ to its global system interrupt,
// polarity and trigger mode, applying interrupt source overrides and the
// ISA defaults (active high, edge triggered) otherwise. The kernel finds
// the I/O APIC serving a GSI from MADT.IOAPICs and their GSIBase.
package acpi

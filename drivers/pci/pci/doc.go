// Package pci is the hosted-testable core of Valence's PCI manager: it
// finds the functions on the PCI buses, reads what each one is and
// needs, picks the driver for it, and gives drivers the few configuration
// space operations they need (turning on decoding and bus mastering,
// programming MSI and MSI-X).
//
// # Configuration space
//
// Every function has a configuration space (PCI Local Bus 3.0 §6; PCI
// Express Base r4.0 §7): a 256-byte header and capability area, and on
// PCI Express 3840 more bytes of extended capabilities. Valence reaches
// it through ECAM (PCI Express Base r4.0 §7.2.2), a memory window the
// firmware describes in the ACPI MCFG table: bus b, device d, function f
// at (b-first)<<20 | d<<15 | f<<12. ECAM is built on a dev.Regs, so the
// same code runs on the kernel's mapping in Valence and on devtest.Regs
// in tests. Config is one function's space; Space a range of buses.
//
// # Enumeration
//
// Scan tries every bus of the window, every device 0-31, and functions
// 1-7 of multifunction devices; a vendor ID of all ones (or zeros) means
// nothing is there. For each function it reads the identity, sizes the
// BARs (PCI Local Bus 3.0 §6.2.5.1) and walks the capability lists
// (§6.7; PCI Express Base r4.0 §7.6), decoding MSI, MSI-X, PCI Express
// and vendor-specific capabilities (the last for virtio, virtio 1.1
// §4.1.4). Bridges' bus numbers are recorded, not followed: firmware
// numbered the buses, and the window covers all of them. ScanBridges is
// the economical alternative the PCI manager uses: it scans the first bus
// and then only the buses behind the bridges found, and BusWindows is a
// Space that maps each bus's 1 MiB of ECAM only when it is first used.
//
// # Invariants
//
//   - Nothing read from a device is trusted. Every pointer, length, size
//     and index is checked before it is used to address anything, so a
//     broken or hostile device cannot make Scan panic, loop or read
//     outside its own function's space; FuzzScan checks this with
//     configuration spaces made by the fuzzer.
//   - A value that breaks a specification is described in
//     Function.Problems and what depends on it left out: a Function's
//     BARs, MSI, MSIX, PCIe, VendorCaps and Bridge are present only if
//     valid, so a driver need not check them again. An MSI-X table, for
//     instance, is known to lie inside an implemented memory BAR.
//   - Capability walks stop at a pointer into the header, a pointer to
//     an entry already seen, or after as many entries as could fit (48
//     conventional, 960 extended).
//   - Scan leaves every register as it found it. Sizing a BAR writes it,
//     so memory and I/O decoding are off meanwhile (the Command register
//     is written with 16-bit accesses, never touching the Status
//     register's write-one-to-clear bits) and both are restored.
//   - An out-of-range bus, device, function or register offset is a bug
//     in the caller and panics, as dev.Regs does; a device cannot cause
//     one.
//   - Operations that program a device (EnableMSI, EnableMSIX,
//     EnableMSIXMasked, which hands MSI-X to a driver with every vector
//     masked) check every argument first and write nothing if one is
//     wrong.
//
// # Driver manifests
//
// Each driver comes with a TOML manifest (see Manifest) naming its
// program and the functions it serves. ParseManifest refuses anything it
// does not understand, so that a typing mistake cannot make a driver
// claim devices it was not meant to. Match picks, for a function, the
// manifest with the most specific matching rule: vendor and device IDs,
// then class, subclass and programming interface, then class and
// subclass, then class alone; ties go to the least manifest name, so the
// choice never depends on the order manifests were read in.
//
// Function.String formats a function as `lspci -nn` does, with class
// names from the PCI Code and ID Assignment Specification and a short
// table of vendor names.
package pci

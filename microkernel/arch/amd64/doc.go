// Package amd64 is Valence's hardware layer for x86-64: the instructions Go
// cannot express (port I/O, MSRs, control registers, descriptor-table loads),
// the formats the CPU reads from memory (segment and gate descriptors, the
// 64-bit TSS, page-table entries, the trap frame), and drivers for the few
// devices the ring-0 core itself needs on a PC: the 16550 UART on COM1, the
// 8254 PIT (only to calibrate other clocks), the 8259 PICs (only to silence
// them), the local APIC and its timer, the I/O APIC, and the CMOS real-time
// clock.
//
// Everything here is usable before the Go runtime exists and from trap
// handlers: no function allocates, takes a lock, or calls back into the rest
// of the kernel. Memory-mapped registers are reached through addresses the
// caller maps (the package knows nothing about page tables beyond their entry
// format). Unsafe code is confined to mmio_unsafe.go.
//
// Specifications cited in this package: Intel 64 and IA-32 Architectures
// Software Developer's Manual (SDM) vol. 3A chapters 3 (segmentation), 4
// (paging), 6 (interrupts), 7 (task management), 10 (APIC); the 82093AA I/O
// APIC datasheet; the 8254 and 8259A datasheets; the PC16550D UART datasheet.
package amd64

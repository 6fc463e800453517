// Package dev is what every Valence driver is written against: a device's
// register window (Regs), memory the device can reach by DMA (DMA, Buffer)
// and its interrupts (IRQ). Drivers take these as interfaces, so that the
// same driver code runs on the real device in Valence (the implementations
// here built on the kernel's device capabilities, docs/drivers.md) and on a
// fake device in hosted tests (package devtest).
//
// Invariants a driver may rely on:
//   - Regs accesses are single, uncached, in program order, of exactly the
//     width asked for (PCI Express Base §2.2.7: a 64-bit register may be
//     accessed as two 32-bit halves, low first, where the device allows it).
//   - A Buffer's Addr is the address the device uses for Bytes[0]; the
//     buffer is physically contiguous, so Addr+i names Bytes[i]. It stays
//     valid until Free.
//   - IRQ.Wait returns once per interrupt the device raised since the last
//     Ack (several may be merged into one); the line stays masked until Ack.
//
// Nothing here trusts the device: a value read from a register or a
// descriptor is data to be checked by the driver before it indexes or
// sizes anything with it.
package dev

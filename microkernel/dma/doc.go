// Package dma isolates devices' DMA with the IOMMU (Intel VT-d): it is the
// kernel's glue around package iommu, which holds the translation logic.
//
// At boot Init finds the remapping unit in ACPI's DMAR table, claims its
// registers (no driver may map them), builds its tables in frames of the
// kernel's, and enables translation. From then on a device reaches only
// what its PCI function's domain maps, and with no domain, nothing.
//
// A function's domain is made when its driver first creates DMA memory
// through the function's device capability (ForFunction); the DMA memory's
// frames are mapped into it at their physical addresses, so the address
// the driver gives the device (libos.MemPhys) is the same with or without
// an IOMMU. Domains and mappings are reference counted: a domain lives
// while the function's capability object or any of its DMA memory does.
//
// Invariant: a frame is unmapped from every domain, and the IOTLB entries
// that could translate to it invalidated, before it is freed (Unmap
// returns only after the invalidation completed, and if the unit does not
// confirm it, the frames are never freed). Otherwise a device could write
// into memory already given to someone else.
//
// A DMA the IOMMU blocks is recorded in its fault registers and signalled
// with an interrupt (an MSI vector of the kernel's); a kernel goroutine
// reads the records, logs each (rate-limited) with the function and the
// address, and calls OnFault, through which the process layer kills the
// function's driver.
//
// All operations on the unit are serialised by one mutex; they run in
// goroutine context, never in trap handlers.
package dma

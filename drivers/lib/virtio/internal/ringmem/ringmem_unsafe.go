package ringmem

import (
	"fmt"
	"sync/atomic"
	"unsafe"
)

// word returns b[0:4] as a *uint32 for sync/atomic. It is the only unsafe
// conversion in the virtio packages: it needs b to hold 4 bytes (checked)
// and to be 4-byte aligned (checked: DMA memory is page-aligned and ring
// words sit at multiples of 4 in it, so a failure is a layout bug).
func word(b []byte) *uint32 {
	if len(b) < 4 {
		panic(fmt.Sprintf("ringmem: %d-byte slice for a 32-bit ring word", len(b)))
	}
	p := unsafe.Pointer(unsafe.SliceData(b))
	if uintptr(p)%4 != 0 {
		panic(fmt.Sprintf("ringmem: ring word at %p is not 4-byte aligned", p))
	}
	return (*uint32)(p)
}

func atomicLoad(p *uint32) uint32     { return atomic.LoadUint32(p) }
func atomicStore(p *uint32, v uint32) { atomic.StoreUint32(p, v) }

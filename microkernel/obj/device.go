package obj

// Device is the root device capability's object: whoever holds it with
// RightManage may create device memory, IRQs, DMA memory and I/O port
// ranges (docs/drivers.md). There is one, given to the first process.
type Device struct {
	ID uint64
}

// Ports is a range of x86 I/O ports [Base, Base+Count) a driver may read
// and write through the kernel.
type Ports struct {
	ID          uint64
	Base, Count uint32
}

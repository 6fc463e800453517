package amd64

// Segment selectors of the GDT the kernel installs (SDM vol. 3A §3.4.2). The
// order is fixed by SYSCALL/SYSRET: STAR[47:32] gives the kernel CS and SS=CS+8;
// STAR[63:48] gives a base from which SYSRET takes SS=base+8 and CS=base+16.
const (
	KernelCS  = 0x08
	KernelDS  = 0x10
	UserDS    = 0x18 | 3
	UserCS    = 0x20 | 3
	TSSSel    = 0x28
	GDTLength = 7 // null, kcode, kdata, udata, ucode, TSS (two slots)
)

// Descriptor values for flat 64-bit segments (SDM vol. 3A §3.4.5, §5.2.1):
// present, S=1, long-mode code (L=1) or writable data, DPL 0 or 3.
const (
	descKernelCode = 0x00209A0000000000
	descKernelData = 0x0000920000000000
	descUserData   = 0x0000F20000000000
	descUserCode   = 0x0020FA0000000000
)

// GDT is the global descriptor table.
type GDT [GDTLength]uint64

// Init fills the table with the flat code and data segments and a 64-bit TSS
// descriptor pointing at tss (SDM vol. 3A §7.2.3: a 16-byte system descriptor,
// type 9 = available 64-bit TSS).
func (g *GDT) Init(tss uintptr) {
	g[0] = 0
	g[1] = descKernelCode
	g[2] = descKernelData
	g[3] = descUserData
	g[4] = descUserCode
	limit := uint64(TSSSize - 1)
	base := uint64(tss)
	g[5] = limit&0xFFFF | (base&0xFFFFFF)<<16 | 0x89<<40 | (limit>>16&0xF)<<48 | (base>>24&0xFF)<<56
	g[6] = base >> 32
}

// PseudoDescriptor is the operand of LGDT and LIDT: a 16-bit limit followed by
// a 64-bit base. It is stored in two words so that it is naturally aligned;
// Addr returns the address of the limit field (offset 6), after which the base
// follows immediately.
type PseudoDescriptor [2]uint64

// Set stores limit and base so that the 10 bytes at Addr form the operand.
func (p *PseudoDescriptor) Set(base uintptr, limit uint16) {
	p[0] = uint64(limit) << 48
	p[1] = uint64(base)
}

// TSSSize is the size of the 64-bit task-state segment (SDM vol. 3A §7.7).
const TSSSize = 104

// TSS is the 64-bit task-state segment. In long mode it holds only stack
// pointers: RSP0 for interrupts that raise the privilege level to 0, and the
// seven interrupt stack table entries selected by IDT gates. Its fields are
// not naturally aligned (RSP0 starts at byte 4), so it is kept as words and
// written through SetRSP0 and SetIST.
type TSS [13]uint64

// SetRSP0 sets the stack used when an interrupt arrives in ring 3.
func (t *TSS) SetRSP0(sp uint64) { t.setQword(4, sp) }

// SetIST sets interrupt stack table entry n (1..7).
func (t *TSS) SetIST(n int, sp uint64) {
	if n < 1 || n > 7 {
		return
	}
	t.setQword(36+8*(n-1), sp)
}

// SetIOMapBase places the I/O permission bitmap beyond the segment limit,
// which denies ring 3 every port.
func (t *TSS) SetIOMapBase() {
	t[12] = t[12]&^(0xFFFF<<48) | uint64(TSSSize)<<48
}

// setQword writes a little-endian 64-bit value at byte offset off, which is
// 4 (mod 8) for every field of the TSS.
func (t *TSS) setQword(off int, v uint64) {
	w := off / 8
	if off%8 == 0 {
		t[w] = v
		return
	}
	t[w] = t[w]&0xFFFFFFFF | v<<32
	t[w+1] = t[w+1]&^0xFFFFFFFF | v>>32
}

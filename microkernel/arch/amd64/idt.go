package amd64

// Exception vectors (SDM vol. 3A §6.3.1, table 6-1).
const (
	VecDivide        = 0
	VecDebug         = 1
	VecNMI           = 2
	VecBreakpoint    = 3
	VecOverflow      = 4
	VecBound         = 5
	VecInvalidOp     = 6
	VecNoFPU         = 7
	VecDoubleFault   = 8
	VecInvalidTSS    = 10
	VecSegment       = 11
	VecStack         = 12
	VecGeneralProt   = 13
	VecPageFault     = 14
	VecFPU           = 16
	VecAlignment     = 17
	VecMachineCheck  = 18
	VecSIMD          = 19
	VecVirtualize    = 20
	VecControlProt   = 21
	FirstIRQVector   = 32
	VecSpurious      = 0xFF
	NumVectors       = 256
	VectorStubStride = 16 // bytes between consecutive entry stubs (see trap_amd64.s)
)

// HasErrorCode reports whether the CPU pushes an error code for vector v.
func HasErrorCode(v int) bool {
	switch v {
	case 8, 10, 11, 12, 13, 14, 17, 21, 29, 30:
		return true
	}
	return false
}

// ExceptionName is the SDM's mnemonic for an exception vector.
func ExceptionName(v int) string {
	names := [...]string{"#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
		"#BR bound range", "#UD invalid opcode", "#NM device not available", "#DF double fault",
		"coprocessor overrun", "#TS invalid TSS", "#NP segment not present", "#SS stack fault",
		"#GP general protection", "#PF page fault", "reserved", "#MF x87 error", "#AC alignment check",
		"#MC machine check", "#XM SIMD exception", "#VE virtualization", "#CP control protection"}
	if v >= 0 && v < len(names) {
		return names[v]
	}
	if v < FirstIRQVector {
		return "reserved exception"
	}
	return "interrupt"
}

// IDT is the interrupt descriptor table: 256 16-byte gates, two words each.
type IDT [NumVectors * 2]uint64

// SetGate installs a 64-bit interrupt gate (type 0xE: IF is cleared on entry)
// for vector v (SDM vol. 3A §6.14.1). ist selects an interrupt stack table
// entry (0 = none); dpl is the highest privilege level allowed to raise the
// vector with INT n.
func (t *IDT) SetGate(v int, handler uintptr, ist int, dpl int) {
	if v < 0 || v >= NumVectors {
		return
	}
	h := uint64(handler)
	t[2*v] = h&0xFFFF | uint64(KernelCS)<<16 | uint64(ist&7)<<32 | uint64(0x8E|(dpl&3)<<5)<<40 | (h>>16&0xFFFF)<<48
	t[2*v+1] = h >> 32
}

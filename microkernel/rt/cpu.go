package rt

import (
	"valence.dev/microkernel/arch/amd64"
	"valence.dev/microkernel/klog"
)

// Descriptor tables. Static, so they exist before the runtime.
var (
	gdt  amd64.GDT
	tss  amd64.TSS
	idt  amd64.IDT
	gdtr amd64.PseudoDescriptor
	idtr amd64.PseudoDescriptor
)

// Trap stack indices (see trap_amd64.s); IST n uses stack n.
const (
	stackSyscall   = 0
	stackIRQ       = 1 // IST1
	stackPageFault = 2 // IST2
	stackDouble    = 3 // IST3
	stackNMI       = 4 // IST4
	stackException = 5 // IST5
)

// vectorIST chooses the interrupt stack for a vector. Every gate has one, so
// an interrupt taken in ring 0 never pushes onto whatever small goroutine
// stack was in use, and a fault inside a handler cannot overwrite the frame
// of the trap it interrupted.
func vectorIST(v int) int {
	switch {
	case v == amd64.VecPageFault:
		return stackPageFault
	case v == amd64.VecDoubleFault:
		return stackDouble
	case v == amd64.VecNMI || v == amd64.VecMachineCheck:
		return stackNMI
	case v < amd64.FirstIRQVector:
		return stackException
	}
	return stackIRQ
}

// setupCPU installs the GDT, TSS and IDT and enables SYSCALL.
func setupCPU() {
	for i := 1; i <= stackException; i++ {
		tss.SetIST(i, uint64(trapStackTop(i)))
	}
	tss.SetRSP0(uint64(trapStackTop(stackIRQ)))
	tss.SetIOMapBase()
	gdt.Init(addrOfTSS(&tss))
	gdtr.Set(addrOfGDT(&gdt), uint16(len(gdt)*8-1))
	amd64.Lgdt(gdtr.Addr())
	amd64.ReloadSegments(amd64.KernelCS, amd64.KernelDS)
	amd64.Ltr(amd64.TSSSel)

	base := vectorsAddr()
	if !checkVectorStubs(base) {
		earlyPanic("cpu: interrupt entry stubs are not laid out 16 bytes apart")
	}
	for v := 0; v < amd64.NumVectors; v++ {
		idt.SetGate(v, base+uintptr(v*amd64.VectorStubStride), vectorIST(v), 0)
	}
	idtr.Set(addrOfIDT(&idt), uint16(len(idt)*8-1))
	amd64.Lidt(idtr.Addr())

	// SYSCALL: kernel CS 0x08 (SS 0x10); SYSRET base 0x10 gives user SS
	// 0x18|3 and CS 0x20|3 (SDM vol. 2B, SYSCALL/SYSRET). FMASK clears IF
	// so the entry path runs with interrupts off, plus TF, DF, AC and NT.
	amd64.Wrmsr(amd64.MSREFER, amd64.Rdmsr(amd64.MSREFER)|amd64.EFERSCE)
	amd64.Wrmsr(amd64.MSRSTAR, uint64(amd64.KernelDS)<<48|uint64(amd64.KernelCS)<<32)
	amd64.Wrmsr(amd64.MSRLSTAR, uint64(syscallEntryAddr()))
	amd64.Wrmsr(amd64.MSRSFMASK, amd64.FlagIF|amd64.FlagTF|amd64.FlagDF|amd64.FlagAC|amd64.FlagNT)

	var vendor [12]byte
	_, b, c, d := amd64.Cpuid(0, 0)
	putU32(vendor[0:], b)
	putU32(vendor[4:], d)
	putU32(vendor[8:], c)
	a, _, _, _ := amd64.Cpuid(1, 0)
	var l klog.Line
	l.S("cpu: ").B(vendor[:]).S(" family ").U(uint64(a>>8&0xF + a>>20&0xFF)).S(" model ").
		U(uint64(a>>4&0xF | a>>12&0xF0)).S("; GDT, TSS with 5 interrupt stacks, IDT with 256 gates, SYSCALL at ").
		X(uint64(syscallEntryAddr())).Emit()
}

func putU32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}

// checkVectorStubs verifies the layout IDT gates rely on: the stub for
// vector v starts at base+16v and pushes v, either as "PUSHQ $0; PUSHQ $v"
// (6A 00 68 v32) or, where the CPU pushes an error code, as "PUSHQ $v"
// (68 v32); and an INT3 (0xCC) follows the last stub.
func checkVectorStubs(base uintptr) bool {
	for v := 0; v < amd64.NumVectors; v++ {
		p := base + uintptr(v*amd64.VectorStubStride)
		off := uintptr(1)
		if amd64.HasErrorCode(v) {
			if byteAt(p) != 0x68 {
				return false
			}
		} else {
			if byteAt(p) != 0x6A || byteAt(p+1) != 0 || byteAt(p+2) != 0x68 {
				return false
			}
			off = 3
		}
		got := uint32(byteAt(p+off)) | uint32(byteAt(p+off+1))<<8 | uint32(byteAt(p+off+2))<<16 | uint32(byteAt(p+off+3))<<24
		if got != uint32(v) {
			return false
		}
	}
	return byteAt(base+amd64.NumVectors*amd64.VectorStubStride) == 0xCC
}

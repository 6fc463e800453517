package amd64

// Frame is the register state saved by the trap entry code (trap_amd64.s in
// package rt) on every interrupt, exception and system call. The layout is
// fixed by the order of the pushes there: the general registers, then the
// vector number and error code pushed by the entry stub, then the five words
// the CPU pushes for an interrupt in 64-bit mode (SDM vol. 3A §6.14.2, figure
// 6-8). The SYSCALL path builds the same hardware words by hand so that every
// entry returns with IRETQ.
//
// A Frame is both the saved state of an interrupted thread and the state the
// exit path will load: a trap handler switches threads or delivers a signal by
// rewriting it.
type Frame struct {
	R15, R14, R13, R12, R11, R10, R9, R8 uint64
	RBP, RDI, RSI, RDX, RCX, RBX, RAX    uint64
	Vector, ErrorCode                    uint64
	RIP, CS, RFLAGS, RSP, SS             uint64
}

// FrameSize is the size of Frame in bytes; trap_amd64.s depends on it.
const FrameSize = 22 * 8

// SyscallVector is the pseudo-vector the SYSCALL entry path stores in
// Frame.Vector, outside the range of real vectors.
const SyscallVector = 0x100

// FromUser reports whether the trap interrupted ring 3.
func (f *Frame) FromUser() bool { return f.CS&3 == 3 }

// FXStateSize is the size of the FXSAVE area (SDM vol. 1 §10.5.1): x87, MXCSR
// and the sixteen XMM registers.
const FXStateSize = 512

// FXState holds x87/SSE state as stored by FXSAVE64. The trap path saves it
// on the trap stack (FXSAVE needs 16-byte alignment, which Go cannot promise
// for a variable); threads keep a copy here while they are not running.
type FXState [FXStateSize / 8]uint64

// InitFX sets the state a new thread starts with: x87 control word 0x37F
// (all exceptions masked, 64-bit precision) and MXCSR 0x1F80 (all SIMD
// exceptions masked, round to nearest), as after FNINIT and Linux's execve.
func (s *FXState) InitFX() {
	*s = FXState{}
	s[0] = 0x037F
	s[3] = 0x1F80 | 0xFFFF<<32 // MXCSR and MXCSR_MASK
}

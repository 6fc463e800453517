package rt

import (
	"valence.dev/microkernel/arch/amd64"
)

// UserContext is the state of a thread running in ring 3 while it is not:
// its registers, x87/SSE state and FS base, plus the faulting address of
// its last page fault. The layout is fixed by trap_amd64.s (UC_* offsets).
// FX comes first and must be 16-byte aligned for FXSAVE; NewUserContext
// guarantees that.
type UserContext struct {
	FX     amd64.FXState // offset 0
	Regs   amd64.Frame   // offset 512
	FSBase uint64        // offset 688
	CR2    uint64        // offset 696
}

// Per-CPU state of the ring 3 entry and exit paths (trap_amd64.s).
var (
	userCtx uintptr // the UserContext being run (kept alive by the caller)
	kernRSP uint64  // enterUser's stack pointer on entry
	kernRBP uint64  // and frame pointer
	kernFS  uint64  // the kernel thread's FS base while in ring 3
	inUser  uint8   // a SYSCALL now comes from ring 3
	// defaultMXCSR is loaded when the kernel takes the CPU back from ring 3:
	// all SIMD exceptions masked, round to nearest.
	defaultMXCSR uint32 = 0x1F80
)

// UserTrapFlag is set in Frame.Vector for traps that came from ring 3.
const UserTrapFlag = 0x200

// enterUser loads root into CR3 and runs ctx in ring 3 until it traps
// (trap_amd64.s).
func enterUser(ctx *UserContext, root uint64) uint64

// userReturn is where the trap path resumes enterUser's caller
// (trap_amd64.s); it is never called from Go.
func userReturn(ctx *UserContext, root uint64) uint64

func initUserEntry() {}

// NewUserContext returns a zeroed context for a thread that starts at rip
// with stack pointer rsp, with the FPU state a new Linux process gets.
func NewUserContext(rip, rsp uint64) *UserContext {
	u := new(UserContext)
	if addrOfUserContext(u)&15 != 0 {
		// The allocator's size classes for this size are multiples of 16;
		// if that ever changed, FXSAVE would fault in the trap path.
		panic("rt: UserContext is not 16-byte aligned")
	}
	u.FX.InitFX()
	u.Regs.RIP = rip
	u.Regs.RSP = rsp
	return u
}

// Trap vectors a user thread's EnterUser returns.
const (
	VecSyscall = amd64.SyscallVector
	VecTimer   = timerVector
)

// EnterUser runs the thread described by ctx in ring 3, in the address
// space whose PML4 is at physical address root, until it makes a system
// call, faults, or is interrupted, and returns the vector number. The
// caller must keep that address space alive until EnterUser returns.
// The context's registers are sanitised first so that the return to ring 3
// cannot fault in the kernel: user segments, interrupts enabled, no I/O
// privilege, and a canonical lower-half RIP (otherwise EnterUser returns
// VecGeneralProt without entering ring 3).
func EnterUser(ctx *UserContext, root uint64) uint64 {
	r := &ctx.Regs
	r.CS = amd64.UserCS
	r.SS = amd64.UserDS
	const userFlags = amd64.FlagCF | 0x4 | 0x10 | 0x40 | 0x80 | amd64.FlagDF | 0x800 | amd64.FlagAC | amd64.FlagTF | amd64.FlagID
	r.RFLAGS = r.RFLAGS&userFlags | amd64.FlagIF | 0x2
	if r.RIP >= 0x0000_8000_0000_0000 || ctx.FSBase >= 0x0000_8000_0000_0000 {
		r.Vector = amd64.VecGeneralProt
		r.ErrorCode = 0
		return amd64.VecGeneralProt
	}
	return enterUser(ctx, root)
}

// Trap entry and exit. Every interrupt, exception and SYSCALL enters here,
// builds an amd64.Frame on a kernel stack, saves the x87/SSE state below it,
// and calls trap (trap.go) as ordinary Go code running on that stack. trap may
// rewrite the frame (to switch threads, deliver a signal, or return a system
// call result); the exit path restores whatever the frame then says and
// returns with IRETQ.
//
// Go code finds its goroutine at -8(FS) and checks SP against that g's stack
// bounds in every function prologue. The interrupted thread's g describes a
// different stack, so for the duration of trap the entry code swaps the word
// at -8(FS) (tlsSlot) for a stand-in g describing the trap stack in use, and
// puts the original back on exit. Interrupts stay disabled throughout, so on
// one CPU nothing else can observe the swap.
//
// Stacks (trapStacks in trap.go, each 64 KiB): 0 SYSCALL, 1 external
// interrupts (IST1), 2 page faults (IST2), 3 double faults (IST3), 4 NMI and
// machine checks (IST4), 5 other exceptions (IST5). A page fault taken while
// handling a system call therefore never overwrites the frame it interrupted.

#include "textflag.h"

#define TRAP_STACK_SHIFT 16	// trap stacks are 1<<16 bytes (trapStackSize)
#define NUM_TRAP_STACKS 6
#define TRAP_G_SHIFT 10		// stand-in gs are 1<<10 bytes (trapGSize)

// Offsets in amd64.Frame (see frame.go).
#define FRAME_RBP 64
#define FRAME_RAX 112
#define FRAME_VECTOR 120
#define FRAME_RIP 136
#define FRAME_CS 144
#define FRAME_RFLAGS 152
#define FRAME_RSP 160
#define FRAME_SS 168
#define FRAME_WORDS 22

// Offsets in UserContext (see user.go).
#define UC_FX 0
#define UC_REGS 512
#define UC_FSBASE 688
#define UC_CR2 696

// UserTrapFlag marks Frame.Vector for a trap that came from ring 3.
#define USER_TRAP_FLAG 0x200

// The stubs' pushes are spelled as bytes (6A ib: PUSHQ imm8; 68 id: PUSHQ
// imm32) so that the linker's stack-depth check for NOSPLIT code does not
// add up the pushes of all 256 stubs as if they ran in sequence: each stub
// runs alone, on a fresh interrupt stack.
#define PUSH0 BYTE $0x6A; BYTE $0x00
#define PUSHV(n) BYTE $0x68; LONG $n
#define VEC_NOERR(n) PCALIGN $16; PUSH0; PUSHV(n); JMP trapcommon<>(SB)
#define VEC_ERR(n) PCALIGN $16; PUSHV(n); JMP trapcommon<>(SB)
#define VEC_NOERR8(n) VEC_NOERR(n); VEC_NOERR(n+1); VEC_NOERR(n+2); VEC_NOERR(n+3); VEC_NOERR(n+4); VEC_NOERR(n+5); VEC_NOERR(n+6); VEC_NOERR(n+7)
#define VEC_NOERR32(n) VEC_NOERR8(n); VEC_NOERR8(n+8); VEC_NOERR8(n+16); VEC_NOERR8(n+24)

// vectors holds 256 entry stubs, each VectorStubStride (16) bytes apart: the
// IDT gate for vector n points at vectors+16n. Stubs for exceptions without
// an error code push a zero so every frame has the same shape.
TEXT ·vectors(SB),NOSPLIT|NOFRAME,$0
	VEC_NOERR(0); VEC_NOERR(1); VEC_NOERR(2); VEC_NOERR(3)
	VEC_NOERR(4); VEC_NOERR(5); VEC_NOERR(6); VEC_NOERR(7)
	VEC_ERR(8); VEC_NOERR(9); VEC_ERR(10); VEC_ERR(11)
	VEC_ERR(12); VEC_ERR(13); VEC_ERR(14); VEC_NOERR(15)
	VEC_NOERR(16); VEC_ERR(17); VEC_NOERR(18); VEC_NOERR(19)
	VEC_NOERR(20); VEC_ERR(21); VEC_NOERR(22); VEC_NOERR(23)
	VEC_NOERR(24); VEC_NOERR(25); VEC_NOERR(26); VEC_NOERR(27)
	VEC_NOERR(28); VEC_ERR(29); VEC_ERR(30); VEC_NOERR(31)
	VEC_NOERR32(32)
	VEC_NOERR32(64)
	VEC_NOERR32(96)
	VEC_NOERR32(128)
	VEC_NOERR32(160)
	VEC_NOERR32(192)
	VEC_NOERR32(224)
	PCALIGN $16
	// One more aligned slot marks the end, for the layout check in trap.go.
	BYTE	$0xCC	// INT3

// syscallEntry is the SYSCALL target (IA32_LSTAR). SYSCALL leaves the return
// address in RCX and RFLAGS in R11, masks IF through IA32_FMASK, and does not
// switch stacks, so the first instructions move to the SYSCALL trap stack and
// build the same frame an interrupt would.
TEXT ·syscallEntry(SB),NOSPLIT|NOFRAME,$0
	MOVQ	SP, ·syscallSavedSP(SB)
	MOVQ	·syscallStackTop(SB), SP
	CMPB	·inUser(SB), $0
	JNE	fromuser
	PUSHQ	$0x10			// SS
	PUSHQ	·syscallSavedSP(SB)	// RSP
	PUSHQ	R11			// RFLAGS
	PUSHQ	$0x08			// CS
	PUSHQ	CX			// RIP
	PUSHQ	$0			// error code
	PUSHQ	$0x100			// vector: amd64.SyscallVector
	JMP	trapcommon<>(SB)
fromuser:
	// The same frame, with the user segments, so trapcommon sees ring 3.
	PUSHQ	$0x1B			// SS: amd64.UserDS
	PUSHQ	·syscallSavedSP(SB)
	PUSHQ	R11
	PUSHQ	$0x23			// CS: amd64.UserCS
	PUSHQ	CX
	PUSHQ	$0
	PUSHQ	$0x100
	JMP	trapcommon<>(SB)

TEXT trapcommon<>(SB),NOSPLIT|NOFRAME,$0
	PUSHQ	AX
	PUSHQ	BX
	PUSHQ	CX
	PUSHQ	DX
	PUSHQ	SI
	PUSHQ	DI
	PUSHQ	BP
	PUSHQ	R8
	PUSHQ	R9
	PUSHQ	R10
	PUSHQ	R11
	PUSHQ	R12
	PUSHQ	R13
	PUSHQ	R14
	PUSHQ	R15
	MOVQ	SP, BX			// BX = *amd64.Frame
	CLD
	TESTQ	$3, FRAME_CS(BX)
	JZ	kernel
	CALL	fromUser<>(SB)
	// A system call from ring 3 needs nothing from trap: the goroutine
	// that ran the thread handles it. Return to it at once.
	CMPQ	FRAME_RAX(BX), $0x100
	JEQ	restore
kernel:
	SUBQ	$512, SP
	ANDQ	$~15, SP
	FXSAVE64	(SP)
	MOVQ	SP, R12			// R12 = *amd64.FXState
	PUSHQ	BX

	// Stand-in g for this trap stack: trapGs[(SP - trapStacks) >> 16].
	MOVQ	SP, AX
	LEAQ	·trapStacks(SB), CX
	SUBQ	CX, AX
	SHRQ	$TRAP_STACK_SHIFT, AX
	CMPQ	AX, $NUM_TRAP_STACKS
	JAE	badstack
	SHLQ	$TRAP_G_SHIFT, AX
	LEAQ	·trapGs(SB), R13
	ADDQ	AX, R13
	MOVQ	·tlsSlot(SB), R14
	MOVQ	(R14), R15
	MOVQ	R13, (R14)
	PUSHQ	R14
	PUSHQ	R15

	XORL	BP, BP			// end of the frame-pointer chain for tracebacks
	SUBQ	$16, SP
	MOVQ	BX, 0(SP)
	MOVQ	R12, 8(SP)
	CALL	·trap(SB)
	ADDQ	$16, SP

	POPQ	R15
	POPQ	R14
	MOVQ	R15, (R14)		// give the interrupted thread its g back

	// A thread switch changes FS only now, after the last Go code of this
	// trap has run: Go reloads g from -8(FS) after calling assembly.
	CMPB	·fsChanged(SB), $0
	JEQ	nofs
	MOVB	$0, ·fsChanged(SB)
	MOVQ	·currentFS(SB), AX
	MOVQ	AX, DX
	SHRQ	$32, DX
	MOVL	$0xC0000100, CX
	WRMSR
nofs:
	POPQ	BX
	FXRSTOR64	(SP)
	MOVQ	BX, SP
restore:
	POPQ	R15
	POPQ	R14
	POPQ	R13
	POPQ	R12
	POPQ	R11
	POPQ	R10
	POPQ	R9
	POPQ	R8
	POPQ	BP
	POPQ	DI
	POPQ	SI
	POPQ	DX
	POPQ	CX
	POPQ	BX
	POPQ	AX
	ADDQ	$16, SP			// vector and error code
	IRETQ

badstack:
	// Not on a trap stack: nothing sane can run. Report on COM1 and stop.
	MOVW	$0x3F8, DX
	MOVB	$0x23, AX		// '#'
	OUTB
	MOVB	$0x21, AX		// '!'
	OUTB
	MOVW	$0xF4, DX		// isa-debug-exit
	MOVL	$1, AX
	OUTL
	CLI
hang:
	HLT
	JMP	hang

// idleLoop is the body of the idle thread, which runs when no other thread
// can: it halts until an interrupt, which enters trapcommon and may switch to
// a thread the interrupt woke.
TEXT ·idleLoop(SB),NOSPLIT|NOFRAME,$0
idle:
	STI
	HLT
	JMP	idle

// vectorsAddr, syscallEntryAddr and idleLoopAddr are declared in trap.go.
TEXT ·vectorsAddr(SB),NOSPLIT,$0-8
	LEAQ	·vectors(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

TEXT ·syscallEntryAddr(SB),NOSPLIT,$0-8
	LEAQ	·syscallEntry(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

TEXT ·idleLoopAddr(SB),NOSPLIT,$0-8
	LEAQ	·idleLoop(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

// kernelEnd is declared in trap.go.
TEXT ·kernelEnd(SB),NOSPLIT,$0-8
	LEAQ	runtime·end(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

// rdrand64 is declared in random.go. RDRAND sets CF when it delivered a
// number (SDM vol. 2B, RDRAND).
TEXT ·rdrand64(SB),NOSPLIT,$0-9
	MOVL	$10, CX
retry:
	BYTE $0x48; BYTE $0x0F; BYTE $0xC7; BYTE $0xF0 // RDRAND AX
	JCS	ok
	DECL	CX
	JNE	retry
	MOVQ	$0, ret+0(FP)
	MOVB	$0, ret1+8(FP)
	RET
ok:
	MOVQ	AX, ret+0(FP)
	MOVB	$1, ret1+8(FP)
	RET

// fromUser runs when a trap arrived from ring 3 (BX = the frame on the
// trap stack). It stores the user's registers and FPU state in the
// UserContext that enterUser was given, puts back the kernel's FS base and
// FPU state, and rewrites the frame so that the trap returns into the
// kernel at userReturn, as if enterUser had returned the vector number.
// From there on the trap is handled like one taken in the kernel at that
// point: the thread that called enterUser may even be switched out.
TEXT fromUser<>(SB),NOSPLIT|NOFRAME,$0
	MOVB	$0, ·inUser(SB)
	MOVQ	·userCtx(SB), DI
	FXSAVE64	UC_FX(DI)
	CMPQ	FRAME_VECTOR(BX), $14
	JNE	nocr2
	MOVQ	CR2, AX
	MOVQ	AX, UC_CR2(DI)
nocr2:
	LEAQ	UC_REGS(DI), DI
	MOVQ	BX, SI
	MOVQ	$FRAME_WORDS, CX
	REP;	MOVSQ
	MOVQ	·kernFS(SB), AX
	MOVQ	AX, DX
	SHRQ	$32, DX
	MOVL	$0xC0000100, CX
	WRMSR
	// The kernel keeps no x87/SSE state across enterUser (Go treats the
	// vector registers as clobbered by a call, and re-zeroes X15), but Go
	// code expects the default control settings back.
	BYTE	$0xDB; BYTE $0xE3	// FNINIT
	LDMXCSR	·defaultMXCSR(SB)
	MOVQ	FRAME_VECTOR(BX), AX
	MOVQ	AX, FRAME_RAX(BX)
	ORQ	$USER_TRAP_FLAG, FRAME_VECTOR(BX)
	LEAQ	·userReturn(SB), AX
	MOVQ	AX, FRAME_RIP(BX)
	MOVQ	$0x08, FRAME_CS(BX)
	MOVQ	$0x202, FRAME_RFLAGS(BX)
	MOVQ	·kernRSP(SB), AX
	MOVQ	AX, FRAME_RSP(BX)
	MOVQ	$0x10, FRAME_SS(BX)
	MOVQ	·kernRBP(SB), AX
	MOVQ	AX, FRAME_RBP(BX)
	RET

// enterUser is declared in user.go. It runs the user context in ring 3
// until that context traps, and returns the trap's vector number with the
// user's state saved back in the context. The address space is loaded
// here, with interrupts off, and not by the caller: a goroutine can be
// preempted anywhere in Go code, and one preempted between loading CR3 and
// entering ring 3 would resume under whatever page tables another thread
// loaded meanwhile (Intel SDM vol. 3A §4.10.4.1: the CR3 write also
// flushes the old address space's TLB entries, which is why it is skipped
// when CR3 already holds root).
TEXT ·enterUser(SB),NOSPLIT|NOFRAME,$0-24
	CLI
	MOVQ	$0, ret+16(FP)		// userReturn stores the real result
	MOVQ	root+8(FP), AX
	MOVQ	CR3, BX
	CMPQ	AX, BX
	JEQ	samecr3
	MOVQ	AX, CR3
samecr3:
	MOVQ	ctx+0(FP), DI
	MOVQ	DI, ·userCtx(SB)
	MOVQ	SP, ·kernRSP(SB)
	MOVQ	BP, ·kernRBP(SB)
	FXRSTOR64	UC_FX(DI)
	MOVQ	·tlsSlot(SB), AX
	ADDQ	$8, AX
	MOVQ	AX, ·kernFS(SB)
	MOVQ	UC_FSBASE(DI), AX
	MOVQ	AX, DX
	SHRQ	$32, DX
	MOVL	$0xC0000100, CX
	WRMSR
	MOVB	$1, ·inUser(SB)
	// The IRETQ frame, built with moves: SS, RSP, RFLAGS, CS, RIP.
	SUBQ	$40, SP
	MOVQ	(UC_REGS+FRAME_RIP)(DI), AX
	MOVQ	AX, 0(SP)
	MOVQ	(UC_REGS+FRAME_CS)(DI), AX
	MOVQ	AX, 8(SP)
	MOVQ	(UC_REGS+FRAME_RFLAGS)(DI), AX
	MOVQ	AX, 16(SP)
	MOVQ	(UC_REGS+FRAME_RSP)(DI), AX
	MOVQ	AX, 24(SP)
	MOVQ	(UC_REGS+FRAME_SS)(DI), AX
	MOVQ	AX, 32(SP)
	MOVQ	(UC_REGS+0)(DI), R15
	MOVQ	(UC_REGS+8)(DI), R14
	MOVQ	(UC_REGS+16)(DI), R13
	MOVQ	(UC_REGS+24)(DI), R12
	MOVQ	(UC_REGS+32)(DI), R11
	MOVQ	(UC_REGS+40)(DI), R10
	MOVQ	(UC_REGS+48)(DI), R9
	MOVQ	(UC_REGS+56)(DI), R8
	MOVQ	(UC_REGS+64)(DI), BP
	MOVQ	(UC_REGS+80)(DI), SI
	MOVQ	(UC_REGS+88)(DI), DX
	MOVQ	(UC_REGS+96)(DI), CX
	MOVQ	(UC_REGS+104)(DI), BX
	MOVQ	(UC_REGS+112)(DI), AX
	MOVQ	(UC_REGS+72)(DI), DI
	IRETQ

// userReturn is where a trap from ring 3 resumes the kernel (see
// fromUser): the stack is as enterUser found it and AX holds the vector.
TEXT ·userReturn(SB),NOSPLIT|NOFRAME,$0-24
	MOVQ	AX, ret+16(FP)
	RET

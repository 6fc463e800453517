#include "textflag.h"

// vforkSpin is declared in signals.go. It calls clone(CLONE_VM |
// CLONE_VFORK | SIGCHLD) with no new stack, as vfork(2) does. The child
// runs on the caller's stack, so it touches no memory: it calls
// sched_yield until getppid no longer names the process that made it
// (the parent died), then exit_group(0). The parent returns the child's
// PID or -errno. Linux amd64 numbers: getpid 39, clone 56, getppid 110,
// sched_yield 24, exit_group 231.
TEXT ·vforkSpin(SB),NOSPLIT,$0-8
	MOVQ	$39, AX
	SYSCALL
	MOVQ	AX, R12
	MOVQ	$56, AX
	MOVQ	$0x4111, DI
	XORQ	SI, SI
	XORQ	DX, DX
	XORQ	R10, R10
	XORQ	R8, R8
	SYSCALL
	CMPQ	AX, $0
	JEQ	child
	MOVQ	AX, ret+0(FP)
	RET
child:
	MOVQ	$110, AX
	SYSCALL
	CMPQ	AX, R12
	JNE	out
	MOVQ	$24, AX
	SYSCALL
	JMP	child
out:
	MOVQ	$231, AX
	XORQ	DI, DI
	SYSCALL
	JMP	out

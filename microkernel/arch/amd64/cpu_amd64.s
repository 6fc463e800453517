// CPU primitives that Go cannot express: port I/O, MSRs, control registers,
// descriptor-table loads and interrupt-flag control. Each routine is declared
// and documented in cpu.go. All are NOSPLIT and frameless-safe so the boot path
// and trap handlers can call them before the Go runtime exists.

#include "textflag.h"

TEXT ·Outb(SB),NOSPLIT,$0-3
	MOVW	port+0(FP), DX
	MOVB	val+2(FP), AX
	OUTB
	RET

TEXT ·Inb(SB),NOSPLIT,$0-9
	MOVW	port+0(FP), DX
	INB
	MOVB	AX, ret+8(FP)
	RET

TEXT ·Outw(SB),NOSPLIT,$0-4
	MOVW	port+0(FP), DX
	MOVW	val+2(FP), AX
	OUTW
	RET

TEXT ·Inw(SB),NOSPLIT,$0-10
	MOVW	port+0(FP), DX
	INW
	MOVW	AX, ret+8(FP)
	RET

TEXT ·Outl(SB),NOSPLIT,$0-8
	MOVW	port+0(FP), DX
	MOVL	val+4(FP), AX
	OUTL
	RET

TEXT ·Inl(SB),NOSPLIT,$0-12
	MOVW	port+0(FP), DX
	INL
	MOVL	AX, ret+8(FP)
	RET

TEXT ·Rdmsr(SB),NOSPLIT,$0-16
	MOVL	msr+0(FP), CX
	RDMSR
	SHLQ	$32, DX
	ORQ	DX, AX
	MOVQ	AX, ret+8(FP)
	RET

TEXT ·Wrmsr(SB),NOSPLIT,$0-16
	MOVL	msr+0(FP), CX
	MOVQ	val+8(FP), AX
	MOVQ	AX, DX
	SHRQ	$32, DX
	WRMSR
	RET

TEXT ·Rdtsc(SB),NOSPLIT,$0-8
	RDTSC
	SHLQ	$32, DX
	ORQ	DX, AX
	MOVQ	AX, ret+0(FP)
	RET

TEXT ·Cpuid(SB),NOSPLIT,$0-24
	MOVL	leaf+0(FP), AX
	MOVL	sub+4(FP), CX
	CPUID
	MOVL	AX, a+8(FP)
	MOVL	BX, b+12(FP)
	MOVL	CX, c+16(FP)
	MOVL	DX, d+20(FP)
	RET

TEXT ·DisableInterrupts(SB),NOSPLIT,$0-0
	CLI
	RET

TEXT ·EnableInterrupts(SB),NOSPLIT,$0-0
	STI
	RET

TEXT ·SaveFlagsAndDisable(SB),NOSPLIT,$0-8
	PUSHFQ
	POPQ	AX
	CLI
	MOVQ	AX, ret+0(FP)
	RET

TEXT ·RestoreFlags(SB),NOSPLIT,$0-8
	MOVQ	flags+0(FP), AX
	PUSHQ	AX
	POPFQ
	RET

TEXT ·Flags(SB),NOSPLIT,$0-8
	PUSHFQ
	POPQ	AX
	MOVQ	AX, ret+0(FP)
	RET

TEXT ·Halt(SB),NOSPLIT,$0-0
	HLT
	RET

TEXT ·WaitForInterrupt(SB),NOSPLIT,$0-0
	STI
	HLT
	CLI
	RET

TEXT ·Pause(SB),NOSPLIT,$0-0
	PAUSE
	RET

TEXT ·ReadCR0(SB),NOSPLIT,$0-8
	MOVQ	CR0, AX
	MOVQ	AX, ret+0(FP)
	RET

TEXT ·WriteCR0(SB),NOSPLIT,$0-8
	MOVQ	val+0(FP), AX
	MOVQ	AX, CR0
	RET

TEXT ·ReadCR2(SB),NOSPLIT,$0-8
	MOVQ	CR2, AX
	MOVQ	AX, ret+0(FP)
	RET

TEXT ·ReadCR3(SB),NOSPLIT,$0-8
	MOVQ	CR3, AX
	MOVQ	AX, ret+0(FP)
	RET

TEXT ·WriteCR3(SB),NOSPLIT,$0-8
	MOVQ	val+0(FP), AX
	MOVQ	AX, CR3
	RET

TEXT ·ReadCR4(SB),NOSPLIT,$0-8
	MOVQ	CR4, AX
	MOVQ	AX, ret+0(FP)
	RET

TEXT ·WriteCR4(SB),NOSPLIT,$0-8
	MOVQ	val+0(FP), AX
	MOVQ	AX, CR4
	RET

TEXT ·Invlpg(SB),NOSPLIT,$0-8
	MOVQ	va+0(FP), AX
	INVLPG	(AX)
	RET

TEXT ·Lgdt(SB),NOSPLIT,$0-8
	MOVQ	ptr+0(FP), AX
	LGDT	(AX)
	RET

TEXT ·Lidt(SB),NOSPLIT,$0-8
	MOVQ	ptr+0(FP), AX
	LIDT	(AX)
	RET

TEXT ·Ltr(SB),NOSPLIT,$0-2
	MOVW	sel+0(FP), AX
	LTR	AX
	RET

// ReloadSegments loads the data segment registers and reloads CS with a far
// return, because CS cannot be the target of a MOV.
TEXT ·ReloadSegments(SB),NOSPLIT,$0-4
	MOVW	data+2(FP), AX
	MOVW	AX, DS
	MOVW	AX, ES
	MOVW	AX, SS
	MOVW	code+0(FP), AX
	MOVQ	$0, DX
	MOVW	AX, DX
	LEAQ	reloaded<>(SB), AX
	// PUSHQ DX; PUSHQ AX; LRETQ (pops RIP then CS). Encoded as bytes because
	// the assembler's PUSH/POP balance check cannot see the far return pop.
	BYTE	$0x52
	BYTE	$0x50
	BYTE	$0x48; BYTE $0xCB
	RET

TEXT reloaded<>(SB),NOSPLIT|NOFRAME,$0
	RET

// FillZero clears n 8-byte words at p with REP STOSQ, which QEMU's TCG
// executes far faster than a byte loop.
TEXT ·FillZero(SB),NOSPLIT,$0-16
	MOVQ	p+0(FP), DI
	MOVQ	n+8(FP), CX
	XORQ	AX, AX
	CLD
	REP; STOSQ
	RET

// CopyWords copies n 8-byte words from src to dst with REP MOVSQ.
TEXT ·CopyWords(SB),NOSPLIT,$0-24
	MOVQ	dst+0(FP), DI
	MOVQ	src+8(FP), SI
	MOVQ	n+16(FP), CX
	CLD
	REP; MOVSQ
	RET

TEXT ·Clflush(SB),NOSPLIT,$0-8
	MOVQ	va+0(FP), AX
	CLFLUSH	(AX)
	RET

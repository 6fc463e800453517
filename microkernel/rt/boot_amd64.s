// The kernel's first instructions. QEMU's Multiboot loader jumps to entry32
// in 32-bit protected mode with paging off (Multiboot Specification 0.6.96
// §3.2): EAX holds the magic 0x2BADB002 and EBX the physical address of the
// boot information. entry32 builds page tables, enters long mode and jumps to
// entry64, which moves to the kernel's higher-half link address, sets up the
// boot stack and a stand-in goroutine for Go code that runs before the Go
// runtime, calls earlyMain (boot.go), and finally jumps to the Go runtime's
// own entry point, _rt0_amd64_linux, as Linux would start a process.
//
// The Go assembler only emits 64-bit code, so entry32 uses only instructions
// whose encoding means the same in 32-bit mode (no REX prefixes: registers
// AX..DI, 32-bit operands), and spells out the rest with BYTE. The kernel is
// linked at KERNBASE+physical address (KERNBASE = 0xffffffff80000000), so a
// symbol's physical address is its link address minus KERNBASE.

#include "textflag.h"

#define BOOT_PAGES 9		// page tables: PML4, PDPT low, 4 PDs, PDPT high, PD kernel (+1 for alignment)
#define BOOT_STACK 262144	// must match bootStackSize in boot.go
#define TEMP_STACK 0x7ff0	// a few bytes of conventional memory, used for CALL before anything is set up

// PHYS(sym, reg) leaves the physical address of sym in reg (not AX; AX is
// clobbered). Go encodes `LEAL sym(SB), reg` as RIP-relative: 8D /r disp32,
// six bytes. In 32-bit mode those bytes mean reg = disp32, the distance from
// the end of the LEAL to sym. ip32 returns the address of the LEAL itself, so
// adding it and the LEAL's length gives sym's address wherever we were loaded.
#define PHYS(sym, reg) \
	CALL	ip32<>(SB); \
	LEAL	sym(SB), reg; \
	ADDL	AX, reg; \
	ADDL	$6, reg

// ip32 returns its own return address in AX (32-bit mode).
TEXT ip32<>(SB),NOSPLIT|NOFRAME,$0
	MOVL	(SP), AX
	RET

// entry32 is declared in boot.go.
TEXT ·entry32(SB),NOSPLIT|NOFRAME,$0
	MOVL	AX, SI		// Multiboot magic
	RDTSC			// EDX:EAX = the time-stamp counter at our first instructions
	MOVL	$TEMP_STACK, SP
	BYTE	$0x50		// PUSHL AX: TSC low
	BYTE	$0x52		// PUSHL DX: TSC high
	PHYS(·bootData, DI)
	BYTE	$0x5A		// POPL DX
	BYTE	$0x59		// POPL CX
	MOVL	SI, 0(DI)	// bootData.Magic
	MOVL	BX, 4(DI)	// bootData.Info
	MOVL	CX, 8(DI)	// bootData.TSC (low)
	MOVL	DX, 12(DI)	// bootData.TSC (high)

	// Long mode is CPUID.80000001H:EDX[29]; NX is bit 20 (SDM vol. 2A, CPUID).
	MOVL	$0x80000000, AX
	CPUID
	CMPL	AX, $0x80000001
	JB	nolongmode
	MOVL	$0x80000001, AX
	CPUID
	BTL	$29, DX
	JCC	nolongmode
	SHRL	$20, DX
	ANDL	$1, DX
	MOVL	DX, 16(DI)	// bootData.NX
	MOVL	DI, SI		// SI = &bootData from here on

	// Page tables, 4 KiB aligned inside bootPageTables.
	PHYS(·bootPageTables, BX)
	ADDL	$4095, BX
	ANDL	$0xFFFFF000, BX
	MOVL	BX, 20(SI)	// bootData.PageTables
	MOVL	BX, DI
	MOVL	$(8*1024), CX
	XORL	AX, AX
	CLD
	REP;	STOSL
	MOVL	16(SI), DX	// NX, for EFER below

	// PML4[0] and PML4[256] share one PDPT: the identity map this code runs
	// on, and the direct map of physical memory at 0xffff800000000000.
	// PML4[511] maps the kernel's link addresses. Entries: present|writable.
	LEAL	0x1003(BX), AX
	MOVL	AX, 0x000(BX)
	MOVL	AX, 0x800(BX)
	LEAL	0x6003(BX), AX
	MOVL	AX, 0xFF8(BX)
	// PDPT low: four page directories cover 4 GiB.
	LEAL	0x2003(BX), AX
	MOVL	AX, 0x1000(BX)
	LEAL	0x3003(BX), AX
	MOVL	AX, 0x1008(BX)
	LEAL	0x4003(BX), AX
	MOVL	AX, 0x1010(BX)
	LEAL	0x5003(BX), AX
	MOVL	AX, 0x1018(BX)
	// PDPT high: entry 510 (0xffffffff80000000) -> the kernel's page directory.
	LEAL	0x7003(BX), AX
	MOVL	AX, 0x6FF0(BX)
	// 2 MiB pages (present|writable|PS): 2048 for 0-4 GiB, then 512 for the kernel's first GiB.
	LEAL	0x2000(BX), DI
	MOVL	$0x83, AX
	MOVL	$2048, CX
fill4g:
	MOVL	AX, (DI)
	ADDL	$0x200000, AX
	ADDL	$8, DI
	DECL	CX
	JNE	fill4g
	LEAL	0x7000(BX), DI
	MOVL	$0x83, AX
	MOVL	$512, CX
fillkern:
	MOVL	AX, (DI)
	ADDL	$0x200000, AX
	ADDL	$8, DI
	DECL	CX
	JNE	fillkern

	MOVL	DX, SI		// SI = bootData.NX (RDMSR below clobbers DX)
	MOVL	BX, AX
	MOVL	AX, CR3
	// CR4: PAE, PGE, OSFXSR, OSXMMEXCPT (SSE must work before any Go code runs).
	MOVL	CR4, AX
	ORL	$0x6A0, AX
	MOVL	AX, CR4
	// EFER: LME, and NXE when the CPU has NX.
	MOVL	$0xC0000080, CX
	RDMSR
	ORL	$0x100, AX
	SHLL	$11, SI		// SI = NXE if the CPU has NX (SI was bootData.NX)
	ORL	SI, AX
	WRMSR
	// CR0: paging, write protection in ring 0, FPU monitoring; no x87 emulation.
	MOVL	CR0, AX
	ANDL	$0xFFFFFFFB, AX
	ORL	$0x80010002, AX
	MOVL	AX, CR0

	// Now in compatibility mode. Load a GDT with a 64-bit code segment and
	// far-return into it.
	PHYS(·bootGDT, DI)
	MOVL	$0x00209A00, 12(DI)	// entry 1 (0x08): 64-bit ring-0 code
	MOVL	$0x00009200, 20(DI)	// entry 2 (0x10): ring-0 data
	PHYS(·bootGDTR, SI)
	MOVW	$23, 0(SI)
	MOVL	DI, 2(SI)
	LGDT	(SI)
	PHYS(·entry64, DI)
	BYTE	$0x6A; BYTE $0x08	// PUSHL $0x08
	BYTE	$0x57			// PUSHL DI
	BYTE	$0xCB			// LRETL

nolongmode:
	// No 64-bit mode: say so on COM1 and halt.
	MOVL	$0x3F8, DX
	MOVL	$0x21, AX		// '!'
	OUTB
hang32:
	HLT
	JMP	hang32

// entry64 runs in 64-bit mode at its physical (identity-mapped) address.
TEXT ·entry64(SB),NOSPLIT|NOFRAME,$0
	// RIP-relative loads read the same bytes through the identity map; the
	// word holds the absolute link address of entry64high.
	MOVQ	entry64highAddr<>(SB), AX
	JMP	AX

DATA entry64highAddr<>+0(SB)/8, $·entry64high(SB)
GLOBL entry64highAddr<>(SB), RODATA, $8

TEXT ·entry64high(SB),NOSPLIT|NOFRAME,$0
	MOVL	$0x10, AX
	MOVW	AX, DS
	MOVW	AX, ES
	MOVW	AX, SS
	XORL	AX, AX
	MOVW	AX, FS
	MOVW	AX, GS
	LEAQ	·bootStack+BOOT_STACK(SB), SP
	PUSHQ	$0
	POPQ	BP		// BP = 0 marks the deepest frame for frame-pointer walks

	// A stand-in g for Go code before the runtime starts: Go functions find
	// g at -8(FS) and compare SP against g.stackguard0 in their prologue.
	LEAQ	·bootG(SB), AX
	LEAQ	·bootStack(SB), BX
	MOVQ	BX, 0(AX)		// g.stack.lo
	LEAQ	·bootStack+BOOT_STACK(SB), CX
	MOVQ	CX, 8(AX)		// g.stack.hi
	ADDQ	$16384, BX
	MOVQ	BX, 16(AX)		// g.stackguard0
	MOVQ	BX, 24(AX)		// g.stackguard1
	LEAQ	·bootTLS(SB), BX
	MOVQ	AX, 0(BX)
	ADDQ	$8, BX
	MOVQ	BX, ·tlsSlot(SB)
	SUBQ	$8, ·tlsSlot(SB)
	MOVQ	BX, AX
	MOVQ	BX, DX
	SHRQ	$32, DX
	MOVL	$0xC0000100, CX		// IA32_FS_BASE
	WRMSR

	CALL	·earlyMain(SB)

	// earlyMain left argc, argv, envp and auxv for the runtime at runtimeSP.
	MOVQ	·runtimeSP(SB), SP
	PUSHQ	$0
	POPQ	BP
	STI
	JMP	_rt0_amd64_linux(SB)

// entry32Addr is declared in boot.go.
TEXT ·entry32Addr(SB),NOSPLIT,$0-8
	LEAQ	·entry32(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

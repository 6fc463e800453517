#include "textflag.h"

// Single loads and stores of exactly the width asked for, which Go code
// through a pointer does not promise (the compiler may merge, split or
// drop them). Each is declared and documented in mmio.go.

TEXT ·mmioRead8(SB),NOSPLIT,$0-9
	MOVQ	addr+0(FP), AX
	MOVB	(AX), BX
	MOVB	BX, ret+8(FP)
	RET

TEXT ·mmioRead16(SB),NOSPLIT,$0-10
	MOVQ	addr+0(FP), AX
	MOVW	(AX), BX
	MOVW	BX, ret+8(FP)
	RET

TEXT ·mmioRead32(SB),NOSPLIT,$0-12
	MOVQ	addr+0(FP), AX
	MOVL	(AX), BX
	MOVL	BX, ret+8(FP)
	RET

TEXT ·mmioRead64(SB),NOSPLIT,$0-16
	MOVQ	addr+0(FP), AX
	MOVQ	(AX), BX
	MOVQ	BX, ret+8(FP)
	RET

TEXT ·mmioWrite8(SB),NOSPLIT,$0-9
	MOVQ	addr+0(FP), AX
	MOVB	v+8(FP), BX
	MOVB	BX, (AX)
	RET

TEXT ·mmioWrite16(SB),NOSPLIT,$0-10
	MOVQ	addr+0(FP), AX
	MOVW	v+8(FP), BX
	MOVW	BX, (AX)
	RET

TEXT ·mmioWrite32(SB),NOSPLIT,$0-12
	MOVQ	addr+0(FP), AX
	MOVL	v+8(FP), BX
	MOVL	BX, (AX)
	RET

TEXT ·mmioWrite64(SB),NOSPLIT,$0-16
	MOVQ	addr+0(FP), AX
	MOVQ	v+8(FP), BX
	MOVQ	BX, (AX)
	RET

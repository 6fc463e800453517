#include "textflag.h"

// inb is declared in faulty.go: an IN instruction, which ring 3 may not
// execute (IOPL 0, no I/O permission bitmap): the CPU raises #GP.
TEXT ·inb(SB),NOSPLIT,$0-9
	MOVW	port+0(FP), DX
	INB
	MOVB	AX, ret+8(FP)
	RET

//go:build amd64 && !purego

#include "textflag.h"

// func maskBlocks(b []byte, k64 uint64)
TEXT ·maskBlocks(SB), NOSPLIT, $0-32
	MOVQ b_base+0(FP), DI
	MOVQ b_len+8(FP), CX
	MOVQ k64+24(FP), AX
	MOVQ AX, X0
	PUNPCKLQDQ X0, X0 // the key word in both halves
	SHRQ $6, CX       // 64-byte blocks
	JZ   done

loop:
	MOVOU 0(DI), X1
	MOVOU 16(DI), X2
	MOVOU 32(DI), X3
	MOVOU 48(DI), X4
	PXOR  X0, X1
	PXOR  X0, X2
	PXOR  X0, X3
	PXOR  X0, X4
	MOVOU X1, 0(DI)
	MOVOU X2, 16(DI)
	MOVOU X3, 32(DI)
	MOVOU X4, 48(DI)
	ADDQ  $64, DI
	DECQ  CX
	JNZ   loop

done:
	RET

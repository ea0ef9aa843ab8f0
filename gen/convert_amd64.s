#include "textflag.h"

// PACK8_SETUP loads the constants PACK8 uses: Y2 0, Y3 255.0, Y4 the
// exponent's bits, Y5 alpha 255, and clears Y6.
#define PACK8_SETUP \
	VXORPS Y2, Y2, Y2 \
	MOVL $0x437f0000, R9 \
	VMOVD R9, X3 \
	VPBROADCASTD X3, Y3 \
	MOVL $0x7f800000, R9 \
	VMOVD R9, X4 \
	VPBROADCASTD X4, Y4 \
	MOVL $0xff000000, R9 \
	VMOVD R9, X5 \
	VPBROADCASTD X5, Y5 \
	VPXOR Y6, Y6, Y6

// PACK8 turns eight pixels' red, green and blue (Y7, Y8, Y9) into RGBA
// words at (DI)(AX*4): each value scaled by Y0 and biased by Y1 (a
// multiply, then an add, rounded as Go rounds them), clamped to [0, 255]
// and truncated; lanes whose scaled value is NaN or Inf (exponent all
// ones) are marked in Y6.
#define PACK8 \
	VMULPS Y0, Y7, Y7 \
	VADDPS Y1, Y7, Y7 \
	VMULPS Y0, Y8, Y8 \
	VADDPS Y1, Y8, Y8 \
	VMULPS Y0, Y9, Y9 \
	VADDPS Y1, Y9, Y9 \
	VPAND Y4, Y7, Y10 \
	VPCMPEQD Y4, Y10, Y10 \
	VPOR Y10, Y6, Y6 \
	VPAND Y4, Y8, Y10 \
	VPCMPEQD Y4, Y10, Y10 \
	VPOR Y10, Y6, Y6 \
	VPAND Y4, Y9, Y10 \
	VPCMPEQD Y4, Y10, Y10 \
	VPOR Y10, Y6, Y6 \
	VMAXPS Y2, Y7, Y7 \
	VMINPS Y3, Y7, Y7 \
	VCVTTPS2DQ Y7, Y7 \
	VMAXPS Y2, Y8, Y8 \
	VMINPS Y3, Y8, Y8 \
	VCVTTPS2DQ Y8, Y8 \
	VMAXPS Y2, Y9, Y9 \
	VMINPS Y3, Y9, Y9 \
	VCVTTPS2DQ Y9, Y9 \
	VPSLLD $8, Y8, Y8 \
	VPSLLD $16, Y9, Y9 \
	VPOR Y8, Y7, Y7 \
	VPOR Y9, Y7, Y7 \
	VPOR Y5, Y7, Y7 \
	VMOVDQU Y7, (DI)(AX*4)

// func rgbaNCHWAVX2(dst *uint32, red, green, blue *float32, n int, scale, bias float32) uint32
//
// Eight pixels a step: each channel's values are scaled and biased (a
// multiply, then an add, rounded as Go rounds them), clamped to [0, 255],
// truncated and packed with alpha 255 into one word per pixel. n is a
// multiple of 8. The result has a bit set for each lane that held a NaN or
// an Inf (exponent all ones after scaling), 0 when none did.
TEXT ·rgbaNCHWAVX2(SB), NOSPLIT, $0-52
	MOVQ dst+0(FP), DI
	MOVQ red+8(FP), SI
	MOVQ green+16(FP), DX
	MOVQ blue+24(FP), CX
	MOVQ n+32(FP), BX
	VBROADCASTSS scale+40(FP), Y0
	VBROADCASTSS bias+44(FP), Y1
	PACK8_SETUP
	XORQ AX, AX

loop:
	CMPQ AX, BX
	JGE done
	VMOVUPS (SI)(AX*4), Y7
	VMOVUPS (DX)(AX*4), Y8
	VMOVUPS (CX)(AX*4), Y9
	PACK8
	ADDQ $8, AX
	JMP loop

done:
	VMOVMSKPS Y6, R8
	VZEROUPPER
	MOVL R8, ret+48(FP)
	RET

// Shuffles that spread one channel of four RGB pixels (12 bytes) into
// four zero-extended dwords, the same in both 128-bit lanes.
DATA shufR<>+0(SB)/8, $0xffffff03ffffff00
DATA shufR<>+8(SB)/8, $0xffffff09ffffff06
DATA shufR<>+16(SB)/8, $0xffffff03ffffff00
DATA shufR<>+24(SB)/8, $0xffffff09ffffff06
GLOBL shufR<>(SB), RODATA|NOPTR, $32
DATA shufG<>+0(SB)/8, $0xffffff04ffffff01
DATA shufG<>+8(SB)/8, $0xffffff0affffff07
DATA shufG<>+16(SB)/8, $0xffffff04ffffff01
DATA shufG<>+24(SB)/8, $0xffffff0affffff07
GLOBL shufG<>(SB), RODATA|NOPTR, $32
DATA shufB<>+0(SB)/8, $0xffffff05ffffff02
DATA shufB<>+8(SB)/8, $0xffffff0bffffff08
DATA shufB<>+16(SB)/8, $0xffffff05ffffff02
DATA shufB<>+24(SB)/8, $0xffffff0bffffff08
GLOBL shufB<>(SB), RODATA|NOPTR, $32

// func planesRGBAVX2(red, green, blue *float32, src *byte, n int, step, lo float32)
//
// Eight RGB pixels a step into three planes: each byte v becomes
// lo + v·step, computed as Go computes the image input's table. n is a
// multiple of 8, and src holds at least 3n+4 bytes (the last load reads 4
// past the pixels).
TEXT ·planesRGBAVX2(SB), NOSPLIT, $0-48
	MOVQ red+0(FP), DI
	MOVQ green+8(FP), DX
	MOVQ blue+16(FP), CX
	MOVQ src+24(FP), SI
	MOVQ n+32(FP), BX
	VBROADCASTSS step+40(FP), Y0
	VBROADCASTSS lo+44(FP), Y1
	VMOVDQU shufR<>(SB), Y3
	VMOVDQU shufG<>(SB), Y4
	VMOVDQU shufB<>(SB), Y5
	XORQ AX, AX

ploop:
	CMPQ AX, BX
	JGE pdone
	VMOVDQU (SI), X6
	VINSERTI128 $1, 12(SI), Y6, Y6
	VPSHUFB Y3, Y6, Y7
	VCVTDQ2PS Y7, Y7
	VMULPS Y0, Y7, Y7
	VADDPS Y1, Y7, Y7
	VMOVUPS Y7, (DI)(AX*4)
	VPSHUFB Y4, Y6, Y7
	VCVTDQ2PS Y7, Y7
	VMULPS Y0, Y7, Y7
	VADDPS Y1, Y7, Y7
	VMOVUPS Y7, (DX)(AX*4)
	VPSHUFB Y5, Y6, Y7
	VCVTDQ2PS Y7, Y7
	VMULPS Y0, Y7, Y7
	VADDPS Y1, Y7, Y7
	VMOVUPS Y7, (CX)(AX*4)
	ADDQ $24, SI
	ADDQ $8, AX
	JMP ploop

pdone:
	VZEROUPPER
	RET

// Dword indices that gather one channel out of eight interleaved RGB
// pixels (three vectors A, B, C), for VPERMPS; blends then take each lane
// from the vector that holds it.
DATA permR<>+0(SB)/8, $0x0000000300000000
DATA permR<>+8(SB)/8, $0x0000000100000006
DATA permR<>+16(SB)/8, $0x0000000700000004
DATA permR<>+24(SB)/8, $0x0000000500000002
GLOBL permR<>(SB), RODATA|NOPTR, $32
DATA permG<>+0(SB)/8, $0x0000000400000001
DATA permG<>+8(SB)/8, $0x0000000200000007
DATA permG<>+16(SB)/8, $0x0000000000000005
DATA permG<>+24(SB)/8, $0x0000000600000003
GLOBL permG<>(SB), RODATA|NOPTR, $32
DATA permB<>+0(SB)/8, $0x0000000500000002
DATA permB<>+8(SB)/8, $0x0000000300000000
DATA permB<>+16(SB)/8, $0x0000000100000006
DATA permB<>+24(SB)/8, $0x0000000700000004
GLOBL permB<>(SB), RODATA|NOPTR, $32

// func rgbaNHWCAVX2(dst *uint32, src *float32, n int, scale, bias float32) uint32
//
// rgbaNCHWAVX2 for interleaved pixels (R, G, B, R, …): each step loads
// eight pixels' 24 values and gathers them into one vector per channel
// first. n is a multiple of 8.
TEXT ·rgbaNHWCAVX2(SB), NOSPLIT, $0-36
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), BX
	VBROADCASTSS scale+24(FP), Y0
	VBROADCASTSS bias+28(FP), Y1
	PACK8_SETUP
	VMOVDQU permR<>(SB), Y13
	VMOVDQU permG<>(SB), Y14
	VMOVDQU permB<>(SB), Y15
	XORQ AX, AX

hloop:
	CMPQ AX, BX
	JGE hdone
	VMOVUPS (SI), Y10
	VMOVUPS 32(SI), Y11
	VMOVUPS 64(SI), Y12
	// R: lanes 0-2 from A, 3-5 from B, 6-7 from C.
	VPERMPS Y10, Y13, Y7
	VPERMPS Y11, Y13, Y8
	VBLENDPS $0x38, Y8, Y7, Y7
	VPERMPS Y12, Y13, Y8
	VBLENDPS $0xc0, Y8, Y7, Y7
	// G: 0-2 from A, 3-4 from B, 5-7 from C.
	VPERMPS Y10, Y14, Y8
	VPERMPS Y11, Y14, Y9
	VBLENDPS $0x18, Y9, Y8, Y8
	VPERMPS Y12, Y14, Y9
	VBLENDPS $0xe0, Y9, Y8, Y8
	// B: 0-1 from A, 2-4 from B, 5-7 from C.
	VPERMPS Y10, Y15, Y9
	VPERMPS Y11, Y15, Y10
	VBLENDPS $0x1c, Y10, Y9, Y9
	VPERMPS Y12, Y15, Y10
	VBLENDPS $0xe0, Y10, Y9, Y9
	PACK8
	ADDQ $96, SI
	ADDQ $8, AX
	JMP hloop

hdone:
	VMOVMSKPS Y6, R8
	VZEROUPPER
	MOVL R8, ret+32(FP)
	RET

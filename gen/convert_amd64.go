package gen

import "golang.org/x/sys/cpu"

// useAVX2 picks the vector loop for planar float32 frames (NCHW, the
// layout PyTorch exports): about four times faster than the table.
var useAVX2 = cpu.X86.HasAVX2

//go:noescape
func rgbaNCHWAVX2(dst *uint32, red, green, blue *float32, n int, scale, bias float32) uint32

// f32NCHW converts planar float32 pixels, eight at a time with AVX2 where
// the CPU has it; the rest go through the table.
func f32NCHW(dst []uint32, rs, gs, bs []float32, scale, bias float32) bool {
	rs, gs, bs = rs[:len(dst)], gs[:len(dst)], bs[:len(dst)]
	n := 0
	ok := true
	if useAVX2 {
		if n = len(dst) &^ 7; n > 0 {
			ok = rgbaNCHWAVX2(&dst[0], &rs[0], &gs[0], &bs[0], n, scale, bias) == 0
		}
	}
	return f32NCHWTable(dst[n:], rs[n:], gs[n:], bs[n:], scale, bias) && ok
}

//go:noescape
func planesRGBAVX2(red, green, blue *float32, src *byte, n int, step, lo float32)

// planesRGB spreads a row of RGB bytes over three planes through lut
// (lo + v·step), eight pixels at a time with AVX2 where the CPU has it.
func planesRGB(rs, gs, bs []float32, row []byte, lut *[256]float32, step, lo float32) {
	gs, bs, row = gs[:len(rs)], bs[:len(rs)], row[:3*len(rs)]
	n := 0
	if useAVX2 {
		// The last step reads 4 bytes past its pixels: leave it to the
		// loop below when the row has no bytes after them.
		n = max(0, (len(row)-4)/3) &^ 7
		if n > 0 {
			planesRGBAVX2(&rs[0], &gs[0], &bs[0], &row[0], n, step, lo)
		}
	}
	planesRGBTable(rs[n:], gs[n:], bs[n:], row[3*n:], lut)
}

//go:noescape
func rgbaNHWCAVX2(dst *uint32, src *float32, n int, scale, bias float32) uint32

// f32NHWC converts interleaved float32 pixels, eight at a time with AVX2
// where the CPU has it; the rest go through the table.
func f32NHWC(dst []uint32, src []float32, scale, bias float32) bool {
	src = src[:3*len(dst)]
	n := 0
	ok := true
	if useAVX2 {
		if n = len(dst) &^ 7; n > 0 {
			ok = rgbaNHWCAVX2(&dst[0], &src[0], n, scale, bias) == 0
		}
	}
	return f32NHWCTable(dst[n:], src[3*n:], scale, bias) && ok
}

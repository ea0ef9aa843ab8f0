//go:build !amd64

package gen

// useAVX2 is false off amd64: every frame goes through the table.
const useAVX2 = false

func f32NCHW(dst []uint32, rs, gs, bs []float32, scale, bias float32) bool {
	return f32NCHWTable(dst, rs, gs, bs, scale, bias)
}

func planesRGB(rs, gs, bs []float32, row []byte, lut *[256]float32, step, lo float32) {
	planesRGBTable(rs, gs, bs, row, lut)
}

func f32NHWC(dst []uint32, src []float32, scale, bias float32) bool {
	return f32NHWCTable(dst, src, scale, bias)
}

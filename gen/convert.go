package gen

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"unsafe"

	"reverie/gen/onnxpb"
	"reverie/internal/split"
)

// ErrNonFinite is wrapped by Run when a model outputs NaN or Inf.
var ErrNonFinite = errors.New("output contains NaN or Inf")

// convertPart is the fewest pixels worth handing to another core: below
// it the hand-over costs more than the work.
const convertPart = 16384

// conversion is one Convert call's arguments, which its parts share.
type conversion struct {
	dst         []uint32 // RGBA pixels, one word each
	scale, bias float32
	nhwc        bool
	bad         [split.MaxParts]bool // per part: a NaN or Inf was seen
}

// Convert maps the output tensor to RGBA bytes by layout, range and dtype,
// on several cores for a large frame. A NaN or Inf anywhere makes it fail
// with ErrNonFinite. It allocates nothing.
func (m *Model) Convert(dst []byte) error {
	o := m.Manifest.Output
	n := o.Width * o.Height
	if len(dst) < 4*n {
		return fmt.Errorf("frame buffer holds %d bytes, expected %d", len(dst), 4*n)
	}
	p := unsafe.Pointer(unsafe.SliceData(dst))
	if uintptr(p)%4 != 0 {
		return fmt.Errorf("frame buffer is not 4-byte aligned (expected a slice made for the frame)")
	}
	c := &m.conv
	c.dst = unsafe.Slice((*uint32)(p), n)
	// x·scale + bias maps the range onto [0.5, 255.5), so truncation rounds.
	c.scale = 255 / (o.Range[1] - o.Range[0])
	c.bias = 0.5 - o.Range[0]*c.scale
	c.nhwc = o.Layout == "NHWC"
	c.bad = [split.MaxParts]bool{}
	if m.convertFn == nil {
		m.convertFn = m.convertRange
	}
	m.pool.Do(n, convertPart, m.convertFn)
	c.dst = nil
	if c.bad != [split.MaxParts]bool{} {
		return fmt.Errorf("model %s: %w", m.Manifest.Source(), ErrNonFinite)
	}
	return nil
}

// convertRange converts pixels [lo, hi) of the frame Convert is on.
func (m *Model) convertRange(lo, hi int) {
	c := &m.conv
	n := len(c.dst)
	dst := c.dst[lo:hi]
	ok := true
	switch {
	case m.f32 != nil && c.nhwc:
		ok = f32NHWC(dst, m.f32[3*lo:3*hi], c.scale, c.bias)
	case m.f32 != nil:
		ok = f32NCHW(dst, m.f32[lo:hi], m.f32[n+lo:n+hi], m.f32[2*n+lo:2*n+hi], c.scale, c.bias)
	case m.f16 != nil:
		ok = f16Any(dst, m.f16, n, lo, c.nhwc, c.scale, c.bias)
	default:
		u8Any(dst, m.u8, n, lo, c.nhwc, c.scale, c.bias)
	}
	if !ok {
		c.bad[lo*len(c.bad)/n] = true
	}
}

// RGBA words are stored in memory order R, G, B, A: a little-endian word
// holds R in its low byte. pixel builds one from three channel bytes.
func pixel(r, g, b uint32) uint32 {
	if bigEndian {
		return r<<24 | g<<16 | b<<8 | 0xff
	}
	return r | g<<8 | b<<16 | 0xff000000
}

var bigEndian = binary.NativeEndian.Uint16([]byte{0, 1}) == 1

// toByte clamps an already scaled and biased value into a byte, without
// branches: random-looking pictures would mispredict them. NaN becomes 0
// (the callers check for it). The float32 loops use byteOf instead.
func toByte(x float32) uint32 {
	v := int32(x) // out of range (and NaN) give math.MinInt32
	if x > 255 {
		v = 255
	}
	return uint32(min(max(v, 0), 255))
}

// byteOf maps a scaled and biased float32, by its top 16 bits (sign,
// exponent and 7 bits of mantissa), to its byte: floor(x) clamped to
// [0, 255]. 7 bits of mantissa hold the integer part of every value below
// 256 exactly, so the floor is exact. badBit is set for NaN and Inf. A table
// costs one load where the arithmetic costs a conversion and three clamps.
var byteOf = func() *[1 << 16]uint16 {
	var t [1 << 16]uint16
	for i := range t {
		x := math.Float32frombits(uint32(i) << 16)
		switch {
		case i&0x7f80 == 0x7f80: // exponent all ones
			t[i] = badBit
		case x >= 255:
			t[i] = 255
		case x > 0:
			t[i] = uint16(x)
		}
	}
	return &t
}()

const badBit = 0x100

// lookup is x's entry in byteOf.
func lookup(t *[1 << 16]uint16, x float32) uint32 { return uint32(t[math.Float32bits(x)>>16]) }

// The loops below are specialised by dtype and layout so the inner loop has
// no branches.
// f32NHWCTable converts interleaved float32 pixels through byteOf.
func f32NHWCTable(dst []uint32, src []float32, scale, bias float32) bool {
	var flags uint32
	t := byteOf
	src = src[:3*len(dst)]
	for k := range dst {
		p := src[3*k : 3*k+3 : 3*k+3]
		r, g, b := lookup(t, float32(p[0]*scale)+bias), lookup(t, float32(p[1]*scale)+bias), lookup(t, float32(p[2]*scale)+bias)
		flags |= r | g | b
		dst[k] = pixel(r&0xff, g&0xff, b&0xff)
	}
	return flags&badBit == 0
}

// f32NCHWTable converts planar float32 pixels through byteOf.
func f32NCHWTable(dst []uint32, rs, gs, bs []float32, scale, bias float32) bool {
	var flags uint32
	t := byteOf
	rs, gs, bs = rs[:len(dst)], gs[:len(dst)], bs[:len(dst)]
	for k := range dst {
		r, g, b := lookup(t, float32(rs[k]*scale)+bias), lookup(t, float32(gs[k]*scale)+bias), lookup(t, float32(bs[k]*scale)+bias)
		flags |= r | g | b
		dst[k] = pixel(r&0xff, g&0xff, b&0xff)
	}
	return flags&badBit == 0
}

// planes gives the element stride between channels and between pixels of
// an n-pixel frame in either layout.
func planes(n int, nhwc bool) (cs, ps int) {
	if nhwc {
		return 1, 3
	}
	return n, 1
}

// f16Any converts float16 pixels from pixel lo on into dst.
func f16Any(dst []uint32, src []uint16, n, lo int, nhwc bool, scale, bias float32) bool {
	cs, ps := planes(n, nhwc)
	for k := range dst {
		i := (lo + k) * ps
		r, g, b := src[i], src[i+cs], src[i+2*cs]
		if r&0x7c00 == 0x7c00 || g&0x7c00 == 0x7c00 || b&0x7c00 == 0x7c00 {
			return false // exponent all ones: Inf or NaN
		}
		dst[k] = pixel(toByte(onnxpb.HalfToFloat(r)*scale+bias), toByte(onnxpb.HalfToFloat(g)*scale+bias), toByte(onnxpb.HalfToFloat(b)*scale+bias))
	}
	return true
}

// u8Any converts 8-bit pixels from pixel lo on into dst; the range
// [0, 255] is copied as it is.
func u8Any(dst []uint32, src []byte, n, lo int, nhwc bool, scale, bias float32) {
	cs, ps := planes(n, nhwc)
	direct := scale == 1 && bias == 0.5
	for k := range dst {
		i := (lo + k) * ps
		r, g, b := uint32(src[i]), uint32(src[i+cs]), uint32(src[i+2*cs])
		if !direct {
			r, g, b = toByte(float32(r)*scale+bias), toByte(float32(g)*scale+bias), toByte(float32(b)*scale+bias)
		}
		dst[k] = pixel(r, g, b)
	}
}

package gen

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"reverie/gen/onnxpb"
	"reverie/internal/split"
)

// wantByte is a value's byte by the output range, computed apart from the
// conversion loops: rounded to nearest, clamped to [0, 255].
func wantByte(v, lo, hi float64) byte {
	return byte(math.Min(255, math.Max(0, math.Floor((v-lo)/(hi-lo)*255+0.5))))
}

// A frame large enough to be cut among cores converts pixel for pixel as
// the range says, in every dtype and layout, beyond the range too; a NaN
// or Inf in any part of it is caught.
func TestConvertOnSeveralCores(t *testing.T) {
	const w, h = 256, 200 // 51200 pixels: several parts
	n := w * h
	rng := rand.New(rand.NewPCG(1, 2))
	for _, layout := range []string{"NCHW", "NHWC"} {
		for _, dtype := range []string{"float32", "float16", "uint8"} {
			lo, hi := float32(-1), float32(1)
			if dtype == "uint8" {
				lo, hi = 0, 510
			}
			name := fmt.Sprintf("%s/%s", layout, dtype)
			vals := make([]float64, 3*n)
			m := &Model{Manifest: &Manifest{Name: "t", Output: OutputSpec{Layout: layout, DType: dtype, Range: [2]float32{lo, hi}, Width: w, Height: h}}}
			switch dtype {
			case "float32":
				m.f32 = make([]float32, 3*n)
			case "float16":
				m.f16 = make([]uint16, 3*n)
			default:
				m.u8 = make([]byte, 3*n)
			}
			for i := range vals {
				switch dtype {
				case "float32":
					m.f32[i] = float32(rng.Float64()*3 - 1.5) // beyond the range both ways
					vals[i] = float64(m.f32[i])
				case "float16":
					m.f16[i] = uint16(rng.IntN(0x7c00)) | uint16(rng.IntN(2))<<15 // every finite half
					vals[i] = float64(onnxpb.HalfToFloat(m.f16[i]))
				default:
					m.u8[i] = byte(rng.IntN(256))
					vals[i] = float64(m.u8[i])
				}
			}
			cs, ps := n, 1
			if layout == "NHWC" {
				cs, ps = 1, 3
			}
			m.pool = split.New()
			dst := make([]byte, 4*n)
			if err := m.Convert(dst); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			bad := 0
			for k := 0; k < n; k++ {
				for c := 0; c < 4; c++ {
					want := byte(255)
					if c < 3 {
						want = wantByte(vals[k*ps+c*cs], float64(lo), float64(hi))
					}
					if got := dst[4*k+c]; got != want && bad < 5 {
						bad++
						t.Errorf("%s: pixel %d channel %d = %d, want %d (value %v)", name, k, c, got, want, vals[k*ps+c*cs])
					}
				}
			}
			// One bad value, in the last part, then in the first.
			if dtype != "uint8" {
				for _, at := range []int{3*n - 2, 1} {
					if dtype == "float32" {
						old := m.f32[at]
						m.f32[at] = float32(math.Inf(-1))
						if err := m.Convert(dst); !errors.Is(err, ErrNonFinite) {
							t.Errorf("%s: -Inf at %d: got %v, want ErrNonFinite", name, at, err)
						}
						m.f32[at] = float32(math.NaN())
						if err := m.Convert(dst); !errors.Is(err, ErrNonFinite) {
							t.Errorf("%s: NaN at %d: got %v, want ErrNonFinite", name, at, err)
						}
						m.f32[at] = old
					} else {
						old := m.f16[at]
						m.f16[at] = 0x7e00 // NaN
						if err := m.Convert(dst); !errors.Is(err, ErrNonFinite) {
							t.Errorf("%s: NaN at %d: got %v, want ErrNonFinite", name, at, err)
						}
						m.f16[at] = old
					}
				}
				if err := m.Convert(dst); err != nil {
					t.Errorf("%s: after the bad value is gone: %v", name, err)
				}
			}
			if a := testing.AllocsPerRun(5, func() { m.Convert(dst) }); a != 0 {
				t.Errorf("%s: Convert allocates %v times a frame", name, a)
			}
			m.pool.Close()
			if err := m.Convert(dst); err != nil { // on the caller alone
				t.Errorf("%s: after Close: %v", name, err)
			}
		}
	}
}

// The image input takes each input pixel from the picture pixel the cover
// placement puts under it, enlarging and reducing, in colour and grey, in
// both layouts, and for a picture at the input's size (one pass a row).
func TestImageInputSamplesThePicture(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, layout := range []string{"NCHW", "NHWC"} {
		for _, pic := range []struct{ w, h, c int }{{200, 150, 3}, {640, 480, 3}, {300, 400, 1}, {320, 240, 4}, {256, 192, 3}, {256, 300, 3}, {256, 100, 3}} {
			spec := ImageSpec{Input: "p", Source: SourceCamera, Layout: layout, Range: [2]float32{-1, 1}, Width: 256, Height: 192}
			p := Picture{Pix: make([]byte, pic.w*pic.h*pic.c), Width: pic.w, Height: pic.h, Channels: pic.c}
			for i := range p.Pix {
				p.Pix[i] = byte(rng.IntN(256))
			}
			in := newImageInput(spec, make([]float32, 3*256*192))
			if err := in.fill(&p); err != nil {
				t.Fatal(err)
			}
			// Checks against the picture itself, at pixels spread over the
			// input: the cover placement's nearest picture pixel.
			sx, sy, tx, ty := FitCover.Place(pic.w, pic.h, 256, 192)
			for k := 0; k < 256*192; k += 37 {
				x, y := k%256, k/256
				px, py := int((float64(x)+0.5-tx)/sx), int((float64(y)+0.5-ty)/sy)
				for c := 0; c < 3; c++ {
					src := p.Pix[(py*pic.w+px)*pic.c+min(c, pic.c-1)]
					want := -1 + 2*float32(src)/255
					i := c*256*192 + y*256 + x
					if layout == "NHWC" {
						i = (y*256+x)*3 + c
					}
					if got := in.data[i]; math.Abs(float64(got-want)) > 1e-6 {
						t.Fatalf("%s %dx%d×%d: pixel (%d,%d) channel %d = %v, want %v", layout, pic.w, pic.h, pic.c, x, y, c, got, want)
					}
				}
			}
			if a := testing.AllocsPerRun(5, func() { in.fill(&p) }); a != 0 {
				t.Errorf("%s: fill allocates %v times a frame", layout, a)
			}
		}
	}
}

// The vector loop (where the CPU has one) and the table agree on every
// value, whatever the frame's length, and both catch a NaN or an Inf in
// any lane.
func TestVectorLoopMatchesTable(t *testing.T) {
	if !useAVX2 {
		t.Skip("no vector loop on this CPU")
	}
	// Values so large that scaling overflows (3e38·255) count as Inf in both.
	special := []float32{0, float32(math.Copysign(0, -1)), 1, -1, 0.5, 0.99999, 1.0000001, 254.9 / 255, 255.0 / 255, 1e30, -1e30, 1e-40}
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{1, 7, 8, 9, 16, 33, 1000} {
		rs, gs, bs := make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range rs {
			rs[i] = special[rng.IntN(len(special))]
			gs[i] = float32(rng.Float64()*1.4 - 0.2)
			bs[i] = float32(rng.NormFloat64())
		}
		vec, tab := make([]uint32, n), make([]uint32, n)
		okV := f32NCHW(vec, rs, gs, bs, 255, 0.5)
		okT := f32NCHWTable(tab, rs, gs, bs, 255, 0.5)
		if !okV || !okT {
			t.Fatalf("n=%d: a finite frame reported as not finite (vector %v, table %v)", n, okV, okT)
		}
		for i := range vec {
			if vec[i] != tab[i] {
				t.Fatalf("n=%d pixel %d (%v %v %v): vector %#08x, table %#08x", n, i, rs[i], gs[i], bs[i], vec[i], tab[i])
			}
		}
		// The same pixels interleaved (NHWC) give the same words.
		src := make([]float32, 3*n)
		for i := range rs {
			src[3*i], src[3*i+1], src[3*i+2] = rs[i], gs[i], bs[i]
		}
		nhwc := make([]uint32, n)
		if !f32NHWC(nhwc, src, 255, 0.5) || !f32NHWCTable(tab, src, 255, 0.5) {
			t.Fatalf("n=%d: a finite interleaved frame reported as not finite", n)
		}
		for i := range nhwc {
			if nhwc[i] != vec[i] || tab[i] != vec[i] {
				t.Fatalf("n=%d pixel %d interleaved: vector %#08x, table %#08x, planar %#08x", n, i, nhwc[i], tab[i], vec[i])
			}
		}
		for i := range src {
			old := src[i]
			src[i] = float32(math.NaN())
			if f32NHWC(nhwc, src, 255, 0.5) {
				t.Fatalf("n=%d: interleaved NaN at value %d was not caught", n, i)
			}
			src[i] = old
		}
		for i := 0; i < n; i++ {
			for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
				old := bs[i]
				bs[i] = bad
				if f32NCHW(vec, rs, gs, bs, 255, 0.5) {
					t.Fatalf("n=%d: %v at pixel %d was not caught", n, bad, i)
				}
				bs[i] = old
			}
		}
	}
}

// The image input's vector loop spreads a row over the planes exactly as
// its table does, for every row length and range.
func TestPlanesVectorMatchesTable(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, r := range [][2]float32{{0, 1}, {-1, 1}, {0, 255}, {-2.1, 2.6}} {
		in := newImageInput(ImageSpec{Range: r, Width: 1, Height: 1}, make([]float32, 3))
		for w := 1; w <= 70; w++ {
			row := make([]byte, 3*w)
			for i := range row {
				row[i] = byte(rng.IntN(256))
			}
			vec := [3][]float32{make([]float32, w), make([]float32, w), make([]float32, w)}
			tab := [3][]float32{make([]float32, w), make([]float32, w), make([]float32, w)}
			planesRGB(vec[0], vec[1], vec[2], row, &in.lut, in.step, r[0])
			planesRGBTable(tab[0], tab[1], tab[2], row, &in.lut)
			for c := range vec {
				for x := range vec[c] {
					if vec[c][x] != tab[c][x] {
						t.Fatalf("range %v width %d: channel %d pixel %d = %v, table %v", r, w, c, x, vec[c][x], tab[c][x])
					}
				}
			}
		}
	}
}

// bgrOf is p with its colour channels stored blue first, as OpenCV keeps
// them, and flagged so.
func bgrOf(p Picture) Picture {
	q := p
	q.Pix = append([]byte(nil), p.Pix...)
	q.BGR = true
	if p.Channels < 3 {
		return q
	}
	for i := 0; i+2 < len(q.Pix); i += p.Channels {
		q.Pix[i], q.Pix[i+2] = q.Pix[i+2], q.Pix[i]
	}
	return q
}

// A BGR picture fills the tensor exactly as the same picture in RGB does,
// in both layouts and every range: at the input's size (one pass a row,
// the vector loop on a wide row where the CPU has it, the table on a
// narrow one), of the input's width with rows cropped, reduced, enlarged,
// with alpha (BGRA), and grey, where the flag means nothing.
func TestImageInputReadsBGR(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, layout := range []string{"NCHW", "NHWC"} {
		for _, rng2 := range [][2]float32{{0, 255}, {0, 1}, {-1, 1}} {
			for _, c := range []struct{ inW, inH, w, h, ch int }{
				{256, 192, 256, 192, 3}, {7, 5, 7, 5, 3}, {256, 192, 256, 300, 3},
				{256, 192, 640, 480, 3}, {256, 192, 200, 150, 3}, {256, 192, 320, 240, 4}, {256, 192, 300, 400, 1},
			} {
				name := fmt.Sprintf("%s %v, %dx%d×%d into %dx%d", layout, rng2, c.w, c.h, c.ch, c.inW, c.inH)
				spec := ImageSpec{Input: "p", Source: SourceCamera, Layout: layout, Range: rng2, Width: c.inW, Height: c.inH}
				rgb := Picture{Pix: make([]byte, c.w*c.h*c.ch), Width: c.w, Height: c.h, Channels: c.ch}
				for i := range rgb.Pix {
					rgb.Pix[i] = byte(rng.IntN(256))
				}
				bgr := bgrOf(rgb)
				want := newImageInput(spec, make([]float32, 3*c.inW*c.inH))
				got := newImageInput(spec, make([]float32, 3*c.inW*c.inH))
				if err := want.fill(&rgb); err != nil {
					t.Fatal(err)
				}
				if err := got.fill(&bgr); err != nil {
					t.Fatal(err)
				}
				for i := range want.data {
					if got.data[i] != want.data[i] {
						t.Fatalf("%s: value %d is %v from BGR, %v from RGB", name, i, got.data[i], want.data[i])
					}
				}
				// The same input converts either order, whichever came last.
				if err := got.fill(&rgb); err != nil {
					t.Fatal(err)
				}
				for i := range want.data {
					if got.data[i] != want.data[i] {
						t.Fatalf("%s: value %d is %v from RGB after BGR, want %v", name, i, got.data[i], want.data[i])
					}
				}
			}
		}
	}
}

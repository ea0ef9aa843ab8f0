package gen

import (
	"fmt"
	"math"
	"math/rand/v2"

	"reverie/gen/onnxpb"
)

// ConvDecoder describes a StyleGAN-shaped convolutional generator: a mapping
// network turns z into a style vector w; a dense layer lays w out as a small
// feature map; each block doubles it (bilinear), convolves, normalises and
// modulates it by w; a 1×1 conv makes RGB. It has the same parts, in the same
// NCHW [-1, 1] output, that a user's exported StyleGAN or DCGAN has.
type ConvDecoder struct {
	Seed      uint64
	Width     int
	Height    int
	LatentDim int
	Channels  int // feature maps of the first block; later blocks narrow
	// Detail is the strength of StyleGAN-style fixed noise added to each
	// block's features before the next block's convolution shapes it into
	// texture; 0 gives only soft, smooth forms.
	Detail float64
}

// DefaultConvDecoder is the built-in conv decoder's shape at the given size.
func DefaultConvDecoder(seed uint64, w, h int) ConvDecoder {
	return ConvDecoder{Seed: seed, Width: w, Height: h, LatentDim: 64, Channels: 64, Detail: 0.3}
}

// plan is the decoder's block layout: the first feature map's size and each
// block's channels. Blocks stop once the map covers the frame, or at 7.
func (c ConvDecoder) plan() (h0, w0 int, chans []int) {
	k := 0
	for k < 7 && (min(c.Width, c.Height)>>(k+1)) >= 4 {
		k++
	}
	h0 = (c.Height + (1<<k - 1)) >> k
	w0 = (c.Width + (1<<k - 1)) >> k
	ch := c.Channels
	for i := 0; i < k; i++ {
		// Narrow as the maps grow, so the full-resolution layers stay cheap.
		if i > 0 {
			ch = max(8, ch*2/3)
		}
		chans = append(chans, ch)
	}
	return h0, w0, chans
}

// MACs is the number of multiply-adds one frame costs (convolutions and dense
// layers; normalisation and resizing are memory-bound and not counted).
func (c ConvDecoder) MACs() int64 {
	h0, w0, chans := c.plan()
	d := int64(c.LatentDim)
	macs := 2*d*d + d*int64(c.Channels*h0*w0)
	h, w, in := int64(h0), int64(w0), int64(c.Channels)
	for _, ch := range chans {
		h, w = 2*h, 2*w
		macs += h*w*in*int64(ch)*9 + 2*d*int64(ch)
		in = int64(ch)
	}
	return macs + h*w*in*3
}

// Build writes the decoder as an ONNX model with a `psi` input (truncation:
// how far from the average image the latent may go).
func (c ConvDecoder) Build() (*Manifest, error) {
	if c.Width < 8 || c.Height < 8 || c.Width > 4096 || c.Height > 4096 {
		return nil, fmt.Errorf("convdecoder size %dx%d: expected 8..4096 on each side", c.Width, c.Height)
	}
	if c.LatentDim < 1 || c.Channels < 8 {
		return nil, fmt.Errorf("convdecoder latent %d, channels %d: expected latent ≥ 1 and channels ≥ 8", c.LatentDim, c.Channels)
	}
	rng := rand.New(rand.NewPCG(c.Seed, 0x636f6e76))
	normal := gaussian(rng)
	h0, w0, chans := c.plan()
	d := int64(c.LatentDim)
	g := onnxpb.NewGraph("convdecoder")
	z := g.Input("z", onnxpb.Float, 1, d)
	psi := g.Input("psi", onnxpb.Float, 1)
	leaky := onnxpb.AttrFloat("alpha", 0.2)
	// He gain for leaky ReLU keeps each layer's variance near 1.
	gain := math.Sqrt(2 / (1 + 0.2*0.2))

	// Mapping network: two dense layers, then truncation towards the mean
	// style (zero here, as z is centred).
	wv := g.Op("Mul", []string{z, psi})
	for i := 0; i < 2; i++ {
		m := g.Const("", []int64{d, d}, normal(int(d*d), gain/math.Sqrt(float64(d))))
		wv = g.Op("LeakyRelu", []string{g.Op("MatMul", []string{wv, m})}, leaky)
	}

	// Dense layout of the first feature map, as a DCGAN's first layer.
	c0 := int64(c.Channels)
	n0 := c0 * int64(h0*w0)
	dense := g.Const("", []int64{d, n0}, normal(int(d*n0), 1/math.Sqrt(float64(d))))
	x := g.Op("Reshape", []string{g.Op("MatMul", []string{wv, dense}), g.Ints(1, c0, int64(h0), int64(w0))})

	up := g.Const("", []int64{4}, []float32{1, 1, 2, 2})
	in := c0
	for i, ch := range chans {
		co := int64(ch)
		x = g.Op("Resize", []string{x, "", up}, onnxpb.AttrString("mode", "linear"))
		// Each kernel is a random channel mix times a smooth 3×3 blob plus a
		// smaller random spatial part. Pure white-noise kernels, repeated
		// over seven scales, give static; the blob keeps every scale's
		// structure coherent, and the random part adds edges and texture.
		// Later (finer) blocks get less texture so fine scales do not turn
		// into noise.
		texture := 0.6 * math.Pow(0.7, float64(i))
		blob := [9]float64{1, 2, 1, 2, 4, 2, 1, 2, 1}
		wts := make([]float32, co*in*9)
		std := gain / math.Sqrt(float64(in))
		for o := int64(0); o < co*in; o++ {
			mix := rng.NormFloat64()
			for k := 0; k < 9; k++ {
				wts[o*9+int64(k)] = float32(std * (mix*blob[k]/16*3 + texture*rng.NormFloat64()/3))
			}
		}
		kw := g.Const("", []int64{co, in, 3, 3}, wts)
		kb := g.Const("", []int64{co}, normal(int(co), 0.1))
		x = g.Op("Conv", []string{x, kw, kb}, onnxpb.AttrInts("pads", 1, 1, 1, 1), onnxpb.AttrInts("kernel_shape", 3, 3))
		// Instance norm, then a per-channel scale and shift from w: the style
		// modulation that lets the latent act at every scale.
		ones := make([]float32, co)
		for j := range ones {
			ones[j] = 1
		}
		x = g.Op("InstanceNormalization", []string{x, g.Const("", []int64{co}, ones), g.Const("", []int64{co}, make([]float32, co))}, onnxpb.AttrFloat("epsilon", 1e-5))
		if hb, wb := int64(h0<<(i+1)), int64(w0<<(i+1)); c.Detail > 0 && i > 0 && i < len(chans)-2 {
			// A fixed noise map per block, each channel taking it at its own
			// strength, as StyleGAN's noise inputs: the next convolution
			// turns it into grain and texture at this block's scale. The
			// last block gets none, so no pixel-level noise reaches RGB.
			noise := g.Const("", []int64{1, 1, hb, wb}, normal(int(hb*wb), 1))
			str := g.Const("", []int64{1, co, 1, 1}, normal(int(co), c.Detail))
			x = g.Op("Add", []string{x, g.Op("Mul", []string{noise, str})})
		}
		as := g.Const("", []int64{d, co}, normal(int(d*co), 0.5/math.Sqrt(float64(d))))
		ab := g.Const("", []int64{d, co}, normal(int(d*co), 0.5/math.Sqrt(float64(d))))
		shape := g.Ints(1, co, 1, 1)
		sc := g.Op("Reshape", []string{g.Op("Add", []string{g.Op("MatMul", []string{wv, as}), g.Scalar(1)}), shape})
		sh := g.Op("Reshape", []string{g.Op("MatMul", []string{wv, ab}), shape})
		x = g.Op("LeakyRelu", []string{g.Op("Add", []string{g.Op("Mul", []string{x, sc}), sh})}, leaky)
		in = co
	}
	rgbw := g.Const("", []int64{3, in, 1, 1}, normal(3*int(in), 1.1/math.Sqrt(float64(in))))
	rgb := g.Op("Tanh", []string{g.Op("Conv", []string{x, rgbw})})
	// The blocks cover the frame; crop the centre to the exact size.
	hf, wf := int64(h0<<len(chans)), int64(w0<<len(chans))
	top, left := (hf-int64(c.Height))/2, (wf-int64(c.Width))/2
	g.OpTo("image", "Slice", []string{rgb, g.Ints(top, left), g.Ints(top+int64(c.Height), left+int64(c.Width)), g.Ints(2, 3)})
	g.Output("image", onnxpb.Float, 1, 3, int64(c.Height), int64(c.Width))
	g.Metadata("reverie.kind", "convdecoder")
	g.Metadata("reverie.seed", fmt.Sprint(c.Seed))

	return &Manifest{
		Name:   "convdecoder",
		Latent: LatentSpec{Input: "z", Dim: c.LatentDim, Distribution: "normal"},
		Inputs: []InputSpec{{Name: "psi", Shape: []int64{1}, Value: 1, Param: "psi", Min: 0, Max: 2}},
		Output: OutputSpec{Name: "image", Layout: "NCHW", Range: [2]float32{-1, 1}, DType: "float32", Width: c.Width, Height: c.Height},
		onnx:   g.Model("reverie", Version),
	}, nil
}

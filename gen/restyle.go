package gen

import (
	"fmt"
	"math"
	"math/rand/v2"

	"reverie/gen/onnxpb"
)

// Restyle describes the built-in image-conditioned model: a small
// convolutional network that repaints its input picture (the camera, by
// default). Two 3×3 convolutions (the second dilated, for a wider reach)
// find edges and textures, the latent z scales each feature map (so the
// director shifts the palette as the audience moves), and a 1×1
// convolution paints them back as colour over the picture itself.
// strength blends between the picture (0) and the repainting (1). Its
// weights are random from the seed, as the other built-ins'; it is for
// tests and as a demonstration of the image path a trained style transfer
// takes.
type Restyle struct {
	Seed      uint64
	Width     int // the picture's and the frame's size
	Height    int
	LatentDim int
	Channels  int
	Source    string // the image source: camera, feedback or mask
}

// DefaultRestyle is the built-in restyle model's shape at the given size.
func DefaultRestyle(seed uint64, w, h int) Restyle {
	return Restyle{Seed: seed, Width: w, Height: h, LatentDim: 8, Channels: 12, Source: SourceCamera}
}

// restyleWeights are the network's parameters, drawn from the seed in one
// place so a test can compute the network independently.
type restyleWeights struct {
	w1, b1 []float32 // [C, 3, 3, 3], [C]
	w2, b2 []float32 // [C, C, 3, 3] dilated by 2, [C]
	mod    []float32 // [dim, C]: z → per-channel scale (added to 1)
	w3, b3 []float32 // [3, C, 1, 1], [3]
}

// restyleLeak is the leaky ReLU slope; restyleGain scales the picture
// itself under the repainting, before the sigmoid.
const (
	restyleLeak = 0.2
	restyleGain = 4
)

func (r Restyle) weights() restyleWeights {
	rng := rand.New(rand.NewPCG(r.Seed, 0x72657374))
	normal := gaussian(rng)
	c, d := r.Channels, r.LatentDim
	gain := math.Sqrt(2 / (1 + restyleLeak*restyleLeak))
	return restyleWeights{
		w1: normal(c*27, 2*gain/math.Sqrt(27)), b1: normal(c, 0.1),
		w2: normal(c*c*9, gain/math.Sqrt(float64(9*c))), b2: normal(c, 0.1),
		mod: normal(d*c, 0.5/math.Sqrt(float64(max(d, 1)))),
		w3:  normal(3*c, 2.5/math.Sqrt(float64(c))), b3: normal(3, 0.2),
	}
}

// Build writes the model as ONNX: inputs image [1, 3, H, W] in [0, 1]
// (NCHW), z [1, dim] and strength [1]; output image [1, 3, H, W] in [0, 1].
func (r Restyle) Build() (*Manifest, error) {
	if r.Width < 8 || r.Height < 8 || r.Width > 4096 || r.Height > 4096 {
		return nil, fmt.Errorf("restyle size %dx%d: expected 8..4096 on each side", r.Width, r.Height)
	}
	if r.LatentDim < 1 || r.Channels < 1 {
		return nil, fmt.Errorf("restyle latent %d, channels %d: expected at least 1 each", r.LatentDim, r.Channels)
	}
	wt := r.weights()
	c, d := int64(r.Channels), int64(r.LatentDim)
	h, w := int64(r.Height), int64(r.Width)
	g := onnxpb.NewGraph("restyle")
	img := g.Input("picture", onnxpb.Float, 1, 3, h, w)
	z := g.Input("z", onnxpb.Float, 1, d)
	strength := g.Input("strength", onnxpb.Float, 1)
	leaky := onnxpb.AttrFloat("alpha", restyleLeak)
	k3 := onnxpb.AttrInts("kernel_shape", 3, 3)

	x0 := g.Op("Sub", []string{img, g.Scalar(0.5)})
	x := g.Op("Conv", []string{x0, g.Const("", []int64{c, 3, 3, 3}, wt.w1), g.Const("", []int64{c}, wt.b1)},
		k3, onnxpb.AttrInts("pads", 1, 1, 1, 1))
	x = g.Op("LeakyRelu", []string{x}, leaky)
	x = g.Op("Conv", []string{x, g.Const("", []int64{c, c, 3, 3}, wt.w2), g.Const("", []int64{c}, wt.b2)},
		k3, onnxpb.AttrInts("pads", 2, 2, 2, 2), onnxpb.AttrInts("dilations", 2, 2))
	x = g.Op("LeakyRelu", []string{x}, leaky)
	scale := g.Op("Add", []string{g.Op("MatMul", []string{z, g.Const("", []int64{d, c}, wt.mod)}), g.Scalar(1)})
	x = g.Op("Mul", []string{x, g.Op("Reshape", []string{scale, g.Ints(1, c, 1, 1)})})
	paint := g.Op("Conv", []string{x, g.Const("", []int64{3, c, 1, 1}, wt.w3), g.Const("", []int64{3}, wt.b3)})
	keep := g.Op("Sub", []string{g.Scalar(1), strength})
	mixed := g.Op("Add", []string{
		g.Op("Mul", []string{paint, strength}),
		g.Op("Mul", []string{g.Op("Mul", []string{x0, g.Scalar(restyleGain)}), keep}),
	})
	g.OpTo("image", "Sigmoid", []string{mixed})
	g.Output("image", onnxpb.Float, 1, 3, h, w)
	g.Metadata("reverie.kind", "restyle")
	g.Metadata("reverie.seed", fmt.Sprint(r.Seed))

	return &Manifest{
		Name:   "restyle",
		Latent: LatentSpec{Input: "z", Dim: r.LatentDim, Distribution: "normal"},
		Image: &ImageSpec{Input: "picture", Source: r.Source, Layout: "NCHW", Range: [2]float32{0, 1},
			Width: r.Width, Height: r.Height},
		Inputs: []InputSpec{{Name: "strength", Shape: []int64{1}, Value: 0.6, Param: "strength", Min: 0, Max: 1}},
		Output: OutputSpec{Name: "image", Layout: "NCHW", Range: [2]float32{0, 1}, DType: "float32", Width: r.Width, Height: r.Height},
		onnx:   g.Model("reverie", Version),
	}, nil
}

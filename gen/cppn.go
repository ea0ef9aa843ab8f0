package gen

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"

	"reverie/gen/onnxpb"
)

// CPPN describes a compositional pattern-producing network: every pixel's
// coordinates (x, y, r) and the latent z pass through dense layers with mixed
// activations to RGB. Random seeded weights already give rich abstract imagery,
// and the same network renders at any resolution.
type CPPN struct {
	Seed      uint64
	Width     int
	Height    int
	LatentDim int
	Hidden    int     // units per layer
	Look      string  // one of CPPNLooks
	Zoom      float32 // coordinate scale: higher shows more, finer structure
	// Plain builds the graph as one pass over the whole frame per op (the
	// form before tiling), which bench measures beside the tiled form. Both
	// give the same picture.
	Plain bool
}

// cppnTile is about how many pixels one tile of the tiled form holds: a
// layer's activations for a tile (tile × hidden floats) then stay in the
// core's cache from one op to the next instead of streaming through memory.
const cppnTile = 8192

// CPPNLooks maps a look's name to its per-layer activations.
var CPPNLooks = map[string][]string{
	"marble": {"tanh", "sin", "tanh", "sin"},
	"cells":  {"gauss", "sin", "gauss", "tanh"},
	"silk":   {"sin", "sin", "gauss", "tanh"},
}

// LookNames lists CPPNLooks' keys in order.
func LookNames() []string {
	var s []string
	for k := range CPPNLooks {
		s = append(s, k)
	}
	sort.Strings(s)
	return s
}

// DefaultCPPN is the built-in generator's shape at the given size.
func DefaultCPPN(seed uint64, w, h int) CPPN {
	return CPPN{Seed: seed, Width: w, Height: h, LatentDim: 16, Hidden: 24, Look: "marble", Zoom: 1.6}
}

// MACs is the number of multiply-adds one frame costs.
func (c CPPN) MACs() int64 {
	px := int64(c.Width * c.Height)
	layers := int64(len(CPPNLooks[c.Look]))
	hd := int64(c.Hidden)
	return px*3*hd + px*(layers-1)*hd*hd + px*hd*3
}

// Build writes the network as an ONNX model. The output is NHWC in [0, 1].
func (c CPPN) Build() (*Manifest, error) {
	acts, ok := CPPNLooks[c.Look]
	if !ok {
		return nil, fmt.Errorf("cppn look %q: expected one of %s", c.Look, strings.Join(LookNames(), ", "))
	}
	if c.Width < 1 || c.Height < 1 || c.Width*c.Height > 4096*4096 {
		return nil, fmt.Errorf("cppn size %dx%d: expected 1..4096 on each side", c.Width, c.Height)
	}
	if c.LatentDim < 1 || c.Hidden < 3 {
		return nil, fmt.Errorf("cppn latent %d, hidden %d: expected latent ≥ 1 and hidden ≥ 3", c.LatentDim, c.Hidden)
	}
	rng := rand.New(rand.NewPCG(c.Seed, 0x6370706e))
	normal := gaussian(rng)
	g := onnxpb.NewGraph("cppn")
	z := g.Input("z", onnxpb.Float, 1, int64(c.LatentDim))

	// Coordinates are baked in: x, y in [-1, 1] (x scaled by the aspect) and r.
	n := c.Width * c.Height
	coords := make([]float32, 0, 3*n)
	aspect := float32(c.Width) / float32(c.Height)
	for y := 0; y < c.Height; y++ {
		for x := 0; x < c.Width; x++ {
			fx := (2*(float32(x)+0.5)/float32(c.Width) - 1) * aspect * c.Zoom
			fy := (2*(float32(y)+0.5)/float32(c.Height) - 1) * c.Zoom
			// r is softened near the centre: a plain distance has a kink at the
			// origin that every latent turns into the same eye.
			coords = append(coords, fx, fy, float32(math.Sqrt(float64(fx*fx+fy*fy)+0.3)))
		}
	}
	h := int64(c.Hidden)
	layers := make([]cppnLayer, len(acts))
	fanIn := int64(3)
	for i := range acts {
		// Unscaled N(0,1) weights, as classic CPPN art uses, push the units
		// into their non-linear range, which is where the detail comes from.
		std := 0.55
		if i == 0 {
			std = 1.2
		}
		layers[i].w = g.Const("", []int64{fanIn, h}, normal(int(fanIn*h), std))
		layers[i].wz = g.Const("", []int64{int64(c.LatentDim), h}, normal(c.LatentDim*int(h), 1.2/math.Sqrt(float64(c.LatentDim))))
		layers[i].b = g.Const("", []int64{1, h}, normal(int(h), 0.3))
		fanIn = h
	}
	wo := g.Const("", []int64{h, 3}, normal(int(h)*3, 2.0/math.Sqrt(float64(h))))

	if c.Plain {
		xyr := g.Const("coords", []int64{int64(n), 3}, coords)
		// Each layer: act(h·W + z·Wz + b). Feeding z into every layer lets
		// the latent reshape the image at every scale, not only shift it.
		in := xyr
		for i, act := range acts {
			l := layers[i]
			pre := g.Op("Add", []string{g.Op("MatMul", []string{in, l.w}), g.Op("Add", []string{g.Op("MatMul", []string{z, l.wz}), l.b})})
			in = activation(g, act, pre)
		}
		rgb := g.Op("Sigmoid", []string{g.Op("MatMul", []string{in, wo})})
		g.OpTo("rgb", "Reshape", []string{rgb, g.Ints(1, int64(c.Height), int64(c.Width), 3)})
	} else {
		// The latent's part of each layer, z·Wz + b, is one row shared by
		// every pixel: computed once, it is the bias of a Gemm, which adds
		// it as it multiplies instead of in a pass of its own.
		bias := make([]string, len(acts))
		for i, l := range layers {
			bias[i] = g.Op("Add", []string{g.Op("MatMul", []string{z, l.wz}), l.b})
		}
		// Tiles of whole rows run the layers one after another while their
		// activations are still in cache; ONNX Runtime runs the nodes in
		// the order they are added.
		rows := max(1, cppnTile/c.Width)
		var tiles []string
		for y0 := 0; y0 < c.Height; y0 += rows {
			y1 := min(c.Height, y0+rows)
			in := g.Const("", []int64{int64((y1 - y0) * c.Width), 3}, coords[3*y0*c.Width:3*y1*c.Width])
			for i, act := range acts {
				in = activation(g, act, g.Op("Gemm", []string{in, layers[i].w, bias[i]}))
			}
			tiles = append(tiles, g.Op("Sigmoid", []string{g.Op("MatMul", []string{in, wo})}))
		}
		rgb := tiles[0]
		if len(tiles) > 1 {
			rgb = g.Op("Concat", tiles, onnxpb.AttrInt("axis", 0))
		}
		g.OpTo("rgb", "Reshape", []string{rgb, g.Ints(1, int64(c.Height), int64(c.Width), 3)})
	}
	g.Output("rgb", onnxpb.Float, 1, int64(c.Height), int64(c.Width), 3)
	g.Metadata("reverie.kind", "cppn")
	g.Metadata("reverie.look", c.Look)
	g.Metadata("reverie.seed", fmt.Sprint(c.Seed))

	return &Manifest{
		Name:   "cppn-" + c.Look,
		Latent: LatentSpec{Input: "z", Dim: c.LatentDim, Distribution: "normal"},
		Output: OutputSpec{Name: "rgb", Layout: "NHWC", Range: [2]float32{0, 1}, DType: "float32", Width: c.Width, Height: c.Height},
		onnx:   g.Model("reverie", Version),
	}, nil
}

// cppnLayer is one dense layer's weights: pixels' (w), the latent's (wz)
// and the bias (b).
type cppnLayer struct{ w, wz, b string }

// gaussian returns a function drawing n weights from N(0, std²) off rng, so
// a seed always writes the same model.
func gaussian(rng *rand.Rand) func(n int, std float64) []float32 {
	return func(n int, std float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64() * std)
		}
		return v
	}
}

func activation(g *onnxpb.Graph, act, x string) string {
	switch act {
	case "sin":
		return g.Op("Sin", []string{x})
	case "gauss": // exp(-x²)
		return g.Op("Exp", []string{g.Op("Neg", []string{g.Op("Mul", []string{x, x})})})
	default:
		return g.Op("Tanh", []string{x})
	}
}

// ONNX returns the model bytes of a built-in manifest, or nil.
func (m *Manifest) ONNX() []byte { return m.onnx }

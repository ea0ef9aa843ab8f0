package gen

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sort"
	"strings"

	"reverie/gen/onnxpb"
	"reverie/internal/split"
)

// CPPN describes a compositional pattern-producing network: every pixel's
// coordinates (x, y, r) pass through dense layers with mixed activations to
// RGB. The first layer draws bands of the coordinates; the latent z shifts
// every later layer's units, so it folds and recolours those bands at every
// scale. Random seeded weights already give rich abstract imagery, and the
// same network renders at any resolution.
type CPPN struct {
	Seed      uint64
	Width     int
	Height    int
	LatentDim int
	Hidden    int     // units per layer
	Look      string  // one of CPPNLooks
	Zoom      float32 // coordinate scale: higher shows more, finer structure
	// Plain builds the graph as it reads: every layer over the whole frame,
	// one op at a time, each frame. bench measures it beside the default
	// form, which gives the same picture (see Build).
	Plain bool
	// Portable builds with ONNX's own operators only, for a model file
	// other tools open: by default the layers run each frame use reverie's
	// kernels where they loaded (see Kernels), which other runtimes lack.
	Portable bool
	// Bands is how many horizontal bands the Runner renders side by side,
	// each a model of its own on one core; 0 is one per core (see Band).
	Bands int
}

// cppnTile is about how many pixels one tile of the tiled form holds: a
// layer's activations for a tile (tile × hidden floats) then stay in the
// core's cache from one op to the next instead of streaming through memory.
const cppnTile = 8192

// CPPNLooks maps a look's name to its per-layer activations. Every look
// has a sine second layer: the form Build writes turns it into constants
// and weights (see Build).
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

// MACs is the number of multiply-adds one frame costs in the form Build
// writes. The plain form runs every layer; the default form's first two
// layers are constants, and the second's sine is folded into the third
// layer, which then takes twice the inputs.
func (c CPPN) MACs() int64 {
	px := int64(c.Width * c.Height)
	layers := int64(len(CPPNLooks[c.Look]))
	hd := int64(c.Hidden)
	if c.Plain {
		return px*3*hd + px*(layers-1)*hd*hd + px*hd*3
	}
	return px*2*hd*hd + px*(layers-3)*hd*hd + px*hd*3
}

// Build writes the network as an ONNX model. The output is NHWC in [0, 1].
//
// Layer i computes act(h·W + z·Wz + b); the first layer takes no z. The
// default form gets its speed from that: the first layer depends only on
// the pixel, so the second's pre-activation is a constant C plus a row
// β = z·Wz + b shared by every pixel, and its sine expands as
//
//	sin(C + β) = sin C · cos β + cos C · sin β.
//
// The third layer's input sin(C + β)·W3 is then [sin C, cos C] times W3
// with its rows scaled by cos β and sin β: one Gemm over constants. ONNX
// Runtime folds the constants once, at load; each frame runs two layers
// instead of four and one sine instead of two. Each layer's latent row is
// its Gemm's bias, and the frame runs in tiles of rows that stay in cache.
// The sine and Gaussian activations run each frame use reverie's kernels
// when they loaded (see Kernels), unless c is Plain or Portable.
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
	w := c.weights()
	kern := !c.Plain && !c.Portable && kernelsLoaded()
	// Coordinates are baked in: x, y in [-1, 1] (x scaled by the aspect) and r.
	coords := make([]float32, 0, 3*c.Width*c.Height)
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
	man := &Manifest{
		Name:    "cppn-" + c.Look,
		Latent:  LatentSpec{Input: "z", Dim: c.LatentDim, Distribution: "normal"},
		Output:  OutputSpec{Name: "rgb", Layout: "NHWC", Range: [2]float32{0, 1}, DType: "float32", Width: c.Width, Height: c.Height},
		onnx:    c.graph(acts, w, coords, 0, c.Height, kern),
		kernels: kern,
	}
	if k := c.bandCount(); k > 1 {
		for i := range k {
			y0, y1 := i*c.Height/k, (i+1)*c.Height/k
			man.bands = append(man.bands, Band{ONNX: c.graph(acts, w, coords, y0, y1, kern), Y0: y0, Y1: y1})
		}
	}
	return man, nil
}

// bandCount is how many bands the Runner runs the frame in: one per core
// (at most split.MaxParts), each band at least cppnTile pixels.
func (c CPPN) bandCount() int {
	if c.Plain {
		return 1
	}
	k := c.Bands
	if k == 0 {
		k = min(runtime.GOMAXPROCS(0), split.MaxParts)
	}
	return max(1, min(k, c.Height, c.Width*c.Height/cppnTile))
}

// cppnWeights are the network's parameters, drawn from the seed in one
// place.
type cppnWeights struct {
	w, wz, b [][]float32 // per layer: [fanIn, h], [dim, h], [h]
	wo       []float32   // [h, 3]
}

func (c CPPN) weights() cppnWeights {
	rng := rand.New(rand.NewPCG(c.Seed, 0x6370706e))
	normal := gaussian(rng)
	n := len(CPPNLooks[c.Look])
	h := c.Hidden
	w := cppnWeights{w: make([][]float32, n), wz: make([][]float32, n), b: make([][]float32, n)}
	fanIn := 3
	for i := range n {
		// Unscaled N(0,1) weights, as classic CPPN art uses, push the units
		// into their non-linear range, which is where the detail comes from.
		std := 0.55
		if i == 0 {
			std = 1.2
		}
		w.w[i] = normal(fanIn*h, std)
		w.wz[i] = normal(c.LatentDim*h, 1.2/math.Sqrt(float64(c.LatentDim)))
		w.b[i] = normal(h, 0.3)
		fanIn = h
	}
	w.wo = normal(h*3, 2.0/math.Sqrt(float64(h)))
	return w
}

// graph writes the network for rows [y0, y1) of the frame: its output is
// those rows, [1, y1-y0, W, 3]. With kern, the activations run each frame
// use reverie's kernels; the constant part ONNX Runtime folds at load
// keeps ONNX's own operators, which it can fold.
func (c CPPN) graph(acts []string, wt cppnWeights, coords []float32, y0, y1 int, kern bool) []byte {
	g := onnxpb.NewGraph("cppn")
	z := g.Input("z", onnxpb.Float, 1, int64(c.LatentDim))
	h := int64(c.Hidden)
	layers := make([]cppnLayer, len(acts))
	fanIn := int64(3)
	for i := range acts {
		l := &layers[i]
		l.w = g.Const("", []int64{fanIn, h}, wt.w[i])
		l.b = g.Const("", []int64{1, h}, wt.b[i])
		if i == 0 {
			l.bias = l.b // the first layer takes no z
		} else {
			// The latent's part, z·Wz + b: one row shared by every pixel.
			l.bias = g.Op("Add", []string{g.Op("MatMul", []string{z, g.Const("", []int64{int64(c.LatentDim), h}, wt.wz[i])}), l.b})
		}
		fanIn = h
	}
	rowsOut := int64(y1 - y0)
	W := c.Width

	if c.Plain {
		in := g.Const("coords", []int64{rowsOut * int64(W), 3}, coords[3*y0*W:3*y1*W])
		for i, act := range acts {
			in = activation(g, act, g.Op("Add", []string{g.Op("MatMul", []string{in, layers[i].w}), layers[i].bias}), false)
		}
		rgb := g.Op("Sigmoid", []string{g.Op("MatMul", []string{in, g.Const("", []int64{h, 3}, wt.wo)})})
		g.OpTo("rgb", "Reshape", []string{rgb, g.Ints(1, rowsOut, int64(W), 3)})
	} else {
		// The output layer runs transposed, [3, h]·[h, pixels]: MLAS uses
		// its kernel far better for three rows than for three columns, and
		// transposing the small result back costs less than the difference.
		woT := make([]float32, 3*h)
		for i := range h {
			for c := range 3 {
				woT[int64(c)*h+i] = wt.wo[i*3+int64(c)]
			}
		}
		outW := g.Const("", []int64{3, h}, woT)
		noBias := g.Const("", []int64{3, 1}, make([]float32, 3))
		// The third layer's weights for the expanded sine: W3's rows scaled
		// by cos β, then by sin β, stacked ([2h, h]).
		beta := g.Op("Reshape", []string{layers[1].bias, g.Ints(h, 1)})
		w3 := g.Op("Concat", []string{
			g.Op("Mul", []string{g.Op("Cos", []string{beta}), layers[2].w}),
			g.Op("Mul", []string{g.Op("Sin", []string{beta}), layers[2].w}),
		}, onnxpb.AttrInt("axis", 0))
		// Tiles of whole rows run the layers one after another while their
		// activations are still in cache; ONNX Runtime runs the nodes in
		// the order they are added. Each tile lands in its rows of the
		// output, which the last Concat writes in place.
		rows := max(1, cppnTile/W)
		var tiles []string
		for t0 := y0; t0 < y1; t0 += rows {
			t1 := min(y1, t0+rows)
			xyr := g.Const("", []int64{int64((t1 - t0) * W), 3}, coords[3*t0*W:3*t1*W])
			// Constants: folded by ONNX Runtime when the session loads.
			h0 := activation(g, acts[0], g.Op("Gemm", []string{xyr, layers[0].w, layers[0].b}), false)
			pre := g.Op("MatMul", []string{h0, layers[1].w}) // C; β holds b
			sc := g.Op("Concat", []string{g.Op("Sin", []string{pre}), g.Op("Cos", []string{pre})}, onnxpb.AttrInt("axis", 1))
			// Each frame.
			in := activation(g, acts[2], g.Op("Gemm", []string{sc, w3, layers[2].bias}), kern)
			for i := 3; i < len(acts); i++ {
				in = activation(g, acts[i], g.Op("Gemm", []string{in, layers[i].w, layers[i].bias}), kern)
			}
			rgb := g.Op("Sigmoid", []string{g.Op("Gemm", []string{outW, in, noBias}, onnxpb.AttrInt("transB", 1))})
			rgb = g.Op("Transpose", []string{rgb}, onnxpb.AttrInts("perm", 1, 0))
			tiles = append(tiles, g.Op("Reshape", []string{rgb, g.Ints(1, int64(t1-t0), int64(W), 3)}))
		}
		if len(tiles) == 1 {
			g.OpTo("rgb", "Identity", tiles)
		} else {
			g.OpTo("rgb", "Concat", tiles, onnxpb.AttrInt("axis", 1))
		}
	}
	g.Output("rgb", onnxpb.Float, 1, rowsOut, int64(W), 3)
	g.Metadata("reverie.kind", "cppn")
	g.Metadata("reverie.look", c.Look)
	g.Metadata("reverie.seed", fmt.Sprint(c.Seed))
	return g.Model("reverie", Version)
}

// cppnLayer is one dense layer's weights (w), its own bias (b) and its
// bias with the latent's part added (bias).
type cppnLayer struct{ w, b, bias string }

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

// activation applies a look's activation to x, through reverie's kernels
// with kern. tanh stays ONNX's: ONNX Runtime fuses it into the Gemm
// before it and vectorises it.
func activation(g *onnxpb.Graph, act, x string, kern bool) string {
	switch act {
	case "sin":
		if kern {
			return kernelOp(g, "Sine", x)
		}
		return g.Op("Sin", []string{x})
	case "gauss": // exp(-x²)
		if kern {
			return kernelOp(g, "Gauss", x)
		}
		return g.Op("Exp", []string{g.Op("Neg", []string{g.Op("Mul", []string{x, x})})})
	default:
		return g.Op("Tanh", []string{x})
	}
}

// ONNX returns the model bytes of a built-in manifest, or nil.
func (m *Manifest) ONNX() []byte { return m.onnx }

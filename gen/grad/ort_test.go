package grad

import (
	"fmt"
	"math"
	"math/rand"
	"os"
	"testing"

	ort "github.com/yalue/onnxruntime_go"

	"reverie/gen"
	"reverie/gen/onnxpb"
)

func TestMain(m *testing.M) {
	if _, err := gen.Init(""); err != nil {
		println(err.Error())
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// session runs one ONNX model in ONNX Runtime on one thread.
type session struct {
	s       *ort.DynamicAdvancedSession
	inputs  []string
	outputs []string
}

func newSession(tb testing.TB, model []byte, inputs, outputs []string) *session {
	tb.Helper()
	return newSessionThreads(tb, model, inputs, outputs, 1)
}

// newSessionThreads is newSession with intra-op threads set (0 lets ONNX
// Runtime choose: one per physical core) and session config entries.
func newSessionThreads(tb testing.TB, model []byte, inputs, outputs []string, threads int, config ...[2]string) *session {
	tb.Helper()
	opts, err := ort.NewSessionOptions()
	if err != nil {
		tb.Fatal(err)
	}
	defer opts.Destroy()
	if err := opts.SetIntraOpNumThreads(threads); err != nil {
		tb.Fatal(err)
	}
	for _, kv := range config {
		if err := opts.AddSessionConfigEntry(kv[0], kv[1]); err != nil {
			tb.Fatal(err)
		}
	}
	if err := opts.SetInterOpNumThreads(1); err != nil {
		tb.Fatal(err)
	}
	// REVERIE_ORT_OPT=extended leaves out the layout (NCHWc) optimisations.
	if os.Getenv("REVERIE_ORT_OPT") == "extended" {
		if err := opts.SetGraphOptimizationLevel(ort.GraphOptimizationLevelEnableExtended); err != nil {
			tb.Fatal(err)
		}
	}
	// REVERIE_ORT_PROFILE=prefix writes ONNX Runtime's per-node timings.
	if p := os.Getenv("REVERIE_ORT_PROFILE"); p != "" {
		if err := opts.EnableProfiling(p); err != nil {
			tb.Fatal(err)
		}
	}
	s, err := ort.NewDynamicAdvancedSessionWithONNXData(model, inputs, outputs, opts)
	if err != nil {
		tb.Fatalf("ONNX Runtime refused the model: %v", err)
	}
	tb.Cleanup(func() { s.Destroy() })
	return &session{s, inputs, outputs}
}

// tensorIn is one input's data and shape.
type tensorIn struct {
	shape []int64
	data  []float32
}

// run returns every output's values and shape.
func (s *session) run(tb testing.TB, ins ...tensorIn) ([][]float32, [][]int64) {
	tb.Helper()
	vals := make([]ort.Value, len(ins))
	for i, in := range ins {
		t, err := ort.NewTensor(ort.NewShape(in.shape...), in.data)
		if err != nil {
			tb.Fatal(err)
		}
		defer t.Destroy()
		vals[i] = t
	}
	outs := make([]ort.Value, len(s.outputs))
	if err := s.s.Run(vals, outs); err != nil {
		tb.Fatalf("run: %v", err)
	}
	data := make([][]float32, len(outs))
	shapes := make([][]int64, len(outs))
	for i, o := range outs {
		defer o.Destroy()
		t, ok := o.(*ort.Tensor[float32])
		if !ok {
			tb.Fatalf("output %s is not float32", s.outputs[i])
		}
		data[i] = append([]float32(nil), t.GetData()...)
		shapes[i] = append([]int64(nil), t.GetShape()...)
	}
	return data, shapes
}

// net is a small random test network under construction.
type net struct {
	g *onnxpb.Graph
	r *rand.Rand
}

// weights is a random constant with values in ±scale.
func (n *net) weights(scale float32, dims ...int64) string {
	size := int64(1)
	for _, d := range dims {
		size *= d
	}
	v := make([]float32, size)
	for i := range v {
		v[i] = scale * (2*n.r.Float32() - 1)
	}
	return n.g.Const("", dims, v)
}

// gradCase is one finite-difference check: a network from input "x" to a
// layer, the size the input is run at, and the objective.
type gradCase struct {
	name     string
	decl     []int64 // declared input dims; onnxpb.Dynamic for dynamic ones
	run      []int64 // the input's size at run time; nil: decl
	build    func(n *net, x string) string
	channels []int64
	axis     int
	samples  int  // input elements checked; 0: all, up to 64
	static   bool // build with Options.Shape fixed to the run size
}

// Tolerances for float32 central differences: step h on inputs in ±1; a
// gradient element passes when |g - fd| ≤ relTol·max(|g|, |fd|) + absTol·
// max|fd| over the checked elements. Elements where differences with steps
// h and h/2 disagree straddle a kink (Relu, Clip, MaxPool's argmax) and are
// skipped, at most a quarter of them.
const (
	fdStep = 1e-2
	relTol = 2e-2
	absTol = 2e-3
)

func checkGradient(t *testing.T, c gradCase) {
	t.Helper()
	r := rand.New(rand.NewSource(int64(len(c.name)) * 7919))
	n := &net{g: onnxpb.NewGraph(c.name), r: r}
	x := n.g.Input("x", onnxpb.Float, c.decl...)
	layer := c.build(n, x)
	n.g.OutputInfo(layer, onnxpb.Float, nil, nil)
	model := n.g.Model("test", "1")

	dims := c.run
	if dims == nil {
		dims = c.decl
	}
	opts := Options{Layer: layer, Channels: c.channels, ChannelAxis: c.axis}
	if c.static {
		opts.Shape = dims
	}
	gm, err := Build(model, opts)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	size := 1
	for _, d := range dims {
		size *= int(d)
	}
	img := make([]float32, size)
	for i := range img {
		img[i] = 2*r.Float32() - 1
	}
	fwd := newSession(t, model, []string{"x"}, []string{layer})
	objective := func(v []float32) float64 {
		out, shapes := fwd.run(t, tensorIn{dims, v})
		return meanSquare(out[0], shapes[0], c.channels, c.axis)
	}
	bwd := newSession(t, gm, []string{"x"}, []string{ObjectiveName, GradientName})
	out, shapes := bwd.run(t, tensorIn{dims, img})
	if fmt.Sprint(shapes[1]) != fmt.Sprint(dims) {
		t.Fatalf("gradient shape %v, want the input's %v", shapes[1], dims)
	}
	f0 := objective(img)
	if got := float64(out[0][0]); math.Abs(got-f0) > 1e-4*math.Abs(f0)+1e-7 {
		t.Errorf("objective %g, forward model gives %g", got, f0)
	}
	g := out[1]

	idx := r.Perm(size)
	want := c.samples
	if want == 0 {
		want = 64
	}
	if want < len(idx) {
		idx = idx[:want]
	}
	fd := func(i int, h float32) float64 {
		v := append([]float32(nil), img...)
		v[i] = img[i] + h
		fp := objective(v)
		v[i] = img[i] - h
		fm := objective(v)
		return (fp - fm) / (2 * float64(h))
	}
	var checks []fdCheck
	scale := 0.0
	skipped := 0
	for _, i := range idx {
		d1, d2 := fd(i, fdStep), fd(i, fdStep/2)
		scale = math.Max(scale, math.Abs(d1))
		if math.Abs(d1-d2) > relTol*math.Max(math.Abs(d1), math.Abs(d2))+1e-6 {
			skipped++
			continue
		}
		checks = append(checks, fdCheck{i, d1, float64(g[i])})
	}
	if skipped > len(idx)/4 {
		t.Errorf("%d of %d elements look like kinks; the test input is badly placed", skipped, len(idx))
	}
	if scale == 0 {
		t.Fatal("every finite difference is zero: the test network does not reach the layer")
	}
	if bad := disagreeing(t, checks, relTol, absTol*scale); bad > 0 {
		t.Errorf("%d of %d elements disagree", bad, len(checks))
	}
}

// meanSquare is the objective computed in Go from the forward model's layer.
// An fdCheck is one element's gradient gv against its finite difference fd.
type fdCheck struct {
	i      int
	fd, gv float64
}

// disagreeing counts the checks whose gradient and finite difference differ
// by more than rel of the larger plus abs, reporting the first five.
func disagreeing(t *testing.T, checks []fdCheck, rel, abs float64) int {
	t.Helper()
	bad := 0
	for _, c := range checks {
		if math.Abs(c.gv-c.fd) > rel*math.Max(math.Abs(c.gv), math.Abs(c.fd))+abs {
			if bad < 5 {
				t.Errorf("element %d: gradient %.6g, central difference %.6g", c.i, c.gv, c.fd)
			}
			bad++
		}
	}
	return bad
}

func meanSquare(v []float32, shape []int64, channels []int64, axis int) float64 {
	if len(channels) == 0 {
		s := 0.0
		for _, x := range v {
			s += float64(x) * float64(x)
		}
		return s / float64(len(v))
	}
	if axis < 0 {
		axis += len(shape)
	}
	inner := int64(1)
	for _, d := range shape[axis+1:] {
		inner *= d
	}
	c := shape[axis]
	keep := map[int64]bool{}
	for _, ch := range channels {
		keep[ch] = true
	}
	s, count := 0.0, 0
	for i, x := range v {
		if keep[(int64(i)/inner)%c] {
			s += float64(x) * float64(x)
			count++
		}
	}
	return s / float64(count)
}

package gen

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ort "github.com/yalue/onnxruntime_go"

	"reverie/gen/onnxpb"
)

// requireKernels fails the test when the kernels library did not load:
// make test runs scripts/setup.sh, which builds it.
func requireKernels(t *testing.T) string {
	t.Helper()
	p, err := Kernels()
	if err != nil {
		t.Fatalf("reverie's kernels did not load: %v", err)
	}
	if p == "" {
		t.Fatalf("reverie's kernels were not found: run `make setup` (scripts/setup.sh builds %s)", projectKernels)
	}
	return p
}

// runKernel runs one kernel over x, shaped dims, in a session of its own.
// With inner, the kernel's input is another node's output, whose buffer
// ONNX Runtime may hand over as the kernel's output (the in-place loop);
// a graph input's never is (the loop from input to output).
func runKernel(t *testing.T, op string, inner bool, x []float32, dims ...int64) []float32 {
	t.Helper()
	g := onnxpb.NewGraph("kernel")
	in := g.Input("x", onnxpb.Float, dims...)
	if inner {
		in = g.Op("Mul", []string{in, g.Scalar(1)})
	}
	g.OpTo("y", "Identity", []string{kernelOp(g, op, in)})
	g.Output("y", onnxpb.Float, dims...)
	data := g.Model("reverie-test", Version)
	xt, err := ort.NewTensor(ort.NewShape(dims...), x)
	if err != nil {
		t.Fatal(err)
	}
	defer xt.Destroy()
	yt, err := ort.NewEmptyTensor[float32](ort.NewShape(dims...))
	if err != nil {
		t.Fatal(err)
	}
	defer yt.Destroy()
	opts, _, _, err := sessionOptions(SessionConfig{Provider: "cpu"})
	if err != nil {
		t.Fatal(err)
	}
	defer opts.Destroy()
	s, err := ort.NewAdvancedSessionWithONNXData(data, []string{"x"}, []string{"y"}, []ort.Value{xt}, []ort.Value{yt}, opts)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	defer s.Destroy()
	if err := s.Run(); err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	return append([]float32(nil), yt.GetData()...)
}

// kernelInputs is a dense sweep over the range the CPPN's layers reach,
// every multiple of π/2 near it (where the reduction switches), and the
// edges: zeros, tiny and huge values, the fast path's limit, Inf and NaN.
func kernelInputs() []float32 {
	var x []float32
	for i := -200000; i <= 200000; i++ {
		x = append(x, float32(i)*2.5e-4) // -50 .. 50
	}
	for k := -64; k <= 64; k++ {
		v := float32(float64(k) * math.Pi / 2)
		x = append(x, v, math.Nextafter32(v, -100), math.Nextafter32(v, 100))
	}
	inf := float32(math.Inf(1))
	x = append(x, 0, float32(math.Copysign(0, -1)), 1e-30, -1e-30, 1e-45, 9.3, 9.4, 9.5, 13.1, 13.2,
		9999, 10000, 10001, -10001, 123456.7, 1e20, -1e20, math.MaxFloat32, -math.MaxFloat32, inf, -inf, float32(math.NaN()))
	for len(x)%8 != 3 { // an odd tail after the vector loop
		x = append(x, 0.5)
	}
	return x
}

// The sine kernel is the sine, to within 2.5e-7 where the CPPN's values
// lie and the C library's beyond; Inf and NaN give NaN.
func TestKernelSine(t *testing.T) {
	requireKernels(t)
	for _, inner := range []bool{false, true} {
		t.Run(fmt.Sprintf("inner=%v", inner), func(t *testing.T) { checkSine(t, inner) })
	}
}

func checkSine(t *testing.T, inner bool) {
	x := kernelInputs()
	y := runKernel(t, "Sine", inner, x, int64(len(x)))
	worst, at := 0.0, float32(0)
	for i, v := range x {
		want := math.Sin(float64(v))
		got := float64(y[i])
		if math.IsInf(float64(v), 0) || math.IsNaN(float64(v)) {
			if !math.IsNaN(got) {
				t.Errorf("Sine(%v) = %v, want NaN", v, got)
			}
			continue
		}
		tol := 2.5e-7
		if math.Abs(float64(v)) > 1e4 {
			tol = 1e-6 // the C library's sinf, rounded to float32
		}
		if d := math.Abs(got - want); d > tol {
			t.Errorf("Sine(%v) = %v, want %v (off by %.3g)", v, got, want, d)
		} else if d > worst {
			worst, at = d, v
		}
		if v == 0 && math.Signbit(float64(v)) != math.Signbit(got) {
			t.Errorf("Sine(%v) = %v: the sign of zero is lost", v, got)
		}
	}
	t.Logf("%d values; worst error %.3g at %v", len(x), worst, at)
}

// The Gauss kernel is exp(-x²) with x² rounded to float32, as ONNX's
// Mul, Neg and Exp compute it: within 1e-6 relative (1e-37 absolute where
// it underflows). NaN stays NaN and ±Inf give 0.
func TestKernelGauss(t *testing.T) {
	requireKernels(t)
	for _, inner := range []bool{false, true} {
		t.Run(fmt.Sprintf("inner=%v", inner), func(t *testing.T) { checkGauss(t, inner) })
	}
}

func checkGauss(t *testing.T, inner bool) {
	x := kernelInputs()
	y := runKernel(t, "Gauss", inner, x, int64(len(x)))
	worst := 0.0
	for i, v := range x {
		got := float64(y[i])
		if math.IsNaN(float64(v)) {
			if !math.IsNaN(got) {
				t.Errorf("Gauss(NaN) = %v, want NaN", got)
			}
			continue
		}
		want := math.Exp(-float64(v * v))
		d := math.Abs(got - want)
		if d > 1e-6*want+1e-37 || got < 0 {
			t.Errorf("Gauss(%v) = %v, want %v", v, got, want)
		}
		if want > 1e-30 {
			worst = max(worst, d/want)
		}
	}
	t.Logf("%d values; worst relative error %.3g", len(x), worst)
}

// A kernel keeps its input's shape, empty tensors included.
func TestKernelShapes(t *testing.T) {
	requireKernels(t)
	x := make([]float32, 2*3*5)
	for i := range x {
		x[i] = float32(i) - 14
	}
	y := runKernel(t, "Sine", true, x, 2, 3, 5)
	for i, v := range x {
		if d := math.Abs(float64(y[i]) - math.Sin(float64(v))); d > 2.5e-7 {
			t.Errorf("Sine over [2 3 5]: element %d is %v, want %v", i, y[i], math.Sin(float64(v)))
		}
	}
	if y := runKernel(t, "Gauss", false, []float32{}, 4, 0); len(y) != 0 {
		t.Errorf("Gauss over [4 0] gave %d values", len(y))
	}
}

// A file that is not the kernels library is refused with its path and
// what to do, and the models then build without the kernels.
func TestKernelsBadLibrary(t *testing.T) {
	bad := filepath.Join(t.TempDir(), KernelsFile)
	if err := os.WriteFile(bad, []byte("not a library"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := probeKernels(bad)
	if err == nil {
		t.Fatal("a text file was accepted as the kernels library")
	}
	if msg := err.Error(); !strings.Contains(msg, bad) || !strings.Contains(msg, "make setup") {
		t.Errorf("error %q: want the file's path and `make setup`", msg)
	}
}

// The built-in CPPN runs its per-frame activations on the kernels, and
// BuildModel's file uses ONNX's own operators only.
func TestCPPNUsesKernels(t *testing.T) {
	requireKernels(t)
	for _, look := range LookNames() {
		c := DefaultCPPN(2, 64, 48)
		c.Look = look
		man, err := c.Build()
		if err != nil {
			t.Fatal(err)
		}
		if !man.kernels {
			t.Errorf("%s: the CPPN was built without the kernels", look)
		}
		m, err := onnxpb.Read(man.onnx)
		if err != nil {
			t.Fatal(err)
		}
		if m.Opset(KernelsDomain) != KernelsOpset {
			t.Errorf("%s: the model imports %s at %d, want %d", look, KernelsDomain, m.Opset(KernelsDomain), KernelsOpset)
		}
	}
	cfg := DefaultConfig()
	cfg.Model, cfg.Width, cfg.Height = "builtin:cppn", 64, 48
	out := filepath.Join(t.TempDir(), "cppn.onnx")
	if _, _, err := BuildModel(&cfg, out); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	m, err := onnxpb.Read(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range m.Graph.Nodes {
		if n.Domain != "" {
			t.Errorf("the built model file has a %s:%s node: other tools cannot open it", n.Domain, n.OpType)
		}
	}
	if _, _, err := ort.GetInputOutputInfoWithONNXData(data); err != nil {
		t.Errorf("ONNX Runtime without the kernels cannot open the built file: %v", err)
	}
}

// On a GPU provider the built-in CPPN keeps ONNX's own operators, which
// run on the GPU; the kernels would copy every tile to the CPU and back.
func TestCPPNOnGPUWithoutKernels(t *testing.T) {
	requireKernels(t)
	for provider, want := range map[string]bool{"": true, "cpu": true, "cuda": false, "tensorrt": false} {
		c := DefaultConfig()
		c.Model, c.Width, c.Height, c.Provider = "builtin:cppn", 64, 48, provider
		man, err := c.Manifest()
		if err != nil {
			t.Fatal(err)
		}
		if man.kernels != want {
			t.Errorf("provider %q: the CPPN uses the kernels: %v, want %v", provider, man.kernels, want)
		}
	}
}

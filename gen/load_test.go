package gen

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"reverie/gen/onnxpb"
)

// imageModel is a tiny generator whose output is a fixed picture plus 0·z,
// so every converted pixel can be checked. A cast makes float16 or uint8.
func imageModel(layout, dtype string, w, h int, px func(c, x, y int) float32) []byte {
	g := onnxpb.NewGraph("fixed")
	z := g.Input("z", onnxpb.Float, 1, 1)
	dims := []int64{1, 3, int64(h), int64(w)}
	if layout == "NHWC" {
		dims = []int64{1, int64(h), int64(w), 3}
	}
	data := make([]float32, 3*w*h)
	for c := 0; c < 3; c++ {
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				i := c*w*h + y*w + x
				if layout == "NHWC" {
					i = (y*w+x)*3 + c
				}
				data[i] = px(c, x, y)
			}
		}
	}
	out := g.Op("Add", []string{g.Const("", dims, data), g.Op("Mul", []string{z, g.Scalar(0)})})
	dt := onnxpb.Float
	switch dtype {
	case "float16":
		dt = onnxpb.Float16
		out = g.Op("Cast", []string{out}, onnxpb.AttrInt("to", int64(dt)))
	case "uint8":
		dt = onnxpb.Uint8
		out = g.Op("Cast", []string{out}, onnxpb.AttrInt("to", int64(dt)))
	}
	g.OpTo("image", "Identity", []string{out})
	g.Output("image", dt, dims...)
	return g.Model("test", "0")
}

// writeModel saves a model and its manifest in dir and returns the manifest path.
func writeModel(t *testing.T, dir, name string, onnx []byte, man Manifest) string {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name+".onnx"), onnx, 0o644); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name+".yaml")
	if err := man.Write(p, name+".onnx"); err != nil {
		t.Fatal(err)
	}
	return p
}

func fixedManifest(layout, dtype string, lo, hi float32, w, h int) Manifest {
	return Manifest{
		Name:   "fixed",
		Latent: LatentSpec{Input: "z", Dim: 1, Distribution: "normal"},
		Output: OutputSpec{Name: "image", Layout: layout, Range: [2]float32{lo, hi}, DType: dtype, Width: w, Height: h},
	}
}

// Every layout, dtype and range a user's export may have converts to the
// same RGBA picture.
func TestOutputConversions(t *testing.T) {
	const w, h = 7, 5
	// The reference picture in [0, 1]: a different ramp per channel.
	ref := func(c, x, y int) float64 {
		return []float64{float64(x) / (w - 1), float64(y) / (h - 1), float64((x+y)%3) / 2}[c]
	}
	cases := []struct {
		layout, dtype string
		lo, hi        float32
	}{
		{"NCHW", "float32", -1, 1},
		{"NHWC", "float32", 0, 1},
		{"NCHW", "float32", 0, 255},
		{"NCHW", "float16", -1, 1},
		{"NHWC", "float16", 0, 1},
		{"NHWC", "uint8", 0, 255},
		{"NCHW", "uint8", 0, 255},
		{"NCHW", "uint8", 0, 510}, // a range that is not the byte range scales
	}
	dir := t.TempDir()
	for _, tc := range cases {
		name := tc.layout + "-" + tc.dtype
		px := func(c, x, y int) float32 {
			v := float32(ref(c, x, y))*(tc.hi-tc.lo) + tc.lo
			if tc.dtype == "uint8" {
				v = float32(math.Round(float64(v) / float64(tc.hi) * 255))
				if tc.hi == 510 {
					v *= 2
					v = min(v, 255)
				}
			}
			return v
		}
		p := writeModel(t, dir, name, imageModel(tc.layout, tc.dtype, w, h, px), fixedManifest(tc.layout, tc.dtype, tc.lo, tc.hi, w, h))
		man, err := LoadManifest(p)
		if err != nil {
			t.Fatal(err)
		}
		m, _, err := Load(man, SessionConfig{Provider: "cpu"})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		dst := make([]byte, 4*w*h)
		if err := m.Run([]float32{0.3}, dst); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		m.Close()
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				for c := 0; c < 4; c++ {
					want := 255.0
					if c < 3 {
						want = math.Round(ref(c, x, y) * 255)
						if tc.hi == 510 {
							want = math.Round(math.Min(math.Round(ref(c, x, y)*255)*2, 255) / 2)
						}
					}
					if got := float64(dst[4*(y*w+x)+c]); math.Abs(got-want) > 1 {
						t.Errorf("%s: pixel (%d,%d) channel %d = %v, want %v", name, x, y, c, got, want)
					}
				}
			}
		}
	}
}

func TestHalfToFloat(t *testing.T) {
	for h, want := range map[uint16]float32{0x3c00: 1, 0xbc00: -1, 0x3800: 0.5, 0x0000: 0, 0x7bff: 65504, 0x0001: 5.9604645e-08} {
		if got := onnxpb.HalfToFloat(h); got != want {
			t.Errorf("onnxpb.HalfToFloat(%#04x) = %v, want %v", h, got, want)
		}
	}
	if v := onnxpb.HalfToFloat(0x7c00); !math.IsInf(float64(v), 1) {
		t.Errorf("onnxpb.HalfToFloat(0x7c00) = %v, want +Inf", v)
	}
}

// A model whose output has NaN or Inf is refused with the file named, for
// each output dtype that can carry them.
func TestNonFiniteOutput(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]struct {
		dtype string
		op    func(g *onnxpb.Graph) string
	}{
		"log-negative": {"float32", func(g *onnxpb.Graph) string { return g.Op("Log", []string{g.Scalar(-1)}) }},
		"zero-by-zero": {"float32", func(g *onnxpb.Graph) string { return g.Op("Div", []string{g.Scalar(0), g.Scalar(0)}) }},
		"one-by-zero":  {"float32", func(g *onnxpb.Graph) string { return g.Op("Div", []string{g.Scalar(1), g.Scalar(0)}) }},
		"half-inf":     {"float16", func(g *onnxpb.Graph) string { return g.Op("Div", []string{g.Scalar(1), g.Scalar(0)}) }},
	}
	for name, tc := range cases {
		g := onnxpb.NewGraph("bad")
		z := g.Input("z", onnxpb.Float, 1, 1)
		// A mostly fine picture with one bad value in the middle of channel 1.
		img := make([]float32, 3*4*4)
		mask := make([]float32, 3*4*4)
		mask[16+5] = 1
		bad := g.Op("Mul", []string{tc.op(g), g.Const("", []int64{1, 3, 4, 4}, mask)})
		// mask·bad is NaN where mask is 0 too (0·Inf); keep only the masked
		// element with Where.
		sel := g.Op("Where", []string{g.Op("Cast", []string{g.Const("", []int64{1, 3, 4, 4}, mask)}, onnxpb.AttrInt("to", 9)), bad, g.Const("", []int64{1, 3, 4, 4}, img)})
		out := g.Op("Add", []string{sel, g.Op("Mul", []string{z, g.Scalar(0)})})
		dt := onnxpb.Float
		if tc.dtype == "float16" {
			dt = onnxpb.Float16
			out = g.Op("Cast", []string{out}, onnxpb.AttrInt("to", int64(dt)))
		}
		g.OpTo("image", "Identity", []string{out})
		g.Output("image", dt, 1, 3, 4, 4)
		p := writeModel(t, dir, name, g.Model("test", "0"), fixedManifest("NCHW", tc.dtype, -1, 1, 4, 4))
		man, err := LoadManifest(p)
		if err != nil {
			t.Fatal(err)
		}
		m, _, err := Load(man, SessionConfig{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		err = m.Run([]float32{0}, make([]byte, 4*4*4))
		m.Close()
		if !errors.Is(err, ErrNonFinite) || !strings.Contains(err.Error(), name+".onnx") {
			t.Errorf("%s: got %v, want ErrNonFinite naming %s.onnx", name, err, name)
		}
	}
}

// Each broken model is a clear error naming the file and the problem.
func TestBadModels(t *testing.T) {
	dir := t.TempDir()
	good := imageModel("NCHW", "float32", 8, 8, func(c, x, y int) float32 { return 0 })
	goodMan := fixedManifest("NCHW", "float32", -1, 1, 8, 8)

	notONNX := filepath.Join(dir, "notes.onnx")
	os.WriteFile(notONNX, []byte("these are my notes, not a model\n"), 0o644)
	notONNXMan := filepath.Join(dir, "notes.yaml")
	goodMan.Write(notONNXMan, "notes.onnx")

	missingMan := filepath.Join(dir, "gone.yaml")
	goodMan.Write(missingMan, "gone.onnx")

	wrongLatent := goodMan
	wrongLatent.Latent = LatentSpec{Input: "latent", Dim: 512}
	wrongLayout := goodMan
	wrongLayout.Output.Layout = "NHWC"
	wrongType := goodMan
	wrongType.Output.DType = "uint8"
	wrongSize := goodMan
	wrongSize.Output.Width = 16

	cases := []struct {
		name, manifest string
		want           []string
	}{
		{"missing manifest", filepath.Join(dir, "nothing.yaml"), []string{"nothing.yaml", "no such file"}},
		{"missing model", missingMan, []string{"gone.onnx", "no such file"}},
		{"not onnx", notONNXMan, []string{"notes.onnx", "not a readable ONNX model"}},
		{"latent name", writeModel(t, dir, "latent", good, wrongLatent), []string{"latent.onnx", `latent input "latent"`, `"z"`}},
		{"layout", writeModel(t, dir, "layout", good, wrongLayout), []string{"layout.onnx", `output "image"`, "shape"}},
		{"dtype", writeModel(t, dir, "dtype", good, wrongType), []string{"dtype.onnx", "manifest says uint8"}},
		{"size", writeModel(t, dir, "size", good, wrongSize), []string{"size.onnx", "[1 3 8 16]"}},
	}
	for _, tc := range cases {
		c := DefaultConfig()
		c.Model = tc.manifest
		m, _, err := c.Open()
		if err == nil {
			m.Close()
			t.Errorf("%s: loaded without error", tc.name)
			continue
		}
		t.Logf("%s: %v", tc.name, err)
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", tc.name, err, w)
			}
		}
	}
}

// A provider this build lacks falls back to CPU with a warning that says so,
// and strict turns that into an error.
func TestProviderFallback(t *testing.T) {
	man, err := DefaultCPPN(1, 32, 32).Build()
	if err != nil {
		t.Fatal(err)
	}
	m, warn, err := Load(man, SessionConfig{Provider: "cuda", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	if m.Provider != "cpu" || !strings.Contains(string(warn), "cuda is not available") || !strings.Contains(string(warn), "running on cpu") {
		t.Errorf("provider %q, warning %q: want a cpu fallback that names cuda", m.Provider, warn)
	}
	t.Logf("warning: %s", warn)
	if err := m.Run(make([]float32, man.Latent.Dim), make([]byte, 4*32*32)); err != nil {
		t.Errorf("fallback session does not run: %v", err)
	}
	m.Close()

	_, _, err = Load(man, SessionConfig{Provider: "cuda", Strict: true})
	if err == nil || !strings.Contains(err.Error(), "generator.strict") || !strings.Contains(err.Error(), "cuda") {
		t.Errorf("strict: got %v, want an error naming cuda and generator.strict", err)
	}
	if _, _, err := Load(man, SessionConfig{Provider: "vulkan"}); err == nil || !strings.Contains(err.Error(), `"vulkan"`) {
		t.Errorf("unknown provider: got %v", err)
	}
}

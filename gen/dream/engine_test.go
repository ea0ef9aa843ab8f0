package dream

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"reverie/gen"
	"reverie/gen/networks"
)

func TestMain(m *testing.M) {
	if _, err := gen.Init(""); err != nil {
		println(err.Error())
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// soft is a picture like the live feedback before the dream: smooth colour
// fields, no edges (detail about 1).
func soft(w, h int) []byte {
	pix := make([]byte, 4*w*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			u, v := float64(x)/float64(w), float64(y)/float64(h)
			i := 4 * (y*w + x)
			pix[i] = byte(128 + 90*math.Sin(6*u+2*v))
			pix[i+1] = byte(128 + 90*math.Sin(4*v-3*u+1))
			pix[i+2] = byte(128 + 90*math.Cos(5*u*v+2))
			pix[i+3] = 255
		}
	}
	return pix
}

// detail is the mean |Laplacian| of luma (0..255).
func detail(pix []byte, w, h int) float64 {
	luma := func(x, y int) float64 {
		i := 4 * (y*w + x)
		return 0.299*float64(pix[i]) + 0.587*float64(pix[i+1]) + 0.114*float64(pix[i+2])
	}
	sum := 0.0
	for y := 1; y < h-1; y++ {
		for x := 1; x < w-1; x++ {
			sum += math.Abs(luma(x-1, y) + luma(x+1, y) + luma(x, y-1) + luma(x, y+1) - 4*luma(x, y))
		}
	}
	return sum / float64((w-2)*(h-2))
}

func posenet(t *testing.T) *Spec {
	t.Helper()
	s, err := PoseNet()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Small steps through PoseNet's Conv2d_7_pointwise raise the layer's energy
// step after step, and grow detail out of a soft picture, as DeepDream does.
func TestDreamRaisesObjectiveAndGrowsDetail(t *testing.T) {
	const w, h = 256, 144
	e, err := NewEngine(posenet(t), w, h, gen.SessionConfig{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	pic := soft(w, h)
	before := detail(pic, w, h)
	if err := e.Begin(pic); err != nil {
		t.Fatal(err)
	}
	prev := float32(-1)
	for i := 0; i < 8; i++ {
		if err := e.Step(Params{Step: 0.01, Layer: 6, Octaves: 1, OctaveScale: 1.4}); err != nil {
			t.Fatal(err)
		}
		// Objective is measured on the picture each step starts from.
		if i > 0 && !(e.Objective > prev) {
			t.Errorf("step %d: objective %g did not rise from %g", i, e.Objective, prev)
		}
		prev = e.Objective
	}
	for i := 0; i < 28; i++ {
		if err := e.Step(Params{Step: 0.02, Layer: 6, Octaves: 3, OctaveScale: 1.4, Jitter: 16}); err != nil {
			t.Fatal(err)
		}
	}
	out := make([]byte, 4*w*h)
	e.Dreamed(out)
	after := detail(out, w, h)
	t.Logf("detail %.2f → %.2f after 36 steps; objective %.3f", before, after, e.Objective)
	if after < 8 || after < 4*before {
		t.Errorf("detail %.2f after 36 steps from %.2f: the dream did not grow structure (want ≥ 8)", after, before)
	}
}

// Once every octave's session exists, a step allocates nothing on the Go
// side.
func TestStepAllocatesNothing(t *testing.T) {
	e, err := NewEngine(posenet(t), 128, 72, gen.SessionConfig{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if err := e.Begin(soft(128, 72)); err != nil {
		t.Fatal(err)
	}
	p := Params{Step: 0.02, Layer: 3, Octaves: 3, OctaveScale: 1.4, Jitter: 8}
	for i := 0; i < 3; i++ { // builds the three octaves' sessions
		if err := e.Step(p); err != nil {
			t.Fatal(err)
		}
	}
	// A live request past the network's last layer (the pass allows 32,
	// posenet has 13) dreams at the last layer instead of failing.
	if err := e.Step(Params{Step: 0.02, Layer: 31, Octaves: 1, OctaveScale: 1.4}); err != nil {
		t.Errorf("layer 32 of 13: %v; want it clamped to the last layer", err)
	}
	if err := e.Step(p); err != nil { // back to the measured layer's sessions
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if err := e.Step(p); err != nil {
			t.Fatal(err)
		}
	}
	res := make([]byte, 4*128*72)
	if n := testing.AllocsPerRun(6, func() {
		if err := e.Step(p); err != nil {
			t.Error(err)
		}
		e.Residual(res)
	}); n != 0 {
		t.Errorf("a dream step allocates %.0f times; want 0", n)
	}
}

// In lockstep the same picture, config and seed dream the same residual;
// another seed jitters differently.
func TestLockstepIsReproducible(t *testing.T) {
	c := DefaultConfig()
	c.Width, c.Height = 96, 64
	run := func(seed uint64) []byte {
		c.Seed = seed
		l := Start(c, true)
		defer l.Close()
		if err := l.Err(); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 2; i++ {
			copy(l.InputBuffer(), soft(96, 64))
			if err := l.Submit(Params{Step: 0.03, Layer: 5, Octaves: 2, OctaveScale: 1.4, Jitter: 8}); err != nil {
				t.Fatal(err)
			}
		}
		res := make([]byte, 4*96*64)
		if !l.Take(res) {
			t.Fatal("no residual after a lockstep submit")
		}
		return res
	}
	a, b, other := run(7), run(7), run(8)
	if !bytes.Equal(a, b) {
		t.Error("two lockstep dreams with the same seed differ")
	}
	if bytes.Equal(a, other) {
		t.Error("lockstep dreams with seeds 7 and 8 are identical: the jitter does not follow the seed")
	}
	flat := true
	for i := 0; i < len(a); i += 4 {
		flat = flat && a[i] == 128 && a[i+1] == 128 && a[i+2] == 128
	}
	if flat {
		t.Error("the residual is flat mid-grey: the dream changed nothing")
	}
}

// Live, the dream runs on its own goroutine: the display submits a picture
// and later takes a residual, never waiting. A residual is taken once.
func TestLiveHandsOver(t *testing.T) {
	c := DefaultConfig()
	c.Width, c.Height = 96, 64
	c.MaxStepMs = 0
	l := Start(c, false)
	defer l.Close()
	deadline := time.Now().Add(60 * time.Second) // loading on a busy machine
	for !l.Ready() {
		if err := l.Err(); err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal("the live dream did not become ready in 60 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	copy(l.InputBuffer(), soft(96, 64))
	if err := l.Submit(Params{Step: 0.03, Layer: 5, Octaves: 2, OctaveScale: 1.4, Jitter: 8}); err != nil {
		t.Fatal(err)
	}
	if l.Ready() {
		t.Error("ready for another picture before the first one's residual was taken")
	}
	buf := make([]byte, 4*96*64)
	var ok bool
	for !ok {
		if time.Now().After(deadline) {
			t.Fatal("no residual in 60 s")
		}
		ok = l.Take(buf)
		time.Sleep(5 * time.Millisecond)
	}
	if l.Take(make([]byte, len(buf))) {
		t.Error("the same residual was handed out twice")
	}
	if steps, _ := l.Stats(); steps == 0 {
		t.Error("stats count no steps after a residual")
	}
}

func TestBadNetworksAreNamed(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct{ text, want string }{
		{"model: x.onnx\ninput: data\nrange: [0, 1]\n", "layers: missing"},
		{"model: x.onnx\ninput: data\nlayers: [{tensor: a}]\n", "range: missing"},
		{"model: x.onnx\ninput: data\nlayout: CHW\nrange: [0, 1]\nlayers: [{tensor: a}]\n", `layout: "CHW"`},
		{"model: x.onnx\ninput: data\nmean: [1, 2]\nlayers: [{tensor: a}]\n", "mean: 2 values"},
		{"model: x.onnx\ninput: data\nchannels: bgra\nrange: [0, 1]\nlayers: [{tensor: a}]\n", `channels: "bgra"`},
		{"root:x:0:0:secret-line\n", "not a valid manifest"},
	}
	for _, c := range cases {
		_, err := Load(write("m.yaml", c.text))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "m.yaml") {
			t.Errorf("manifest %q: %v; want an error naming m.yaml and %q", c.text, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("the error quotes the file: %v", err)
		}
	}
	if _, err := Load("/dev/zero"); err == nil || !strings.Contains(err.Error(), "manifest file") {
		t.Errorf("/dev/zero as a manifest: %v; want a refusal", err)
	}

	// A layer the graph lacks is named at start.
	pn := posenet(t)
	m := write("pn.yaml", "model: "+pn.Model+"\ninput: image\nlayout: NHWC\nrange: [-1, 1]\nlayers:\n  - {name: deep, tensor: no/such/tensor}\n")
	spec, err := Load(m)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewEngine(spec, 64, 64, gen.SessionConfig{}, 1); err == nil || !strings.Contains(err.Error(), "no/such/tensor") || !strings.Contains(err.Error(), "deep") {
		t.Errorf("unknown layer: %v; want an error naming the layer and its tensor", err)
	}

	// Without set-up's networks the default says what to run.
	t.Setenv("REVERIE_NETWORKS", t.TempDir())
	if _, err := Load("posenet"); err == nil || !strings.Contains(err.Error(), "make setup") {
		t.Errorf("missing posenet: %v; want an error naming `make setup`", err)
	}
	if !strings.Contains(networks.Dir(), os.Getenv("REVERIE_NETWORKS")) {
		t.Error("REVERIE_NETWORKS is not honoured")
	}
}

// A user's network: its manifest's layout, channel order and normalisation
// map pixels in and changes back out.
func TestInputMapping(t *testing.T) {
	e := &Engine{Spec: &Spec{Layout: "NCHW", BGR: true, Mean: []float32{100, 110, 120}, Std: []float32{2, 4, 8}}}
	const w, h = 3, 2
	pic := make([]float32, 3*w*h)
	for i := range pic {
		pic[i] = float32(i%7) / 7
	}
	in := make([]float32, len(pic))
	e.fill(in, pic, w, h, 1, 0)
	// Input channel 0 is blue: pixel (0,0) of the input is (2,0) of the
	// picture, rolled by one.
	want := (pic[(0*w+2)*3+2]*255 - 100) / 2
	if in[0] != want {
		t.Errorf("NCHW BGR input[0] = %g, want %g (blue of the rolled pixel, mean and std applied)", in[0], want)
	}
	out := make([]float32, len(in))
	for i := range in {
		out[i] = in[i] + 1 // one unit of each input channel
	}
	delta := make([]float32, len(pic))
	e.change(delta, out, in, w, h, 1, 0)
	for px := 0; px < w*h; px++ {
		for c, std := range []float32{8, 4, 2} { // R came from input channel 2 (std 8)
			if d := delta[px*3+c]; math.Abs(float64(d-std/255)) > 1e-6 {
				t.Fatalf("pixel %d channel %d: change %g, want %g", px, c, d, std/255)
			}
		}
	}
}

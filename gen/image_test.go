package gen

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	ort "github.com/yalue/onnxruntime_go"

	"reverie/gen/onnxpb"
)

// mirrorModel returns its picture input as its image output, in one layout:
// an image model with no latent, whose every converted value can be checked.
func mirrorModel(layout string, w, h int) []byte {
	g := onnxpb.NewGraph("mirror")
	dims := []int64{1, 3, int64(h), int64(w)}
	if layout == "NHWC" {
		dims = []int64{1, int64(h), int64(w), 3}
	}
	g.Input("picture", onnxpb.Float, dims...)
	g.OpTo("image", "Identity", []string{"picture"})
	g.Output("image", onnxpb.Float, dims...)
	return g.Model("test", "0")
}

func mirrorManifest(layout string, lo, hi float32, w, h int) *Manifest {
	return &Manifest{
		Name:   "mirror",
		Image:  &ImageSpec{Input: "picture", Source: SourceCamera, Layout: layout, Range: [2]float32{lo, hi}, Width: w, Height: h},
		Output: OutputSpec{Name: "image", Layout: layout, Range: [2]float32{lo, hi}, DType: "float32", Width: w, Height: h},
	}
}

// loadMem loads a model held in memory, as the built-ins are.
func loadMem(t *testing.T, man *Manifest, onnx []byte) *Model {
	t.Helper()
	man.onnx = onnx
	if err := man.Validate(); err != nil {
		t.Fatal(err)
	}
	m, _, err := Load(man, SessionConfig{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Every layout × range of an image input: each value of the tensor is the
// picture's byte mapped onto the range, in the layout's order, and a model
// that returns its input gives the picture back. Grey (a silhouette) and
// RGBA pictures fill all three channels the same way, and a picture stored
// blue first (BGR, BGRA) comes back as the same RGB.
func TestImageInputLayoutsAndRanges(t *testing.T) {
	const w, h = 6, 4
	rgb := make([]byte, 3*w*h)
	for i := range rgb {
		rgb[i] = byte(i * 37 % 256)
	}
	grey := make([]byte, w*h)
	rgba := make([]byte, 4*w*h)
	for k := 0; k < w*h; k++ {
		grey[k] = byte(k * 11)
		copy(rgba[4*k:], rgb[3*k:3*k+3])
		rgba[4*k+3] = 7 // alpha is ignored
	}
	for _, layout := range []string{"NCHW", "NHWC"} {
		for _, rng := range [][2]float32{{0, 255}, {0, 1}, {-1, 1}} {
			name := fmt.Sprintf("%s %v", layout, rng)
			m := loadMem(t, mirrorManifest(layout, rng[0], rng[1], w, h), mirrorModel(layout, w, h))
			for _, p := range []Picture{{Pix: rgb, Width: w, Height: h, Channels: 3}, {Pix: grey, Width: w, Height: h, Channels: 1}, {Pix: rgba, Width: w, Height: h, Channels: 4}} {
				for _, stored := range []Picture{p, bgrOf(p)} {
					if err := m.SetImage(&stored); err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					checkMirror(t, m, fmt.Sprintf("%s, %d channels, BGR %v", name, p.Channels, stored.BGR), p)
				}
			}
			m.Close()
		}
	}
}

// checkMirror checks a mirror model's tensor and frame against p, the RGB
// picture it was last handed (in either channel order).
func checkMirror(t *testing.T, m *Model, name string, p Picture) {
	t.Helper()
	w, h, spec := p.Width, p.Height, m.Manifest.Image
	rgbOf := func(k, c int) byte { return p.Pix[k*p.Channels+min(c, p.Channels-1)] }
	data := m.image.GetData()
	for k := 0; k < w*h; k++ {
		for c := 0; c < 3; c++ {
			i := c*w*h + k
			if spec.Layout == "NHWC" {
				i = 3*k + c
			}
			lo, hi := spec.Range[0], spec.Range[1]
			want := lo + (hi-lo)*float32(rgbOf(k, c))/255
			if math.Abs(float64(data[i]-want)) > 1e-5*float64(hi-lo) {
				t.Fatalf("%s: pixel %d channel %d is %g in the tensor, want %g", name, k, c, data[i], want)
			}
		}
	}
	out := make([]byte, 4*w*h)
	if err := m.Run(nil, out); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	for k := 0; k < w*h; k++ {
		for c := 0; c < 3; c++ {
			if want := rgbOf(k, c); out[4*k+c] != want {
				t.Fatalf("%s: pixel %d channel %d came back %d, want %d", name, k, c, out[4*k+c], want)
			}
		}
	}
}

// A picture of another size and aspect than the model's input (a square
// camera frame into a 3:2 input) is cropped to the input's aspect about
// its middle and sampled to its size, through the runner: the frame shows
// the picture's pixels from the middle rows. Converting and running
// allocate nothing per frame.
func TestImageOfAnotherSize(t *testing.T) {
	const w, h, n = 6, 4, 12
	m := loadMem(t, mirrorManifest("NCHW", 0, 1, w, h), mirrorModel("NCHW", w, h))
	r := NewRunner(m)
	defer r.Close()
	pic := make([]byte, 3*n*n)
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			pic[3*(y*n+x)], pic[3*(y*n+x)+1], pic[3*(y*n+x)+2] = byte(20*x), byte(20*y), 100
		}
	}
	if err := r.SetImage(pic, n, n, 3); err != nil {
		t.Fatal(err)
	}
	f, err := r.Step(nil)
	if err != nil {
		t.Fatal(err)
	}
	// Cover: ×0.5, the 6×6 result cropped to rows 1..4, so input pixel
	// (x, y) samples the picture at (2x+1, 2y+3).
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			got := f.Pix[4*(y*w+x) : 4*(y*w+x)+3]
			if want := []byte{byte(20 * (2*x + 1)), byte(20 * (2*y + 3)), 100}; string(got) != string(want) {
				t.Fatalf("frame pixel %d,%d is %v, want the picture's %d,%d %v", x, y, got, 2*x+1, 2*y+3, want)
			}
		}
	}
	if err := r.SetImage(pic[:10], n, n, 3); err == nil || !strings.Contains(err.Error(), "expected 432") {
		t.Errorf("a short picture: %v", err)
	}
	allocs := testing.AllocsPerRun(10, func() {
		pic[0]++
		r.SetImage(pic, n, n, 3)
		r.Step(nil)
	})
	if allocs != 0 {
		t.Errorf("a picture and a frame allocate %.1f times; want none", allocs)
	}
}

// checkFrame checks that every pixel of f is red, green, blue as RGB.
func checkFrame(f *Frame, rgb []byte) error {
	for k := 0; k < f.Width*f.Height; k++ {
		if got := f.Pix[4*k : 4*k+3]; string(got) != string(rgb[3*k:3*k+3]) {
			return fmt.Errorf("frame %d pixel %d is %v, want %v", f.Seq, k, got, rgb[3*k:3*k+3])
		}
	}
	return nil
}

// The feeding goroutine fills the runner's next picture in place and
// hands it over, as the live display copies the watcher's newest camera
// picture into it: the picture, stored BGR as OpenCV keeps it, shows as
// the same RGB, and handing over and making a frame allocate nothing. A
// picture whose pixels do not match its size is refused and not handed
// over: the next frame still shows the last good picture.
func TestPictureHandOverInPlace(t *testing.T) {
	const w, h = 64, 48
	m := loadMem(t, mirrorManifest("NCHW", 0, 1, w, h), mirrorModel("NCHW", w, h))
	r := NewRunner(m)
	defer r.Close()
	rgb := Picture{Pix: make([]byte, 3*w*h), Width: w, Height: h, Channels: 3}
	for i := range rgb.Pix {
		rgb.Pix[i] = byte(i * 13)
	}
	camera := bgrOf(rgb)
	hand := func() error {
		r.PictureBack().CopyFrom(&camera)
		return r.PublishPicture()
	}
	for i := 0; i < 2; i++ {
		if err := hand(); err != nil {
			t.Fatal(err)
		}
		f, err := r.Step(nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := checkFrame(f, rgb.Pix); err != nil {
			t.Fatal(err)
		}
	}
	back := r.PictureBack()
	back.Pix = back.Pix[:10]
	if err := r.PublishPicture(); err == nil || !strings.Contains(err.Error(), "expected 9216") {
		t.Errorf("a short picture: %v", err)
	}
	if f, err := r.Step(nil); err != nil {
		t.Errorf("the frame after a refused picture: %v", err)
	} else if err := checkFrame(f, rgb.Pix); err != nil {
		t.Errorf("after a refused picture: %v", err)
	}
	allocs := testing.AllocsPerRun(10, func() {
		camera.Pix[0]++
		hand()
		r.Step(nil)
	})
	if allocs != 0 {
		t.Errorf("a picture handed over in place and a frame allocate %.1f times; want none", allocs)
	}
}

// One goroutine hands pictures over in place while the runner makes
// frames in its own (run with -race): each frame shows one whole picture
// in its colours, whether it was stored RGB or BGR, and each hand-over
// asks for a frame, as the latent never changes.
func TestPictureHandOverWhileRunning(t *testing.T) {
	const w, h, frames = 64, 48, 30
	m := loadMem(t, mirrorManifest("NCHW", 0, 1, w, h), mirrorModel("NCHW", w, h))
	r := NewRunner(m)
	defer r.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Add(2)
	go func() { defer wg.Done(); r.Run(ctx) }()
	refused := make(chan error, 1)
	go func() {
		defer wg.Done()
		for i := 0; ctx.Err() == nil; i++ {
			// Picture i is red v, green v^0x5a, blue 255-v: a frame
			// whose channels were swapped, or mixed from two pictures,
			// breaks the pattern.
			v := byte(i)
			p := r.PictureBack()
			if cap(p.Pix) < 3*w*h {
				p.Pix = make([]byte, 3*w*h)
			}
			p.Pix, p.Width, p.Height, p.Channels, p.BGR = p.Pix[:3*w*h], w, h, 3, i%2 == 1
			first, last := v, 255-v
			if p.BGR {
				first, last = last, first
			}
			for k := 0; k < w*h; k++ {
				p.Pix[3*k], p.Pix[3*k+1], p.Pix[3*k+2] = first, v^0x5a, last
			}
			if err := r.PublishPicture(); err != nil {
				refused <- err
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	seen := 0
	deadline := time.Now().Add(20 * time.Second)
	for seen < frames {
		select {
		case err := <-refused:
			t.Fatalf("a good picture was refused: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d frames in 20 s from pictures handed over, want %d", seen, frames)
		}
		f, ok := r.Latest()
		if !ok {
			time.Sleep(time.Millisecond)
			continue
		}
		seen++
		v := f.Pix[0]
		for k := 0; k < w*h; k++ {
			if px := f.Pix[4*k : 4*k+3]; px[0] != v || px[1] != v^0x5a || px[2] != 255-v {
				t.Fatalf("frame %d pixel %d is %v, want one picture's %v", f.Seq, k, px, []byte{v, v ^ 0x5a, 255 - v})
			}
		}
	}
}

// The built-in restyle network, run by ONNX Runtime, matches the same
// network computed here in plain Go from its weights, on a small picture.
func TestRestyleMatchesAGoComputation(t *testing.T) {
	rs := Restyle{Seed: 3, Width: 9, Height: 8, LatentDim: 3, Channels: 4, Source: SourceCamera}
	man, err := rs.Build()
	if err != nil {
		t.Fatal(err)
	}
	m, _, err := Load(man, SessionConfig{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	rng := rand.New(rand.NewPCG(5, 6))
	pic := make([]byte, 3*rs.Width*rs.Height)
	for i := range pic {
		pic[i] = byte(rng.IntN(256))
	}
	z := []float32{0.7, -1.2, 0.3}
	const strength = 0.7
	if err := m.SetInput("strength", strength); err != nil {
		t.Fatal(err)
	}
	if err := m.SetImage(&Picture{Pix: pic, Width: rs.Width, Height: rs.Height, Channels: 3}); err != nil {
		t.Fatal(err)
	}
	if err := m.Infer(z); err != nil {
		t.Fatal(err)
	}
	want := restyleInGo(rs, pic, z, strength)
	got := m.f32
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > 1e-5 {
			t.Fatalf("output %d: ONNX Runtime %g, Go %g", i, got[i], want[i])
		}
	}
	// The picture shows through: a brighter picture, a brighter frame.
	var lo, hi float64
	for i := range want {
		if pic[(i%(rs.Width*rs.Height))*3+i/(rs.Width*rs.Height)] > 128 {
			hi += float64(want[i])
		} else {
			lo += float64(want[i])
		}
	}
	if hi == 0 || lo == 0 {
		t.Errorf("the output follows none of the picture (bright sum %g, dark sum %g)", hi, lo)
	}
}

// restyleInGo is Restyle's network written out: NCHW, zero padding.
func restyleInGo(r Restyle, pic []byte, z []float32, strength float32) []float32 {
	wt := r.weights()
	W, H, C, D := r.Width, r.Height, r.Channels, r.LatentDim
	n := W * H
	x0 := make([]float32, 3*n)
	for k := 0; k < n; k++ {
		for c := 0; c < 3; c++ {
			x0[c*n+k] = float32(pic[3*k+c])/255 - 0.5
		}
	}
	conv := func(in []float32, cin, cout int, w, b []float32, k, dil int) []float32 {
		out := make([]float32, cout*n)
		pad := dil * (k / 2)
		for o := 0; o < cout; o++ {
			for y := 0; y < H; y++ {
				for x := 0; x < W; x++ {
					s := float64(b[o])
					for i := 0; i < cin; i++ {
						for ky := 0; ky < k; ky++ {
							for kx := 0; kx < k; kx++ {
								yy, xx := y+ky*dil-pad, x+kx*dil-pad
								if yy < 0 || yy >= H || xx < 0 || xx >= W {
									continue
								}
								s += float64(w[((o*cin+i)*k+ky)*k+kx]) * float64(in[i*n+yy*W+xx])
							}
						}
					}
					out[o*n+y*W+x] = float32(s)
				}
			}
		}
		return out
	}
	leaky := func(v []float32) {
		for i, x := range v {
			if x < 0 {
				v[i] = x * restyleLeak
			}
		}
	}
	x := conv(x0, 3, C, wt.w1, wt.b1, 3, 1)
	leaky(x)
	x = conv(x, C, C, wt.w2, wt.b2, 3, 2)
	leaky(x)
	for c := 0; c < C; c++ {
		s := float32(1)
		for d := 0; d < D; d++ {
			s += z[d] * wt.mod[d*C+c]
		}
		for k := 0; k < n; k++ {
			x[c*n+k] *= s
		}
	}
	paint := conv(x, C, 3, wt.w3, wt.b3, 1, 1)
	out := make([]float32, 3*n)
	for i := range out {
		v := float64(paint[i]*strength + x0[i]*restyleGain*(1-strength))
		out[i] = float32(1 / (1 + math.Exp(-v)))
	}
	return out
}

// dcganModel is a latent model with z shaped as an export gives it (such as
// [N, 100, 1, 1] with a named batch axis): z is flattened, mapped by a dense
// layer and tanh to a w×h NCHW picture.
func dcganModel(zdims []int64, params []string, dim, w, h int) []byte {
	g := onnxpb.NewGraph("dcgan")
	z := g.InputInfo("z", onnxpb.Float, zdims, params)
	flat := g.Op("Reshape", []string{z, g.Ints(1, int64(dim))})
	rng := rand.New(rand.NewPCG(1, 2))
	wts := make([]float32, dim*3*w*h)
	for i := range wts {
		wts[i] = float32(rng.NormFloat64())
	}
	x := g.Op("MatMul", []string{flat, g.Const("", []int64{int64(dim), int64(3 * w * h)}, wts)})
	x = g.Op("Tanh", []string{g.Op("Reshape", []string{x, g.Ints(1, 3, int64(h), int64(w))})})
	g.OpTo("image", "Identity", []string{x})
	g.OutputInfo("image", onnxpb.Float, []int64{-1, 3, int64(h), int64(w)}, []string{"N"})
	return g.Model("test", "0")
}

// Latent inputs as PyTorch exports them: a DCGAN's [N, 100, 1, 1] with a
// dynamic batch, [1, 100, 1, 1], [batch, 100] and [1, 100] all run, each
// from its own z (two latents give two pictures), and the inspection says
// what it assumed; shapes that cannot hold dim values after a batch of 1
// are refused, naming the shape.
func TestLatentShapesAsExported(t *testing.T) {
	const dim, w, h = 100, 8, 8
	man := func() *Manifest {
		return &Manifest{Name: "dcgan", Latent: LatentSpec{Input: "z", Dim: dim},
			Output: OutputSpec{Name: "image", Layout: "NCHW", Range: [2]float32{-1, 1}, Width: w, Height: h}}
	}
	for _, c := range []struct {
		dims   []int64
		params []string
		note   string
	}{
		{[]int64{-1, dim, 1, 1}, []string{"N"}, `latent input "z" [-1 100 1 1]: fed as [1 100 1 1] (the dynamic batch taken as 1)`},
		{[]int64{1, dim, 1, 1}, nil, ""},
		{[]int64{-1, dim}, []string{"batch"}, `fed as [1 100]`},
		{[]int64{1, dim}, nil, ""},
		{[]int64{1, -1, 1, 1}, []string{"", "nz"}, `fed as [1 100 1 1] (dynamic axis 1 fixed)`},
	} {
		m := loadMem(t, man(), dcganModel(c.dims, c.params, dim, w, h))
		ins, outs, err := ort.GetInputOutputInfoWithONNXData(m.Manifest.onnx)
		if err != nil {
			t.Fatal(err)
		}
		plan, err := compareIO(m.Manifest, ins, outs)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(plan.notes, "; "); c.note == "" && got != "" || !strings.Contains(got, c.note) {
			t.Errorf("z %v: notes %q, want %q", c.dims, got, c.note)
		}
		r := NewRunner(m)
		z := make([]float32, dim)
		z[3] = 1
		f1, err := r.Step(z)
		if err != nil {
			t.Fatalf("z %v: %v", c.dims, err)
		}
		a := string(f1.Pix)
		z[3] = -1
		f2, err := r.Step(z)
		if err != nil {
			t.Fatal(err)
		}
		if a == string(f2.Pix) {
			t.Errorf("z %v: two latents gave the same picture", c.dims)
		}
		r.Close()
	}
	for _, bad := range [][]int64{{1, 50, 1, 1}, {2, dim}, {1, -1, -1}} {
		mn := man()
		mn.onnx = dcganModel(bad, nil, dim, w, h)
		if bad[1] == 50 {
			mn.onnx = dcganModel(bad, nil, 50, w, h)
		}
		_, _, err := Load(mn, SessionConfig{Threads: 1})
		if err == nil || !strings.Contains(err.Error(), fmt.Sprint(bad)) {
			t.Errorf("z %v: %v, want a refusal naming the shape", bad, err)
		}
	}
}

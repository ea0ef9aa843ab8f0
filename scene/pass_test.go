package scene

import (
	"image/color"
	"math"
	"testing"

	"github.com/hajimehoshi/ebiten/v2"

	"reverie/shaders"
	"reverie/vision"
)

func TestEveryPassCompiles(t *testing.T) {
	if len(shaders.Names()) < 6 {
		t.Fatalf("embedded shaders %v: want warp, flow, dream, inject, color and output", shaders.Names())
	}
	for _, name := range shaders.Names() {
		if _, ok := lookupPass(name); !ok {
			t.Errorf("shaders/%s.kage has no pass definition", name)
		}
		onLoop(func() {
			p, err := NewPass(PassConfig{Pass: name})
			if err != nil {
				t.Error(err)
				return
			}
			p.Dispose()
		})
	}
}

// runPass seeds a one-pass chain with src and returns one step's pixels
// (all zero, with the test failed, when the chain cannot be built). It runs
// on the game loop, so it reports with t.Error, never t.Fatal.
func runPass(t *testing.T, pc PassConfig, src *ebiten.Image, in *Inputs) []byte {
	t.Helper()
	w, h := src.Bounds().Dx(), src.Bounds().Dy()
	pix := make([]byte, 4*w*h)
	chain, err := NewChain([]PassConfig{pc}, w, h)
	if err != nil {
		t.Error(err)
		return pix
	}
	defer chain.Dispose()
	for _, p := range chain.Passes {
		p.Set("Fade", 1)
	}
	chain.Seed(src)
	chain.Step(in).ReadPixels(pix)
	return pix
}

func dot(w, h, x0, y0, size int) *ebiten.Image {
	img := ebiten.NewImage(w, h)
	img.Fill(color.Black)
	for y := y0; y < y0+size; y++ {
		for x := x0; x < x0+size; x++ {
			img.Set(x, y, color.White)
		}
	}
	return img
}

// A zoom above 1 moves content outward from the centre: a bright dot right
// of centre ends up further right.
func TestWarpZoomMovesOutward(t *testing.T) {
	onLoop(func() {
		const w, h = 64, 64
		src := dot(w, h, 40, 30, 4)
		defer src.Deallocate()
		pix := runPass(t, PassConfig{Pass: "warp", Params: map[string]float64{"zoom": 1.2, "rotate": 0}}, src, &Inputs{})
		before := brightCentroid(readAll(src), w, h)
		after := brightCentroid(pix, w, h)
		want := w/2 + (before[0]-w/2)*1.2
		if math.Abs(after[0]-want) > 0.75 {
			t.Errorf("bright spot moved from x=%.1f to x=%.1f; a 1.2 zoom about the centre puts it at %.1f", before[0], after[0], want)
		}
	})
}

func TestColorDecayDarkens(t *testing.T) {
	onLoop(func() {
		src := ebiten.NewImage(32, 32)
		defer src.Deallocate()
		src.Fill(color.RGBA{200, 120, 60, 255})
		params := map[string]float64{"hue": 0, "saturation": 1, "gamma": 1, "decay": 0.1}
		pix := runPass(t, PassConfig{Pass: "color", Params: params}, src, &Inputs{})
		for c, want := range []float64{180, 108, 54} {
			if got := float64(pix[4*(16*32+16)+c]); math.Abs(got-want) > 1.5 {
				t.Errorf("channel %d: %v after a 0.1 decay of %v, want %v", c, got, want/0.9, want)
			}
		}
		params["decay"] = 0
		pix = runPass(t, PassConfig{Pass: "color", Params: params}, src, &Inputs{})
		if got := pix[4*(16*32+16)]; got < 199 {
			t.Errorf("no decay still darkened red 200 to %d", got)
		}
	})
}

func TestInjectFullMixIsTheGeneratorFrame(t *testing.T) {
	onLoop(func() {
		const w, h = 48, 32
		fb := dot(w, h, 10, 10, 8)
		defer fb.Deallocate()
		frame := ebiten.NewImage(w, h)
		defer frame.Deallocate()
		want := make([]byte, 4*w*h)
		for i := 0; i < w*h; i++ {
			want[4*i], want[4*i+1], want[4*i+2], want[4*i+3] = byte(i*7), byte(i/w*8), byte(255-i%w*5), 255
		}
		frame.WritePixels(want)
		aud := ebiten.NewImage(w, h)
		defer aud.Deallocate()
		in := &Inputs{GenOlder: frame, GenNewer: frame, Audience: aud}
		pix := runPass(t, PassConfig{Pass: "inject", Params: map[string]float64{"mix": 1}}, fb, in)
		for i := range pix {
			if d := int(pix[i]) - int(want[i]); d < -1 || d > 1 {
				t.Errorf("byte %d: %d, the generator frame has %d", i, pix[i], want[i])
				break
			}
		}
		// And mix 0 keeps the fed-back image.
		pix = runPass(t, PassConfig{Pass: "inject", Params: map[string]float64{"mix": 0}}, fb, in)
		if c := brightCentroid(pix, w, h); math.Abs(c[0]-13.5) > 0.5 {
			t.Errorf("mix 0 lost the fed-back dot: centroid %v", c)
		}
	})
}

// The camera's flow field, uploaded through the game as the installation
// does, drags the image its way.
func TestFlowDisplacesAlongTheFlow(t *testing.T) {
	for _, c := range []struct {
		name   string
		fx, fy float32
	}{{"right", 0.5, 0}, {"up", 0, -0.5}} {
		onLoop(func() {
			const w, h = 64, 64
			cfg := DefaultConfig()
			cfg.RenderW, cfg.RenderH = w, h
			cfg.Passes = []PassConfig{{Pass: "flow", Params: map[string]float64{"amount": 10}}}
			cfg.Presets, cfg.Preset = nil, ""
			g, err := NewGame(cfg, 8, 8, nil, nopDriver{})
			if err != nil {
				t.Error(err)
				return
			}
			defer g.Dispose()
			f := &vision.Features{FlowW: 4, FlowH: 3, FlowField: make([]float32, 24)}
			for i := 0; i < 12; i++ {
				f.FlowField[2*i], f.FlowField[2*i+1] = c.fx, c.fy
			}
			g.SetFeatures(f)
			g.dt = 10 // let the flow input settle in one step
			src := dot(w, h, 30, 30, 4)
			defer src.Deallocate()
			g.Chain.Seed(src)
			g.StepChain()
			pix := make([]byte, 4*w*h)
			g.Chain.Output().ReadPixels(pix)
			before, after := brightCentroid(readAll(src), w, h), brightCentroid(pix, w, h)
			// 0.5 widths/s at 10 px per width/s is 5 px, less the texture's
			// 8-bit quantisation.
			dx, dy := after[0]-before[0], after[1]-before[1]
			wantX, wantY := float64(c.fx)*10, float64(c.fy)*10
			if math.Abs(dx-wantX) > 0.6 || math.Abs(dy-wantY) > 0.6 {
				t.Errorf("%s: flow (%v, %v) moved the dot by (%.2f, %.2f), want (%.1f, %.1f)", c.name, c.fx, c.fy, dx, dy, wantX, wantY)
			}
		})
	}
}

// Dream amplifies detail: an edge gains contrast, a flat field stays flat.
func TestDreamAmplifiesDetail(t *testing.T) {
	onLoop(func() {
		const w, h = 64, 32
		src := ebiten.NewImage(w, h)
		defer src.Deallocate()
		src.Fill(color.RGBA{100, 100, 100, 255})
		for y := 0; y < h; y++ {
			for x := 32; x < w; x++ {
				src.Set(x, y, color.RGBA{160, 160, 160, 255})
			}
		}
		pix := runPass(t, PassConfig{Pass: "dream", Params: map[string]float64{"strength": 0.5, "relief": 0}}, src, &Inputs{})
		at := func(x int) int { return int(pix[4*(16*w+x)]) }
		if at(31) >= 100 || at(32) <= 160 {
			t.Errorf("edge 100|160 became %d|%d: want more contrast", at(31), at(32))
		}
		if d := at(5) - 100; d < -1 || d > 1 {
			t.Errorf("flat field 100 became %d", at(5))
		}
	})
}

func TestOutputVignetteDarkensCorners(t *testing.T) {
	onLoop(func() {
		cfg := DefaultConfig()
		cfg.RenderW, cfg.RenderH = 64, 36
		cfg.Passes = []PassConfig{{Pass: "color"}, {Pass: "output", Params: map[string]float64{"vignette": 0.8}}}
		cfg.Presets, cfg.Preset = nil, ""
		g, err := NewGame(cfg, 8, 8, nil, nopDriver{})
		if err != nil {
			t.Error(err)
			return
		}
		defer g.Dispose()
		grey := ebiten.NewImage(64, 36)
		defer grey.Deallocate()
		grey.Fill(color.RGBA{200, 200, 200, 255})
		g.Chain.Seed(grey)
		pix := make([]byte, 4*64*36)
		g.ReadFrame(pix)
		centre, corner := pix[4*(18*64+32)], pix[0]
		if centre < 195 || corner > 120 {
			t.Errorf("vignette 0.8: centre %d, corner %d; want the centre kept and the corner dark", centre, corner)
		}
	})
}

func readAll(img *ebiten.Image) []byte {
	b := img.Bounds()
	pix := make([]byte, 4*b.Dx()*b.Dy())
	img.ReadPixels(pix)
	return pix
}

func brightCentroid(pix []byte, w, h int) [2]float64 {
	var sx, sy, n float64
	for i := 0; i < w*h; i++ {
		if v := float64(pix[4*i]); v > 20 {
			sx += float64(i%w) * v
			sy += float64(i/w) * v
			n += v
		}
	}
	if n == 0 {
		return [2]float64{-1, -1}
	}
	return [2]float64{sx / n, sy / n}
}

// nopDriver feeds the game nothing.
type nopDriver struct{}

func (nopDriver) Tick(*Game) error             { return nil }
func (nopDriver) AfterChain(*Game) error       { return nil }
func (nopDriver) AppendStatus(b []byte) []byte { return b }

package scene

import (
	"image"
	"image/color"
	"math"
	"testing"
	"time"

	"github.com/hajimehoshi/ebiten/v2"

	"reverie/gen"
	"reverie/gen/dream"
)

// The deepdream pass adds mix × the decoded residual where a new one
// arrived, more where people stand, and nothing on frames without one.
func TestDeepDreamPassAddsTheResidual(t *testing.T) {
	const w, h = 32, 16
	delta := 0.05 // in 0..1 of the range
	enc := byte(128 + 255*dream.ResidualGain*delta + 0.5)
	onLoop(func() {
		src := ebiten.NewImage(w, h)
		src.Fill(color.RGBA{100, 100, 100, 255})
		res := ebiten.NewImage(w, h)
		res.Fill(color.RGBA{enc, 128, 128, 255})
		aud := ebiten.NewImage(w, h)
		aud.Fill(color.Black)
		aud.SubImage(imageRect(w/2, 0, w, h)).(*ebiten.Image).Fill(color.RGBA{255, 0, 0, 255})
		in := &Inputs{Residual: res, Audience: aud}
		run := func(apply float32) []byte {
			chain, err := NewChain([]PassConfig{{Pass: "deepdream", Params: map[string]float64{"mix": 1, "local": 1}}}, w, h)
			if err != nil {
				t.Error(err)
				return nil
			}
			defer chain.Dispose()
			chain.Passes[0].Set("Gain", dream.ResidualGain)
			chain.Passes[0].Set("Apply", apply)
			chain.Seed(src)
			pix := make([]byte, 4*w*h)
			chain.Step(in).ReadPixels(pix)
			return pix
		}
		on, off := run(1), run(0)
		if on == nil || off == nil {
			return
		}
		step := float64(enc-128) / 255 / dream.ResidualGain * 255 // in bytes
		left, right := float64(on[4*(h/2*w+2)]), float64(on[4*(h/2*w+w-3)])
		if math.Abs(left-(100+step)) > 1.5 {
			t.Errorf("red where nobody stands: %v, want 100 + %.1f (mix 1)", left, step)
		}
		if math.Abs(right-(100+2*step)) > 1.5 {
			t.Errorf("red where people stand: %v, want 100 + %.1f (mix 1 + local 1)", right, 2*step)
		}
		if g := on[4*(h/2*w+2)+1]; g != 100 {
			t.Errorf("green %d changed; its residual is zero", g)
		}
		if off[4*(h/2*w+2)] != 100 {
			t.Errorf("without a new residual the pass changed the picture: red %d", off[4*(h/2*w+2)])
		}
	})
}

// In the running game, the deepdream pass grows structure out of a soft
// generator picture, frame after frame (lockstep, real PoseNet, real
// Ebiten); a chain without it stays soft.
func TestDeepDreamGrowsDetailInTheChain(t *testing.T) {
	if _, err := gen.Init(""); err != nil {
		t.Fatal(err)
	}
	const rw, rh = 256, 144
	run := func(passes []PassConfig) Look {
		cfg := DefaultConfig()
		cfg.RenderW, cfg.RenderH = rw, rh
		cfg.Passes = passes
		cfg.Presets = nil
		cfg.Dream.Width, cfg.Dream.Height = 128, 72
		var g *Game
		onLoop(func() {
			var err error
			if g, err = NewGame(cfg, 64, 36, nil, nopDriver{}); err != nil {
				t.Error(err)
				return
			}
			g.UseVirtualClock(100 * time.Millisecond)
			pix := make([]byte, 4*64*36)
			for y := 0; y < 36; y++ {
				for x := 0; x < 64; x++ {
					i := 4 * (y*64 + x)
					pix[i] = byte(128 + 90*math.Sin(float64(x)/10))
					pix[i+1] = byte(128 + 90*math.Sin(float64(y)/7+1))
					pix[i+2] = byte(128 + 90*math.Cos(float64(x+y)/12))
					pix[i+3] = 255
				}
			}
			g.Upload(&gen.Frame{Pix: pix, Width: 64, Height: 36, Seq: 1})
		})
		if g == nil {
			return Look{}
		}
		defer onLoop(g.Dispose)
		onFrames(30, func() {
			if err := g.Update(); err != nil {
				t.Error(err)
			}
		})
		var look Look
		onLoop(func() {
			if g.dream != nil {
				if err := g.dream.live.Err(); err != nil {
					t.Error(err)
				}
			}
			pix := make([]byte, 4*rw*rh)
			g.Chain.Output().ReadPixels(pix)
			look = MeasureLook(pix, rw, rh, nil)
		})
		return look
	}
	with := run([]PassConfig{{Pass: "warp", Params: map[string]float64{"zoom": 1.005}}, {Pass: "deepdream", Params: map[string]float64{"step": 0.05, "layer": 6}}})
	without := run([]PassConfig{{Pass: "warp", Params: map[string]float64{"zoom": 1.005}}})
	t.Logf("after 30 frames: with deepdream %+v, without %+v", with, without)
	if with.Detail < 10*without.Detail || with.Detail < 1 {
		t.Errorf("detail %.2f with the deepdream pass, %.2f without: the dream did not grow structure", with.Detail, without.Detail)
	}
	if with.Luma < 20 || with.Luma > 235 || with.Contrast < 20 {
		t.Errorf("the dreamed picture lost its look: %+v", with)
	}
}

// Without the trained network the pass leaves the picture as it is and the
// piece runs on.
func TestDeepDreamWithoutNetworkPassesThrough(t *testing.T) {
	t.Setenv("REVERIE_NETWORKS", t.TempDir())
	cfg := DefaultConfig()
	cfg.RenderW, cfg.RenderH = 64, 64
	cfg.Passes = []PassConfig{{Pass: "deepdream"}}
	cfg.Presets = nil
	g := newFlatGame(t, cfg, nil, 90)
	if g == nil {
		return
	}
	defer onLoop(g.Dispose)
	onFrames(5, func() {
		if err := g.Update(); err != nil {
			t.Error(err)
		}
	})
	onLoop(func() {
		if g.dream == nil || g.dream.live.Err() == nil {
			t.Error("the dream reports no error without its network")
		}
		pix, want := make([]byte, 4*64*64), make([]byte, 4*64*64)
		g.Chain.Output().ReadPixels(pix)
		g.in.GenNewer.ReadPixels(want)
		for i := 0; i < len(pix); i += 4 {
			if pix[i] != want[i] {
				t.Errorf("pixel %d is %d, want the generator's %d passed through", i/4, pix[i], want[i])
				return
			}
		}
	})
}

func imageRect(x0, y0, x1, y1 int) image.Rectangle { return image.Rect(x0, y0, x1, y1) }

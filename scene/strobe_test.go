package scene

import (
	"fmt"
	"math"
	"testing"
	"time"

	"reverie/gen"
)

// cppnDriver generates a frame every tick with the built-in CPPN at a
// fixed latent, as offline rendering does: the same picture each time.
type cppnDriver struct {
	nopDriver
	r *gen.Runner
	z []float32
}

func (d *cppnDriver) Tick(g *Game) error {
	fr, err := d.r.Step(d.z)
	if err != nil {
		return err
	}
	g.Upload(fr)
	return nil
}

// Any chain that starts with inject at mix 1 shows the generator frame:
// the picture must hold still, whatever the chain's length. Odd lengths
// once alternated between the new image and a stale buffer (a strobe at
// half the frame rate).
func TestChainOfAnyLengthIsSteady(t *testing.T) {
	after := []PassConfig{
		{Pass: "color", Params: map[string]float64{"hue": 0, "saturation": 1, "decay": 0, "gamma": 1}},
		{Pass: "warp", Params: map[string]float64{"zoom": 1, "rotate": 0, "follow": 0}},
		{Pass: "flow", Params: map[string]float64{"amount": 0}},
		{Pass: "color", Params: map[string]float64{"hue": 0, "saturation": 1, "decay": 0, "gamma": 1}},
		{Pass: "warp", Params: map[string]float64{"zoom": 1, "rotate": 0, "follow": 0}},
	}
	if _, err := gen.Init(""); err != nil {
		t.Fatal(err)
	}
	// A small generator frame, and a 256² one (which went black after the
	// first frame).
	for _, size := range [][2]int{{32, 18}, {256, 256}} {
		gc := gen.DefaultConfig()
		gc.Width, gc.Height = size[0], size[1]
		model, _, err := gc.Open()
		if err != nil {
			t.Fatal(err)
		}
		runner := gen.NewRunner(model)
		defer runner.Close()
		steady := -1.0 // the one-pass chain's picture: every length shows the same
		for n := 1; n <= 6; n++ {
			t.Run(fmt.Sprintf("%dx%d/%d passes", size[0], size[1], n), func(t *testing.T) {
				cfg := DefaultConfig()
				cfg.RenderW, cfg.RenderH = 64, 36
				cfg.Preset = ""
				cfg.Passes = []PassConfig{{Pass: "inject", Params: map[string]float64{"mix": 1, "motion_mix": 0, "presence_mix": 0, "local": 0}}}
				cfg.Passes = append(cfg.Passes, after[:n-1]...)
				cfg.Passes = append(cfg.Passes, PassConfig{Pass: "output", Params: map[string]float64{"vignette": 0}})
				d := &cppnDriver{r: runner, z: make([]float32, model.Manifest.Latent.Dim)}
				var lumas []float64
				var failed error
				onLoop(func() {
					g, err := NewGame(cfg, model.Width(), model.Height(), nil, d)
					if err != nil {
						failed = err
						return
					}
					defer g.Dispose()
					g.UseVirtualClock(time.Second / 30)
					pix := make([]byte, 4*cfg.RenderW*cfg.RenderH)
					for range 12 {
						if err := g.Update(); err != nil {
							failed = err
							return
						}
						g.ReadFrame(pix)
						var s float64
						for i := 0; i < len(pix); i += 4 {
							s += float64(pix[i])
						}
						lumas = append(lumas, s/float64(len(pix)/4))
					}
				})
				if failed != nil {
					t.Fatal(failed)
				}
				t.Logf("mean red per frame: %.1f", lumas)
				for i := 3; i < len(lumas); i++ {
					if math.Abs(lumas[i]-lumas[i-1]) > 1 {
						t.Errorf("frame %d: mean %.1f after %.1f: the picture is not steady (all: %.0f)", i, lumas[i], lumas[i-1], lumas)
						break
					}
				}
				last := lumas[len(lumas)-1]
				if steady < 0 {
					steady = last
				}
				if last < 20 || math.Abs(last-steady) > 2 {
					t.Errorf("the picture settles at mean %.1f; the generator frame through one pass is %.1f", last, steady)
				}
			})
		}
	}
}

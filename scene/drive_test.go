package scene

import (
	"math"
	"testing"

	"reverie/audio"
	"reverie/vision"
)

// drawnDriver hands the game this tick's sound and records warp.zoom as the
// chain drew it.
type drawnDriver struct {
	nopDriver
	snd   *audio.Features
	drawn float32
}

func (d *drawnDriver) Tick(g *Game) error { g.SetSound(d.snd); return nil }
func (d *drawnDriver) AfterChain(g *Game) error {
	d.drawn, _ = g.Chain.Pass("warp").Get("zoom")
	return nil
}

// A beat kicks the zoom the chain draws, the kick dies away with the
// release, the sum stays in the parameter's range, and the parameter's own
// value (what presets, the API and the panel see) never moves.
func TestDriveKicksThePassParameter(t *testing.T) {
	cfg := DefaultConfig()
	cfg.RenderW, cfg.RenderH, cfg.Preset = 64, 64, ""
	cfg.Passes = []PassConfig{{Pass: "warp", Params: map[string]float64{"zoom": 1.01}}, {Pass: "output"}}
	cfg.Presets = nil
	cfg.Drives = []Drive{{Feature: "audio.beat", Param: "warp.zoom", Amount: 0.05, Release: 0.1}, {Feature: "motion", Param: "warp.zoom", Amount: 0.3}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	drv := &drawnDriver{snd: &audio.Features{}}
	g := newLoopGame(t, cfg, 8, 8, nil, drv)
	if g == nil {
		return
	}
	defer onLoop(g.Dispose)
	var drawn []float32
	onLoop(func() {
		for i := range 60 {
			if i == 2 {
				drv.snd.Beats++ // a beat on the third frame
			}
			if err := g.Update(); err != nil {
				t.Error(err)
				return
			}
			drawn = append(drawn, drv.drawn)
		}
	})
	near := func(a float32, b float64) bool { return math.Abs(float64(a)-b) < 1e-4 }
	if !near(drawn[0], 1.01) || !near(drawn[2], 1.06) || !(drawn[3] < drawn[2] && drawn[3] > 1.01) || !near(drawn[59], 1.01) {
		t.Errorf("zoom drawn %v; want 1.01, a kick to 1.06 on the beat, then falling back", drawn)
	}
	for _, p := range g.Controls().List() {
		if p.Name == "warp.zoom" && math.Abs(p.Value-1.01) > 1e-6 {
			t.Errorf("warp.zoom reads %v through the controls; the drive must leave the base at 1.01", p.Value)
		}
	}
	// Full motion would push the zoom by 0.3: it stops at the range's top.
	onLoop(func() {
		g.SetFeatures(&vision.Features{Motion: 1})
		g.stepDrives(1.0 / 60)
		g.applyDrives()
		z, _ := g.Chain.Pass("warp").Get("zoom")
		g.restoreDrives()
		if z != 1.2 {
			t.Errorf("zoom driven to %v by full motion; want the range's top, 1.2", z)
		}
		if n := testing.AllocsPerRun(100, func() {
			g.stepDrives(1.0 / 60)
			g.applyDrives()
			g.restoreDrives()
		}); n != 0 {
			t.Errorf("drives allocate %v times per frame; want 0", n)
		}
	})
}

package scene

import (
	"math"
	"testing"
	"time"

	"github.com/hajimehoshi/ebiten/v2"

	"reverie/gen"
)

// meanRGB is the mean of each colour channel of an RGBA buffer.
func meanRGB(pix []byte) [3]float64 {
	var m [3]float64
	n := float64(len(pix) / 4)
	for i := 0; i < len(pix); i += 4 {
		for c := 0; c < 3; c++ {
			m[c] += float64(pix[i+c]) / n
		}
	}
	return m
}

// A live game whose frames come slowly, on a clock the test drives, runs its
// passes at a smaller size, never below min_scale, with the picture carried
// over (no pop); snapshots keep the configured size; the chain runs once per
// displayed frame however often Update is called; fast frames bring the
// full size back.
func TestBudgetScalesTheRender(t *testing.T) {
	cfg := DefaultConfig()
	cfg.RenderW, cfg.RenderH = 320, 180
	cfg.Passes = []PassConfig{{Pass: "color", Params: map[string]float64{"hue": 0, "decay": 0, "saturation": 1, "gamma": 1}}, {Pass: "output", Params: map[string]float64{"vignette": 0}}}
	cfg.Budget.TargetFPS, cfg.Budget.MinScale = 20, 0.5
	onLoop(func() {
		g, err := NewGame(cfg, 8, 8, nil, stepDriver{})
		if err != nil {
			t.Error(err)
			return
		}
		defer g.Dispose()
		var now time.Duration
		g.SetFrameClock(func() time.Duration { return now })
		pix := make([]byte, 4*8*8)
		for i := range pix {
			pix[i] = byte(60 + i%4*50) // an even colour: R 60, G 110, B 160
		}
		g.Upload(&gen.Frame{Pix: pix, Width: 8, Height: 8, Seq: 1})
		screen := ebiten.NewImage(64, 36)
		defer screen.Deallocate()
		out := make([]byte, 4*cfg.RenderW*cfg.RenderH)
		frame := func(step time.Duration) {
			now += step
			// Ebiten calls Update several times for one slow frame.
			for range 3 {
				if err := g.Update(); err != nil {
					t.Error(err)
				}
			}
			g.Draw(screen)
		}
		frame(50 * time.Millisecond)
		g.ReadFrame(out)
		before := meanRGB(out)

		// 8 fps for 20 s. Were the chain run on each of the 3 Updates, the
		// budget would count 24 runs a second and lower nothing.
		minW := int(math.Round(float64(cfg.RenderW) * cfg.Budget.MinScale))
		for range 160 {
			frame(125 * time.Millisecond)
			if w, _ := g.RenderSize(); w < minW {
				t.Errorf("render width %d, below min_scale's %d", w, minW)
				return
			}
		}
		w, h := g.RenderSize()
		st := g.Controls().Stats()
		if w >= cfg.RenderW || st.Scale >= 1 || st.Width != w || st.Height != h || st.BudgetCause == "" {
			t.Errorf("after 20 s at 8 fps: render %dx%d, stats %+v; want a lowered scale in the stats", w, h, st)
		}
		if g.Budget().Share >= 1 {
			t.Errorf("share %g: the background work should have been slowed too", g.Budget().Share)
		}
		// A reload with another target carries on from this size.
		re := cfg
		re.Budget.TargetFPS = 15
		if err := g.rebuild(re, nil); err != nil {
			t.Error(err)
			return
		}
		if rw, _ := g.RenderSize(); rw > w {
			t.Errorf("a reload of target_fps took the render width from %d to %d: it must not jump back up", w, rw)
		}
		g.ReadFrame(out) // the configured size, whatever the render size
		after := meanRGB(out)
		for c := range after {
			if math.Abs(after[c]-before[c]) > 3 {
				t.Errorf("channel %d: mean %.1f before the scale changes, %.1f after: the picture popped", c, before[c], after[c])
			}
		}

		// 100 fps: back to full size, a small step every 2 s or so.
		for range 6000 {
			frame(10 * time.Millisecond)
		}
		if w, h := g.RenderSize(); w != cfg.RenderW || h != cfg.RenderH || g.Budget().Share != 1 {
			t.Errorf("after 60 s at 100 fps: render %dx%d share %g, want %dx%d and 1", w, h, g.Budget().Share, cfg.RenderW, cfg.RenderH)
		}
	})
}

package scene

import (
	"log/slog"
	"math"
	"time"

	"github.com/hajimehoshi/ebiten/v2"

	"reverie/internal/heap"
	"reverie/scene/budget"
)

// The frame budget (package budget) measures displayed frames and picks the
// internal render scale and the background share; the game applies them.

// startBudget (re)builds the controller for cfg. Offline rendering has no
// budget: its output depends only on its input.
// A live reload carries on from the current level.
func (g *Game) startBudget() {
	c := g.cfg.Budget
	if g.virtual {
		c.TargetFPS = 0
	}
	g.budgetCfg = c
	old := g.budget
	g.budget = budget.New(c, func(target float64) {
		slog.Warn("scene.target_fps: even the smallest render size (scene.min_scale) with the generator and dream slowed cannot reach the target; lower scene.target_fps or render_width/render_height, or use a faster machine",
			"target_fps", target, "min_scale", c.MinScale)
	})
	if old != nil {
		g.budget.Resume(old.State().Level)
	}
	g.applyScale(g.budget.State().Scale)
	if g.dream != nil {
		g.dream.live.SetShare(g.budget.State().Share)
	}
}

// SetFrameClock replaces the clock the frame budget reads its frame times
// from (monotonic wall time by default), for tests.
func (g *Game) SetFrameClock(now func() time.Duration) { g.frameClock = now }

// Budget is the frame budget's current decision.
func (g *Game) Budget() budget.State { return g.budget.State() }

// RenderSize is the size the passes run at now: the configured render size
// times the frame budget's scale.
func (g *Game) RenderSize() (int, int) { return g.rw, g.rh }

// budgetFrame counts a displayed frame and applies a new scale.
func (g *Game) budgetFrame() {
	if g.budget.Frame(g.frameClock()) {
		g.applyScale(g.budget.State().Scale)
		if g.dream != nil {
			g.dream.live.SetShare(g.budget.State().Share)
		}
	}
}

// scaledSize is the render size at scale s.
func scaledSize(w, h int, s float64) (int, int) {
	return max(16, int(math.Round(float64(w)*s))), max(16, int(math.Round(float64(h)*s)))
}

// applyScale resizes every render-size image to the scale s, resampling its
// picture with a filtered draw: the feedback carries on from what was on
// screen, a little softer or sharper, without a pop.
func (g *Game) applyScale(s float64) {
	w, h := scaledSize(g.cfg.RenderW, g.cfg.RenderH, s)
	if w == g.rw && h == g.rh {
		return
	}
	g.rw, g.rh = w, h
	for _, img := range []**ebiten.Image{&g.in.GenOlder, &g.in.GenNewer, &g.in.Flow, &g.in.Audience, &g.in.Residual} {
		*img = resample(*img, w, h)
	}
	g.Chain.Resize(w, h)
	g.placeGen()
	if d := g.dream; d != nil && d.w > 0 {
		d.place(w, h)
	}
	// The textures just freed were of another size: give their memory
	// back (a change of scale is rare, seconds apart at the most), or the
	// driver's freed blocks creep over weeks of scale changes.
	heap.Trim()
}

// resample returns a w×h render target holding img's picture scaled, and
// frees img.
func resample(img *ebiten.Image, w, h int) *ebiten.Image {
	out := newTarget(w, h)
	if img == nil {
		return out
	}
	b := img.Bounds()
	op := &ebiten.DrawImageOptions{Filter: ebiten.FilterLinear, Blend: ebiten.BlendCopy}
	op.GeoM.Scale(float64(w)/float64(b.Dx()), float64(h)/float64(b.Dy()))
	out.DrawImage(img, op)
	img.Deallocate()
	return out
}

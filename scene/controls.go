package scene

import (
	"context"
	"fmt"
	"image"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hajimehoshi/ebiten/v2"

	"reverie/director"
	"reverie/gen"
)

// ParamInfo describes one live parameter.
type ParamInfo struct {
	Name  string // "warp.zoom", "inject.mix", "director.gain", "map.motion"; a second pass of a kind is "warp#2.zoom"
	Value float64
	Min   float64
	Max   float64
	Doc   string
}

// DisplayStats is what the render loop reports.
type DisplayStats struct {
	FPS           float64   // displayed frames per second
	Frames        uint64    // frames drawn
	Preset        string    // current preset ("" if none)
	Sleeping      bool      // outside opening hours
	Width, Height int       // render size now: the configured one times Scale
	Scale         float64   // the frame budget's render scale
	Share         float64   // the share of the machine background work may use
	TargetFPS     float64   // the rate the budget holds, 0 for none
	BudgetCause   string    // why the scale is what it is: one of budget.Causes
	BudgetReason  string    // the same as a sentence
	Heartbeat     time.Time // wall time of the last Update: the loop is alive if this is recent
	Dream         string    // the neural dream: "" (no deepdream pass), starting, on, or "off: why"
	DreamSteps    uint64    // dream steps taken
	DreamStepMs   float64   // their mean time
}

// Controls is the live control surface (HTTP, OSC). Every method is safe
// from any goroutine and never blocks the render loop: changes are queued
// under a mutex and applied by the game loop in its next Update.
type Controls struct {
	mu      sync.Mutex
	infos   []ParamInfo    // by the game's param index; Value mirrors the loop's
	index   map[string]int // name → param index
	sorted  []int          // param indices sorted by name
	presets []string
	dim     int  // latent length, 0 without a director or a latent
	steers  bool // the scene has a director (of any latent size)

	sets    []setReq
	preset  int // preset to apply, -1 for none
	offsets []float32
	offDirt bool
	sleep   bool
	fit     gen.Fit // generator.fit, applied at the next Update
	snaps   []chan *image.RGBA
	spare   []*image.RGBA // released snapshots, reused for the next ones
	stats   DisplayStats

	pendingCfg *reconf // a queued Reconfigure (reconfigure.go)

	dirCfg       director.Config // the configured director, for SetModel (model.go)
	pendingModel *modelSwap
	inputs       ModelInputs // the generator's inputs, for presets' generator.* values
	inputsNew    bool
}

type setReq struct {
	i int
	v float64
}

func newControls(g *Game) *Controls {
	c := &Controls{index: map[string]int{}, preset: -1}
	for i, p := range g.params {
		c.infos = append(c.infos, p.info)
		c.index[p.info.Name] = i
		c.sorted = append(c.sorted, i)
	}
	sort.Slice(c.sorted, func(a, b int) bool { return c.infos[c.sorted[a]].Name < c.infos[c.sorted[b]].Name })
	c.presets = presetNames(g.cfg.Presets)
	c.dirCfg = g.cfg.Director
	if g.director != nil {
		c.dim, c.steers = g.director.Dim(), true
		c.offsets = make([]float32, c.dim)
	}
	c.stats.Width, c.stats.Height = g.cfg.RenderW, g.cfg.RenderH
	return c
}

// List returns every live parameter with its current value, sorted by name.
func (c *Controls) List() []ParamInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]ParamInfo, len(c.sorted))
	for k, i := range c.sorted {
		out[k] = c.infos[i]
	}
	return out
}

// Groups names the parameters' groups in the order the game runs them: the
// passes' ids in chain order (warp, deepdream, warp#2…), then director,
// map and push, as the panel shows them.
func (c *Controls) Groups() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var gs []string
	seen := map[string]bool{}
	for _, p := range c.infos {
		g, _, _ := strings.Cut(p.Name, ".")
		if !seen[g] {
			seen[g] = true
			gs = append(gs, g)
		}
	}
	return gs
}

// Set changes a parameter from the next frame on. An unknown name, or a
// value outside the parameter's range, is an error naming it and the range.
func (c *Controls) Set(name string, v float64) error {
	if n, ok := oldParamNames[name]; ok {
		name = n
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	i, ok := c.index[name]
	if !ok {
		return fmt.Errorf("no parameter %q; the parameters are listed by name (e.g. %s)", name, c.examples())
	}
	p := c.infos[i]
	if math.IsNaN(v) || v < p.Min || v > p.Max {
		return fmt.Errorf("%s: %g is out of range: expected %g..%g", name, v, p.Min, p.Max)
	}
	c.sets = append(c.sets, setReq{i, v})
	c.infos[i].Value = v
	return nil
}

func (c *Controls) examples() string {
	var s []string
	for k := 0; k < len(c.sorted) && k < 4; k++ {
		s = append(s, c.infos[c.sorted[k]].Name)
	}
	return strings.Join(s, ", ")
}

// Presets lists the preset names in config order.
func (c *Controls) Presets() []string { return append([]string(nil), c.presets...) }

// ApplyPreset switches to the named preset, interpolating over
// scene.preset_time. An unknown name is an error listing the known ones.
func (c *Controls) ApplyPreset(name string) error {
	for i, p := range c.presets {
		if p == name {
			c.mu.Lock()
			c.preset = i
			c.mu.Unlock()
			return nil
		}
	}
	if len(c.presets) == 0 {
		return fmt.Errorf("no preset %q: scene.presets in config.yaml is empty", name)
	}
	return fmt.Errorf("no preset %q; expected one of %s", name, strings.Join(c.presets, ", "))
}

// SetLatent sets an offset added to latent component i (OSC
// /reverie/latent/<i>). i outside the latent, or |v| above 10, is an error.
func (c *Controls) SetLatent(i int, v float64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.steers {
		return fmt.Errorf("latent %d: this scene has no director to offset", i)
	}
	if c.dim == 0 {
		return fmt.Errorf("latent %d: the model takes no latent (it is steered by its picture alone)", i)
	}
	if i < 0 || i >= c.dim {
		return fmt.Errorf("latent component %d: expected 0..%d (the model's latent has %d values)", i, c.dim-1, c.dim)
	}
	if math.IsNaN(v) || v < -10 || v > 10 {
		return fmt.Errorf("latent component %d: offset %g: expected -10..10", i, v)
	}
	c.offsets[i] = float32(v)
	c.offDirt = true
	return nil
}

// maxSpare is how many released snapshot buffers are kept for reuse: as many
// as the previews and snapshots that may be encoding at once.
const maxSpare = 4

// Snapshot returns the frame the game loop presents next, at the configured
// render size, read back at its next Update: at most one display frame
// later. Hand the image back with ReleaseSnapshot once it is encoded, and
// the next snapshot reuses its buffer. ctx bounds the wait.
func (c *Controls) Snapshot(ctx context.Context) (*image.RGBA, error) {
	ch := make(chan *image.RGBA, 1)
	c.mu.Lock()
	c.snaps = append(c.snaps, ch)
	c.mu.Unlock()
	select {
	case img := <-ch:
		return img, nil
	case <-ctx.Done():
		c.mu.Lock()
		for k, s := range c.snaps {
			if s == ch {
				c.snaps = append(c.snaps[:k], c.snaps[k+1:]...)
				break
			}
		}
		c.mu.Unlock()
		return nil, fmt.Errorf("snapshot: the render loop did not deliver a frame in time: %w", ctx.Err())
	}
}

// ReleaseSnapshot hands back an image Snapshot returned, for reuse; the
// caller must not touch it afterwards.
func (c *Controls) ReleaseSnapshot(img *image.RGBA) {
	if img == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.spare) < maxSpare {
		c.spare = append(c.spare, img)
	}
}

// snapshotBuffer is a w×h image from the spares, or a new one. c.mu held.
func (c *Controls) snapshotBuffer(w, h int) *image.RGBA {
	for len(c.spare) > 0 {
		img := c.spare[len(c.spare)-1]
		c.spare = c.spare[:len(c.spare)-1]
		if b := img.Bounds(); b.Dx() == w && b.Dy() == h {
			return img
		}
	}
	return newRGBA(w, h)
}

// SetSleep puts the piece to sleep (black screen, generator not fed) or
// wakes it.
func (c *Controls) SetSleep(on bool) {
	c.mu.Lock()
	c.sleep = on
	c.mu.Unlock()
}

// Stats is the render loop's latest report.
func (c *Controls) Stats() DisplayStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

// apply runs in the game loop: it hands queued changes to the game.
func (c *Controls) apply(g *Game) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.preset >= 0 {
		g.startPreset(c.preset, g.cfg.PresetTime)
		c.preset = -1
	}
	for _, s := range c.sets {
		g.params[s.i].set(s.v)
		g.params[s.i].held = true
	}
	c.sets = c.sets[:0]
	g.steer.Lock()
	if c.offDirt && g.director != nil {
		for i, v := range c.offsets {
			g.director.SetOffset(i, v)
		}
		c.offDirt = false
	}
	g.sleeping, g.steerAsleep = c.sleep, c.sleep
	g.steer.Unlock()
	g.setFit(c.fit)
}

// SetFit sets how the generator's frames meet the canvas (generator.fit:
// cover, contain or stretch; "" is cover) from the next frame on. The
// config's validation refuses any other value.
func (c *Controls) SetFit(f gen.Fit) {
	c.mu.Lock()
	c.fit = f
	c.mu.Unlock()
}

// publish runs in the game loop after each frame: it mirrors values and
// stats and answers snapshot requests.
func (c *Controls) publish(g *Game) {
	var img *image.RGBA
	c.mu.Lock()
	if len(c.snaps) > 0 {
		img = c.snapshotBuffer(g.cfg.RenderW, g.cfg.RenderH)
	}
	c.mu.Unlock()
	if img != nil {
		// Read back outside the lock; only the loop reads pixels.
		g.ReadFrame(img.Pix)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range g.params {
		c.infos[i].Value = g.params[i].get()
	}
	if img != nil {
		for k, ch := range c.snaps {
			if k == 0 {
				ch <- img
				continue
			}
			cp := c.snapshotBuffer(g.cfg.RenderW, g.cfg.RenderH)
			copy(cp.Pix, img.Pix)
			ch <- cp
		}
		c.snaps = c.snaps[:0]
	}
	c.stats.FPS = ebiten.ActualFPS()
	c.stats.Frames = g.frames
	c.stats.Preset = ""
	if g.presetAt >= 0 {
		c.stats.Preset = g.cfg.Presets[g.presetAt].Name
	}
	c.stats.Sleeping = g.sleeping
	b := g.budget.State()
	c.stats.Width, c.stats.Height, c.stats.Scale, c.stats.Share = g.rw, g.rh, b.Scale, b.Share
	c.stats.TargetFPS, c.stats.BudgetCause, c.stats.BudgetReason = g.budgetCfg.TargetFPS, b.Cause, b.Reason
	c.stats.Dream, c.stats.DreamSteps, c.stats.DreamStepMs = g.dreamState()
	c.stats.Heartbeat = time.Now()
}

package scene

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"reverie/director"
)

// reconf is a queued scene change and where its outcome goes.
type reconf struct {
	cfg  Config
	dir  *director.Director
	done chan error
}

// Reconfigure rebuilds the pass chain, presets and director from cfg while
// the piece runs: a config reload calls it. dir is the new director, built
// for the running model (nil keeps the current one). An invalid cfg is
// rejected before anything changes; otherwise the game loop swaps the chain
// in at its next Update, seeded with the current picture so the screen does
// not jump, and parameters set by hand keep their values where the new
// chain has them. Render size, monitor and full-screen are window settings
// fixed at start: a change to them is an error naming the key. ctx bounds
// the wait for the loop.
func (c *Controls) Reconfigure(ctx context.Context, cfg Config, dir *director.Director) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("scene.%w", err)
	}
	r := &reconf{cfg: cfg, dir: dir, done: make(chan error, 1)}
	c.mu.Lock()
	if c.pendingCfg != nil {
		c.pendingCfg.done <- errors.New("scene: replaced by a newer reload before it was applied")
	}
	c.pendingCfg = r
	c.mu.Unlock()
	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		c.mu.Lock()
		if c.pendingCfg == r {
			c.pendingCfg = nil
		}
		c.mu.Unlock()
		return fmt.Errorf("scene: the render loop did not apply the new config in time: %w", ctx.Err())
	}
}

// reconfigure runs in the game loop, before queued parameter changes: it
// applies a pending Reconfigure, if any.
func (c *Controls) reconfigure(g *Game) {
	c.mu.Lock()
	r := c.pendingCfg
	c.pendingCfg = nil
	c.mu.Unlock()
	if r != nil {
		r.done <- g.rebuild(r.cfg, r.dir)
	}
	c.applyModel(g)
}

// rebuild swaps in a chain, presets and director built from cfg. On error
// nothing has changed.
func (g *Game) rebuild(cfg Config, dir *director.Director) error {
	old := g.cfg
	switch {
	case cfg.RenderW != old.RenderW || cfg.RenderH != old.RenderH:
		return fmt.Errorf("scene.render_width/render_height: %dx%d → %dx%d is fixed at start; restart to change it", old.RenderW, old.RenderH, cfg.RenderW, cfg.RenderH)
	case cfg.Monitor != old.Monitor || cfg.Fullscreen != old.Fullscreen:
		return errors.New("scene.monitor/fullscreen: the window is set up at start; restart to change it")
	}
	chain, err := NewChain(cfg.Passes, g.rw, g.rh)
	if err != nil {
		return err
	}
	// Hand-set values survive where the new chain has the same parameter.
	held := map[string]float64{}
	for _, p := range g.params {
		if p.held {
			held[p.info.Name] = p.get()
		}
	}
	chain.Seed(g.Chain.Output())
	g.Chain.Dispose()
	g.Chain, g.cfg = chain, cfg
	if cfg.Budget != old.Budget {
		g.startBudget()
	}
	if dir != nil && g.director != nil {
		if dir.Manifest() != nil && g.man != nil && dir.Manifest() != g.man {
			// Built for a model that a hot swap has since replaced: the
			// latent must keep the running model's size.
			var derr error
			if dir, derr = director.ForModel(cfg.Director, g.man); derr != nil {
				slog.Warn("model directions not used", "err", derr)
			}
		}
		g.steer.Lock()
		g.director = dir
		g.steer.Unlock()
		if dir.Manifest() != nil {
			g.man = dir.Manifest()
		}
	}
	g.params, g.presets = nil, nil
	g.buildParams()
	g.presetAt, g.morphT = -1, -1
	if cfg.Preset != "" {
		g.startPreset(g.presetIndex(cfg.Preset), 0)
	}
	for i := range g.params {
		if v, ok := held[g.params[i].info.Name]; ok {
			g.params[i].set(v)
			g.params[i].held = true
		}
	}
	g.ctl.refresh(g)
	return nil
}

// refresh re-lists the parameters and presets after a rebuild. Queued
// changes name the old chain's parameters by index, so they are dropped.
func (c *Controls) refresh(g *Game) {
	fresh := newControls(g)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.infos, c.index, c.sorted, c.presets = fresh.infos, fresh.index, fresh.sorted, fresh.presets
	c.dirCfg, c.steers = fresh.dirCfg, fresh.steers
	c.sets = c.sets[:0]
	c.preset = -1
	if fresh.dim != c.dim {
		c.dim, c.offsets = fresh.dim, fresh.offsets
	}
	c.offDirt = c.dim > 0
}

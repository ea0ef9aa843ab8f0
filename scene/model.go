package scene

import (
	"log/slog"
	"reflect"
	"sort"
	"strings"

	"reverie/director"
	"reverie/gen"
)

// genPrefix names the model's controllable inputs among preset keys
// (generator.psi), as live control names them.
const genPrefix = "generator."

// ModelInputs is the generator's controllable inputs, as presets reach them.
// *gen.Runner is one; the cmd wiring hands it over with SetModelInputs.
type ModelInputs interface {
	Params() []gen.Param
	SetInput(name string, v float64) error
}

// modelSwap is a queued change of model: the director built for it, and
// the director config it was built with.
type modelSwap struct {
	man *gen.Manifest
	dir *director.Director
	cfg director.Config
}

// SetModel tells the scene that the generator now runs the model man
// describes (after a successful hot swap). The director for it — its latent
// size and distribution, and its directions file when config allows — is
// built here, off the render loop, and the game loop switches to it at its
// next Update: the walk goes on from a fresh keyframe of the new size, the
// director's live settings and the presence state carry over, and latent
// offsets (SetLatent) stay where the new latent has their component. It
// never waits for the loop. Until the loop switches, the runner fits the old
// latent to the new size for a frame or two, under the swap's crossfade.
//
// A directions file the new model names but that cannot be used is
// reported in the error, and seeded directions are used instead: the latent
// size follows the model either way.
func (c *Controls) SetModel(man *gen.Manifest) error {
	c.mu.Lock()
	cfg, has := c.dirCfg, c.steers
	c.mu.Unlock()
	if !has || man == nil {
		return nil
	}
	d, err := director.ForModel(cfg, man)
	dim := d.Dim()
	c.mu.Lock()
	c.pendingModel = &modelSwap{man: man, dir: d, cfg: cfg}
	if len(c.offsets) != dim {
		offs := make([]float32, dim)
		copy(offs, c.offsets) // components past the new size are dropped
		c.offsets = offs
	}
	c.dim, c.offDirt = dim, true
	c.mu.Unlock()
	return err
}

// SetModelInputs hands the scene the generator's controllable inputs, which
// presets set by generator.NAME. The current preset's values apply at the
// loop's next Update.
func (c *Controls) SetModelInputs(in ModelInputs) {
	c.mu.Lock()
	c.inputs, c.inputsNew = in, true
	c.mu.Unlock()
}

// applyModel runs in the game loop: it switches to a pending model's
// director.
func (c *Controls) applyModel(g *Game) {
	c.mu.Lock()
	ms := c.pendingModel
	c.pendingModel = nil
	in, inNew := c.inputs, c.inputsNew
	c.inputsNew = false
	c.mu.Unlock()
	if inNew {
		g.inputs = in
		if g.presetAt >= 0 {
			g.applyModelPreset(g.presetAt, nil)
		}
	}
	if ms == nil || g.director == nil {
		return
	}
	d := ms.dir
	if !reflect.DeepEqual(ms.cfg, g.cfg.Director) {
		// A reload changed the director config after SetModel built this
		// one: rare, so rebuilding here is fine.
		var err error
		if d, err = director.ForModel(g.cfg.Director, ms.man); err != nil {
			slog.Warn("model directions not used", "err", err)
		}
	}
	g.switchDirector(d)
	oldMan := g.man
	g.man = ms.man
	if g.presetAt >= 0 {
		// A preset's generator values reach inputs the new model gained.
		g.applyModelPreset(g.presetAt, oldMan)
	}
	c.mu.Lock()
	c.offDirt = true // apply, next, hands the offsets to the new director
	c.mu.Unlock()
}

// switchDirector makes d the game's and the driver's director, carrying
// over the old one's live settings and presence state. It allocates nothing.
func (g *Game) switchDirector(d *director.Director) {
	g.steer.Lock()
	defer g.steer.Unlock()
	old := g.director
	d.ContinueFrom(old)
	// Live parameters point into the director's config: repoint them, with
	// their current values (preset or hand-set), to the new one's.
	for i := range g.params {
		p := &g.params[i]
		if p.f64 == nil {
			continue
		}
		if s := d.ParamSlot(p.info.Name); s != nil {
			*s = *p.f64
			p.f64 = s
		}
	}
	g.director = d
}

// genPresetKeys lists the generator.* keys any preset sets, sorted.
func genPresetKeys(ps []Preset) []string {
	seen := map[string]bool{}
	var keys []string
	for _, p := range ps {
		for k := range p.Params {
			if strings.HasPrefix(k, genPrefix) && !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	sort.Strings(keys)
	return keys
}

// applyModelPreset sets the model inputs preset i names, and returns those
// it leaves out (but another preset names) to the manifest's value. With
// only non-nil, it touches just the inputs that manifest lacks (after a
// swap). A name the model does not have, or a value outside its range, is
// skipped with one log line; the rest of the preset applies. It runs when a
// preset starts, not per frame.
func (g *Game) applyModelPreset(i int, only *gen.Manifest) {
	if g.inputs == nil || len(g.genKeys) == 0 || i < 0 || i >= len(g.cfg.Presets) {
		return
	}
	preset := g.cfg.Presets[i]
	params := g.inputs.Params()
	for _, key := range g.genKeys {
		name := key[len(genPrefix):]
		if only != nil && hasInput(only, name) {
			continue
		}
		v, set := preset.Params[key]
		var p *gen.Param
		for k := range params {
			if params[k].Name == name {
				p = &params[k]
			}
		}
		switch {
		case p == nil && set:
			slog.Warn("preset value skipped: the model has no such input", "preset", preset.Name, "param", key, "inputs", inputNames(params))
			continue
		case p == nil:
			continue
		case !set:
			v = float64(p.Def)
		}
		if err := g.inputs.SetInput(name, v); err != nil {
			slog.Warn("preset value skipped", "preset", preset.Name, "err", err)
		}
	}
}

func hasInput(man *gen.Manifest, name string) bool {
	for _, in := range man.Inputs {
		if in.Param == name {
			return true
		}
	}
	return false
}

func inputNames(ps []gen.Param) string {
	if len(ps) == 0 {
		return "none"
	}
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = genPrefix + p.Name
	}
	return strings.Join(s, ", ")
}

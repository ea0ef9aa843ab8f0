package scene

import (
	"math"
	"sync"
)

// liveParam is one parameter that presets and live control can change.
type liveParam struct {
	info ParamInfo // Value is the configured (base) value
	f32  *float32  // a pass uniform, or
	f64  *float64  // a director setting, written under mu (Game.steer)
	mu   *sync.Mutex
	held bool // set by hand since the last preset: presets leave it
}

func (p *liveParam) get() float64 {
	if p.f32 != nil {
		return float64(*p.f32)
	}
	return *p.f64
}

func (p *liveParam) set(v float64) {
	if p.f32 != nil {
		*p.f32 = float32(v)
	} else {
		p.mu.Lock()
		*p.f64 = v
		p.mu.Unlock()
	}
}

// buildParams lists every live parameter with where it lives, and each
// preset's target for it.
func (g *Game) buildParams() {
	specs := paramSpecs(&g.cfg)
	add := func(name string, f32 *float32, f64 *float64) {
		info, ok := specs[name]
		if !ok {
			return
		}
		lp := liveParam{info: info, f32: f32, f64: f64, mu: &g.steer}
		lp.info.Value = lp.get()
		g.params = append(g.params, lp)
	}
	passes := g.Chain.Passes
	if g.Chain.OutCfg {
		passes = append(passes[:len(passes):len(passes)], g.Chain.Out)
	}
	for _, p := range passes {
		for _, prm := range p.Params() {
			add(p.ID+"."+prm.Name, p.slot(prm.Name), nil)
		}
	}
	if d := g.director; d != nil {
		// The director's own config names its mappings.
		dc := g.cfg
		dc.Director = d.Settings()
		for name, info := range paramSpecs(&dc) {
			if s := d.ParamSlot(name); s != nil {
				specs[name] = info
				add(name, nil, s)
			}
		}
		// The pushes along the directions depend on the model's
		// directions, not on the config.
		for _, p := range d.PushParams() {
			specs[p.Name] = ParamInfo{p.Name, p.Value, p.Min, p.Max, p.Doc}
			add(p.Name, nil, d.ParamSlot(p.Name))
		}
	}
	g.byName = map[string]int{}
	for i, p := range g.params {
		g.byName[p.info.Name] = i
	}
	g.buildDrives()
	g.from = make([]float64, len(g.params))
	g.genKeys = genPresetKeys(g.cfg.Presets)
	for _, ps := range g.cfg.Presets {
		to := make([]float64, len(g.params))
		for i, p := range g.params {
			to[i] = p.info.Value
			if v, ok := ps.Params[p.info.Name]; ok {
				to[i] = v
			}
		}
		g.presets = append(g.presets, to)
	}
}

func (g *Game) presetIndex(name string) int {
	for i, p := range g.cfg.Presets {
		if p.Name == name {
			return i
		}
	}
	return -1
}

// startPreset begins interpolating every parameter not held by hand toward
// preset i over seconds.
func (g *Game) startPreset(i int, seconds float64) {
	if i < 0 || i >= len(g.presets) {
		return
	}
	g.presetAt = i
	g.applyModelPreset(i, nil)
	for k := range g.params {
		g.params[k].held = false
		g.from[k] = g.params[k].get()
	}
	g.morphT = 0
	if seconds <= 0 {
		g.morphT = -1
		for k := range g.params {
			g.params[k].set(g.presets[i][k])
		}
	}
}

// stepPreset advances a preset switch by dt seconds.
func (g *Game) stepPreset(dt float64) {
	if g.morphT < 0 || g.presetAt < 0 {
		return
	}
	g.morphT += dt
	s := 1.0
	if T := g.cfg.PresetTime; T > 0 {
		s = math.Min(1, g.morphT/T)
	}
	s = s * s * (3 - 2*s)
	to := g.presets[g.presetAt]
	for k := range g.params {
		if !g.params[k].held {
			g.params[k].set(g.from[k] + (to[k]-g.from[k])*s)
		}
	}
	if s >= 1 {
		g.morphT = -1
	}
}

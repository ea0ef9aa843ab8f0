// Package scene is what the audience sees: the Ebiten Game that uploads
// generator frames, crossfades them and runs them through the chain of Kage
// feedback passes, with presets, live parameters and the technician's
// overlay. The director it steps lives in package director; the drivers
// that feed it (live, offline) in core.
package scene

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"reverie/director"
	"reverie/gen/dream"
	"reverie/internal/field"
	"reverie/scene/budget"
)

// Config is the scene section of config.yaml.
type Config struct {
	RenderW    int             `yaml:"render_width"` // internal render size
	RenderH    int             `yaml:"render_height"`
	Fullscreen bool            `yaml:"fullscreen"`
	Monitor    int             `yaml:"monitor"`    // index of the monitor to fill
	AllowQuit  bool            `yaml:"allow_quit"` // Esc quits
	Passes     []PassConfig    `yaml:"passes"`
	Director   director.Config `yaml:"director"`
	Preset     string          `yaml:"preset"`      // preset at start, "" for the passes as listed
	PresetTime float64         `yaml:"preset_time"` // seconds a preset switch takes
	Presets    []Preset        `yaml:"presets"`
	Dream      dream.Config    `yaml:"dream"`   // the deepdream pass's network
	Drives     []Drive         `yaml:"drives"`  // features that move pass parameters every frame
	Budget     budget.Config   `yaml:",inline"` // target_fps, min_scale, max_scale
}

// PassConfig is one entry of scene.passes: the pass's kind and its parameters.
type PassConfig struct {
	Pass   string             `yaml:"pass"`
	Params map[string]float64 `yaml:",inline"`
}

// Preset is a named set of live parameter values ("warp.zoom": 1.02). What
// it leaves out returns to the value scene.passes and scene.director set.
// generator.NAME sets a model input (model.go).
type Preset struct {
	Name   string             `yaml:"name"`
	Params map[string]float64 `yaml:",inline"`
}

// oldParamNames maps renamed live parameters to their names now. Presets and
// requests that use an old name still work.
var oldParamNames = map[string]string{"director.idle_speed": "director.idle_period"}

// Upgrade moves values given under old names (scene.director.idle_speed, a
// preset's director.idle_speed) to the names they have now, and returns one
// note per move, under the old key, for the log.
func (c *Config) Upgrade() []FieldError {
	var notes []FieldError
	if old := c.Director.OldIdleSpeed; old != nil {
		c.Director.IdlePeriod, c.Director.OldIdleSpeed = *old, nil
		notes = append(notes, FieldError{Key: "director.idle_speed", Msg: "renamed director.idle_period (seconds per keyframe, a period); the value is used, but rename the key"})
	}
	for i, p := range c.Presets {
		for old, name := range oldParamNames {
			v, ok := p.Params[old]
			if !ok {
				continue
			}
			delete(p.Params, old)
			if _, set := p.Params[name]; !set {
				p.Params[name] = v
			}
			notes = append(notes, FieldError{Key: fmt.Sprintf("presets[%d].%s", i, old), Msg: "renamed " + name + "; the value is used, but rename the key"})
		}
	}
	return notes
}

// DefaultConfig is the scene section's defaults, the same as config.yaml's.
func DefaultConfig() Config {
	return Config{
		RenderW: 1280, RenderH: 720, Fullscreen: true, Monitor: 0, AllowQuit: true,
		Passes: []PassConfig{
			{Pass: "warp", Params: map[string]float64{"zoom": 1.008, "rotate": 0.002, "follow": 0.3}},
			{Pass: "flow", Params: map[string]float64{"amount": 6}},
			{Pass: "deepdream", Params: map[string]float64{"step": 0.04, "layer": 7, "mix": 1.5, "local": 0.5, "presence_step": 1}},
			{Pass: "inject", Params: map[string]float64{"mix": 0.08, "motion_mix": 0.1, "local": 0.1}},
			{Pass: "color", Params: map[string]float64{"hue": 0.003, "saturation": 1.02, "decay": 0.01, "gamma": 1.005}},
			{Pass: "output", Params: map[string]float64{"vignette": 0.4, "fill": 0}},
		},
		Director:   director.DefaultConfig(),
		PresetTime: 4,
		Dream:      dream.DefaultConfig(),
		Drives:     []Drive{},
		Budget:     budget.DefaultConfig(),
		Presets: []Preset{
			{Name: "tide", Params: map[string]float64{
				"warp.zoom": 1.003, "warp.rotate": 0.0008, "warp.follow": 0,
				"flow.amount": 3, "deepdream.step": 0.02, "deepdream.layer": 4, "deepdream.mix": 1,
				"inject.mix": 0.05, "inject.motion_mix": 0.05, "inject.local": 0,
				"color.hue": 0.001, "color.saturation": 1.0, "color.decay": 0.004,
				"director.smoothing": 2, "director.gain": 1.5,
			}},
			{Name: "bloom", Params: map[string]float64{
				"warp.zoom": 1.02, "warp.rotate": 0.006, "warp.follow": 0.8,
				"flow.amount": 14, "deepdream.step": 0.06, "deepdream.layer": 8, "deepdream.local": 1, "deepdream.presence_layers": 2,
				"inject.mix": 0.06, "inject.motion_mix": 0.2, "inject.presence_mix": 0.1, "inject.local": 0.4,
				"color.hue": 0.008, "color.saturation": 1.06, "color.decay": 0.015, "color.gamma": 1.01,
				"director.smoothing": 0.3, "director.gain": 5,
			}},
			{Name: "mirror", Params: map[string]float64{
				"warp.zoom": 1.012, "warp.rotate": 0, "warp.follow": 0,
				"flow.amount": 10, "deepdream.step": 0.03,
				"inject.mix": 0.06, "inject.local": 0, "inject.silhouette": 0.6,
				"color.hue": 0.002, "color.decay": 0.012,
				"output.vignette": 0.6,
			}},
			{Name: "repaint", Params: map[string]float64{
				"warp.zoom": 1.002, "warp.rotate": 0, "warp.follow": 0,
				"flow.amount": 2, "deepdream.step": 0.015,
				"inject.mix": 0.35, "inject.motion_mix": 0.1, "inject.local": 0,
				"color.decay": 0.02, "generator.strength": 0.8,
			}},
		},
	}
}

// FieldError names the config key a validation failure is about.
type FieldError = field.Error

// Validate checks every value, including each pass's parameters and every
// preset against the chain it would change.
func (c *Config) Validate() error {
	if c.RenderW < 64 || c.RenderW > 7680 {
		return &FieldError{Key: "render_width", Msg: fmt.Sprintf("%d: expected 64..7680", c.RenderW)}
	}
	if c.RenderH < 64 || c.RenderH > 4320 {
		return &FieldError{Key: "render_height", Msg: fmt.Sprintf("%d: expected 64..4320", c.RenderH)}
	}
	if c.Monitor < 0 || c.Monitor > 15 {
		return &FieldError{Key: "monitor", Msg: fmt.Sprintf("%d: expected 0..15", c.Monitor)}
	}
	if len(c.Passes) == 0 {
		return &FieldError{Key: "passes", Msg: "empty; list at least one pass (" + strings.Join(PassNames(), ", ") + ")"}
	}
	outputs := 0
	for i, pc := range c.Passes {
		key := fmt.Sprintf("passes[%d]", i)
		def, ok := lookupPass(pc.Pass)
		if !ok {
			return &FieldError{Key: key + ".pass", Msg: fmt.Sprintf("%q: expected one of %s", pc.Pass, strings.Join(PassNames(), ", "))}
		}
		if pc.Pass == "output" {
			if outputs++; outputs > 1 || i != len(c.Passes)-1 {
				return &FieldError{Key: key + ".pass", Msg: "output must be the last pass, and there is only one"}
			}
		}
		for name, v := range pc.Params {
			spec := findParam(def.params, name)
			if spec == nil {
				var known []string
				for _, p := range def.params {
					known = append(known, p.Name)
				}
				sort.Strings(known)
				return &FieldError{Key: key + "." + name, Msg: fmt.Sprintf("unknown parameter of pass %s; expected one of %s", pc.Pass, strings.Join(known, ", "))}
			}
			if v < spec.Min || v > spec.Max {
				return &FieldError{Key: key + "." + name, Msg: fmt.Sprintf("%g: expected %g..%g", v, spec.Min, spec.Max)}
			}
		}
	}
	if err := c.Director.Validate(); err != nil {
		var fe *FieldError
		if errors.As(err, &fe) {
			return &FieldError{Key: "director." + fe.Key, Msg: fe.Msg}
		}
		return err
	}
	if err := c.Dream.Validate(); err != nil {
		var fe *FieldError
		if errors.As(err, &fe) {
			return &FieldError{Key: "dream." + fe.Key, Msg: fe.Msg}
		}
		return err
	}
	if err := c.Budget.Validate(); err != nil {
		return err
	}
	if c.PresetTime < 0 || c.PresetTime > 600 {
		return &FieldError{Key: "preset_time", Msg: fmt.Sprintf("%g: expected 0..600 seconds", c.PresetTime)}
	}
	specs := paramSpecs(c)
	names := map[string]bool{}
	for i, p := range c.Presets {
		key := fmt.Sprintf("presets[%d]", i)
		if p.Name == "" {
			return &FieldError{Key: key + ".name", Msg: "missing; every preset needs a name"}
		}
		if names[p.Name] {
			return &FieldError{Key: key + ".name", Msg: fmt.Sprintf("%q is used twice", p.Name)}
		}
		names[p.Name] = true
		for k, v := range p.Params {
			if name, ok := strings.CutPrefix(k, genPrefix); ok {
				// A model input: its name and range depend on the model
				// running when the preset applies, which checks them.
				if name == "" || strings.ContainsAny(name, ". ") {
					return &FieldError{Key: key + "." + k, Msg: "expected generator.NAME, the param name of one of the model's inputs (e.g. generator.psi)"}
				}
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return &FieldError{Key: key + "." + k, Msg: fmt.Sprintf("%g: expected a finite number", v)}
				}
				continue
			}
			s, ok := specs[k]
			if !ok {
				return &FieldError{Key: key + "." + k, Msg: "not a parameter of this chain; expected pass.param (e.g. warp.zoom), director.gain, director.smoothing, director.idle_period, map.FEATURE or generator.NAME (a model input)"}
			}
			if v < s.Min || v > s.Max {
				return &FieldError{Key: key + "." + k, Msg: fmt.Sprintf("%g: expected %g..%g", v, s.Min, s.Max)}
			}
		}
	}
	if err := validateDrives(c.Drives, specs, PassIDs(c.Passes)); err != nil {
		return err
	}
	if c.Preset != "" && !names[c.Preset] {
		return &FieldError{Key: "preset", Msg: fmt.Sprintf("%q: no preset of that name (have %s)", c.Preset, strings.Join(presetNames(c.Presets), ", "))}
	}
	return nil
}

// HasParam says whether name is a live parameter of this config's scene
// (a pass's, the director's or a mapping's gain), or generator.NAME, a
// model input, which only the running model can check.
func (c *Config) HasParam(name string) bool {
	if n, ok := strings.CutPrefix(name, genPrefix); ok {
		return n != "" && !strings.ContainsAny(n, ". ")
	}
	if n, ok := oldParamNames[name]; ok {
		name = n
	}
	_, ok := paramSpecs(c)[name]
	return ok
}

// ParamRange is a scene parameter's range; ok is false for a name that is
// not one (generator.NAME included: only the running model knows it).
func (c *Config) ParamRange(name string) (lo, hi float64, ok bool) {
	if n, old := oldParamNames[name]; old {
		name = n
	}
	p, ok := paramSpecs(c)[name]
	return p.Min, p.Max, ok
}

// HasPreset says whether the scene has a preset of that name.
func (c *Config) HasPreset(name string) bool {
	for _, p := range c.Presets {
		if p.Name == name {
			return true
		}
	}
	return false
}

func findParam(ps []Param, name string) *Param {
	for i := range ps {
		if ps[i].Name == name {
			return &ps[i]
		}
	}
	return nil
}

func presetNames(ps []Preset) []string {
	var s []string
	for _, p := range ps {
		s = append(s, p.Name)
	}
	return s
}

// paramSpecs lists every live parameter of this config with its configured
// value: the passes' (pass.param), the director's, and each mapping's gain.
func paramSpecs(c *Config) map[string]ParamInfo {
	out := map[string]ParamInfo{}
	for i, id := range PassIDs(c.Passes) {
		def, _ := lookupPass(c.Passes[i].Pass)
		for _, p := range def.params {
			v := p.Default
			if x, ok := c.Passes[i].Params[p.Name]; ok {
				v = x
			}
			out[id+"."+p.Name] = ParamInfo{Name: id + "." + p.Name, Value: v, Min: p.Min, Max: p.Max, Doc: p.Doc}
		}
	}
	for _, p := range c.Director.Params() {
		out[p.Name] = ParamInfo{p.Name, p.Value, p.Min, p.Max, p.Doc}
	}
	return out
}

// Package scene is where the piece gets its character: the Director that
// moves through latent space as the audience moves, and the Ebiten Game that
// shows generator frames through the chain of Kage feedback passes.
package scene

import (
	"fmt"
	"sort"
	"strings"
)

// Config is the scene section of config.yaml.
type Config struct {
	RenderW    int            `yaml:"render_width"` // internal render size
	RenderH    int            `yaml:"render_height"`
	Fullscreen bool           `yaml:"fullscreen"`
	AllowQuit  bool           `yaml:"allow_quit"` // Esc quits
	Passes     []PassConfig   `yaml:"passes"`
	Director   DirectorConfig `yaml:"director"`
}

// PassConfig is one entry of scene.passes: the pass's kind and its parameters.
type PassConfig struct {
	Pass   string             `yaml:"pass"`
	Params map[string]float64 `yaml:",inline"`
}

// DirectorConfig is scene.director.
type DirectorConfig struct {
	Seed      uint64  `yaml:"seed"`       // directions and the idle walk
	Smoothing float64 `yaml:"smoothing"`  // spring time constant, seconds
	Gain      float64 `yaml:"gain"`       // how far motion pushes the latent
	IdleSpeed float64 `yaml:"idle_speed"` // seconds per idle keyframe
}

// DefaultConfig is the scene section's defaults, the same as config.yaml's.
func DefaultConfig() Config {
	return Config{
		RenderW: 1280, RenderH: 720, Fullscreen: true, AllowQuit: true,
		Passes: []PassConfig{
			{Pass: "warp", Params: map[string]float64{"zoom": 1.01, "rotate": 0.002}},
			{Pass: "inject", Params: map[string]float64{"mix": 0.1}},
		},
		Director: DirectorConfig{Seed: 11, Smoothing: 0.6, Gain: 2.5, IdleSpeed: 12},
	}
}

// FieldError names the config key a validation failure is about.
type FieldError struct {
	Key string
	Msg string
}

func (e *FieldError) Error() string { return e.Key + ": " + e.Msg }

// FieldKey is the key below the section.
func (e *FieldError) FieldKey() string { return e.Key }

// Validate checks every value, including each pass's parameters.
func (c *Config) Validate() error {
	if c.RenderW < 64 || c.RenderW > 7680 {
		return &FieldError{"render_width", fmt.Sprintf("%d: expected 64..7680", c.RenderW)}
	}
	if c.RenderH < 64 || c.RenderH > 4320 {
		return &FieldError{"render_height", fmt.Sprintf("%d: expected 64..4320", c.RenderH)}
	}
	if len(c.Passes) == 0 {
		return &FieldError{"passes", "empty; list at least one pass (" + strings.Join(PassNames(), ", ") + ")"}
	}
	for i, pc := range c.Passes {
		key := fmt.Sprintf("passes[%d]", i)
		def, ok := passDefs[pc.Pass]
		if !ok {
			return &FieldError{key + ".pass", fmt.Sprintf("%q: expected one of %s", pc.Pass, strings.Join(PassNames(), ", "))}
		}
		for name, v := range pc.Params {
			var spec *Param
			for j := range def.params {
				if def.params[j].Name == name {
					spec = &def.params[j]
				}
			}
			if spec == nil {
				var known []string
				for _, p := range def.params {
					known = append(known, p.Name)
				}
				sort.Strings(known)
				return &FieldError{key + "." + name, fmt.Sprintf("unknown parameter of pass %s; expected one of %s", pc.Pass, strings.Join(known, ", "))}
			}
			if v < spec.Min || v > spec.Max {
				return &FieldError{key + "." + name, fmt.Sprintf("%g: expected %g..%g", v, spec.Min, spec.Max)}
			}
		}
	}
	d := c.Director
	if d.Smoothing < 0.01 || d.Smoothing > 30 {
		return &FieldError{"director.smoothing", fmt.Sprintf("%g: expected 0.01..30 seconds", d.Smoothing)}
	}
	if d.Gain < 0 || d.Gain > 20 {
		return &FieldError{"director.gain", fmt.Sprintf("%g: expected 0..20", d.Gain)}
	}
	if d.IdleSpeed < 0.5 || d.IdleSpeed > 600 {
		return &FieldError{"director.idle_speed", fmt.Sprintf("%g: expected 0.5..600 seconds per keyframe", d.IdleSpeed)}
	}
	return nil
}

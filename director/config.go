package director

import (
	"fmt"
	"strings"

	"reverie/gen"
	"reverie/internal/field"
)

// Config is scene.director in config.yaml.
type Config struct {
	Seed       uint64  `yaml:"seed"`        // directions and the idle walk
	Smoothing  float64 `yaml:"smoothing"`   // spring time constant, seconds
	Gain       float64 `yaml:"gain"`        // how far the audience pushes the latent
	IdlePeriod float64 `yaml:"idle_period"` // seconds per idle keyframe
	// OldIdleSpeed is idle_period's old name, still read; the scene's
	// Upgrade moves it.
	OldIdleSpeed *float64  `yaml:"idle_speed,omitempty"`
	Transition   float64   `yaml:"transition"` // seconds of the turn on arrival and departure
	HomeAfter    float64   `yaml:"home_after"` // seconds of absence before drifting home
	Directions   string    `yaml:"directions"` // auto | seeded | model
	Mapping      []Mapping `yaml:"mapping"`
}

// Mapping says which feature pushes along which latent direction, and how
// hard. The grid feature pushes cell i along direction Direction+i.
type Mapping struct {
	Feature   string  `yaml:"feature"`
	Direction int     `yaml:"direction"`
	Gain      float64 `yaml:"gain"`
}

// DefaultConfig is the director's defaults, the same as config.yaml's.
func DefaultConfig() Config {
	return Config{
		Seed: 11, Smoothing: 0.6, Gain: 2.5, IdlePeriod: 12, Transition: 3, HomeAfter: 120,
		Directions: "auto",
		Mapping: []Mapping{
			{"motion", 0, 1}, {"centroid_x", 1, 1}, {"centroid_y", 2, 1},
			{"flow_x", 3, 1}, {"flow_y", 4, 1}, {"presence", 5, 0.5},
		},
	}
}

// Validate checks every value; an error names the key below director.
func (d *Config) Validate() error {
	if d.Smoothing < 0.01 || d.Smoothing > 30 {
		return &field.Error{Key: "smoothing", Msg: fmt.Sprintf("%g: expected 0.01..30 seconds", d.Smoothing)}
	}
	if d.Gain < 0 || d.Gain > 20 {
		return &field.Error{Key: "gain", Msg: fmt.Sprintf("%g: expected 0..20", d.Gain)}
	}
	if d.IdlePeriod < 0.5 || d.IdlePeriod > 600 {
		return &field.Error{Key: "idle_period", Msg: fmt.Sprintf("%g: expected 0.5..600 seconds per keyframe", d.IdlePeriod)}
	}
	if d.Transition < 0.1 || d.Transition > 60 {
		return &field.Error{Key: "transition", Msg: fmt.Sprintf("%g: expected 0.1..60 seconds", d.Transition)}
	}
	if d.HomeAfter < 1 || d.HomeAfter > 86400 {
		return &field.Error{Key: "home_after", Msg: fmt.Sprintf("%g: expected 1..86400 seconds", d.HomeAfter)}
	}
	switch d.Directions {
	case "auto", "seeded", "model":
	default:
		return &field.Error{Key: "directions", Msg: fmt.Sprintf("%q: expected auto, seeded or model", d.Directions)}
	}
	for i, m := range d.Mapping {
		key := fmt.Sprintf("mapping[%d]", i)
		if _, ok := ParseFeature(m.Feature); !ok {
			return &field.Error{Key: key + ".feature", Msg: fmt.Sprintf("%q: expected one of %s", m.Feature, strings.Join(FeatureNames(), ", "))}
		}
		if m.Direction < 0 || m.Direction > 4095 {
			return &field.Error{Key: key + ".direction", Msg: fmt.Sprintf("%d: expected 0..4095", m.Direction)}
		}
		if m.Gain < -10 || m.Gain > 10 {
			return &field.Error{Key: key + ".gain", Msg: fmt.Sprintf("%g: expected -10..10", m.Gain)}
		}
	}
	return nil
}

// MappingIDs names each mapping's gain for live control: map.motion, and
// map.motion#2 for a feature's second entry.
func MappingIDs(ms []Mapping) []string {
	seen := map[string]int{}
	ids := make([]string, len(ms))
	for i, m := range ms {
		seen[m.Feature]++
		ids[i] = "map." + m.Feature
		if n := seen[m.Feature]; n > 1 {
			ids[i] = fmt.Sprintf("map.%s#%d", m.Feature, n)
		}
	}
	return ids
}

// Param is one live director parameter, with its configured value.
type Param struct {
	Name            string
	Value, Min, Max float64
	Doc             string
}

// Params lists the director's live parameters (director.gain, map.motion…)
// with their configured values and ranges; ParamSlot finds each one.
func (d *Config) Params() []Param {
	ps := []Param{
		{"director.gain", d.Gain, 0, 20, "how far the audience pushes the latent"},
		{"director.smoothing", d.Smoothing, 0.01, 30, "spring time constant, seconds"},
		{"director.idle_period", d.IdlePeriod, 0.5, 600, "seconds per keyframe of the idle walk"},
	}
	for i, id := range MappingIDs(d.Mapping) {
		ps = append(ps, Param{id, d.Mapping[i].Gain, -10, 10, fmt.Sprintf("gain of %s along direction %d", d.Mapping[i].Feature, d.Mapping[i].Direction)})
	}
	return ps
}

// ForModel is NewFor, falling back to seeded directions (with the reason)
// so the latent size always follows the model: a model swap uses it.
func ForModel(cfg Config, man *gen.Manifest) (*Director, error) {
	d, err := NewFor(cfg, man)
	if err == nil {
		return d, nil
	}
	d = newDirector(cfg, man.Latent.Dim, man)
	return d, fmt.Errorf("%w; the director uses seeded directions for %s", err, man.Source())
}

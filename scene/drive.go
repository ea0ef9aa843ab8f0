package scene

import (
	"fmt"
	"math"
	"strings"

	"reverie/audio"
	"reverie/director"
)

// Drive moves a pass parameter with a feature, every displayed frame: a
// zoom kick on each beat, the hue drifting with the treble, the flow
// stronger as more people move. The parameter's own value (from the
// passes, a preset or live control) is the base; the drive adds Amount
// times the feature's envelope on top, within the parameter's range, and
// never changes the base.
type Drive struct {
	Feature string  `yaml:"feature"` // a feature, as scene.director.mapping names them
	Param   string  `yaml:"param"`   // a pass parameter of the chain: warp.zoom
	Amount  float64 `yaml:"amount"`  // added at feature 1 (negative subtracts)
	Attack  float64 `yaml:"attack"`  // seconds the envelope takes to rise, 0..10
	Release float64 `yaml:"release"` // seconds it takes to fall, 0..10
}

// validateDrives checks each drive against the chain's parameters.
func validateDrives(ds []Drive, specs map[string]ParamInfo, passIDs []string) error {
	for i, d := range ds {
		key := fmt.Sprintf("drives[%d]", i)
		if _, ok := director.ParseFeature(d.Feature); !ok {
			return &FieldError{Key: key + ".feature", Msg: fmt.Sprintf("%q: expected one of %s", d.Feature, strings.Join(director.FeatureNames(), ", "))}
		}
		s, ok := specs[d.Param]
		if !ok || !isPassParam(d.Param, passIDs) {
			return &FieldError{Key: key + ".param", Msg: fmt.Sprintf("%q is not a parameter of a pass in scene.passes; expected pass.param, such as warp.zoom or color.hue", d.Param)}
		}
		if span := s.Max - s.Min; math.IsNaN(d.Amount) || math.Abs(d.Amount) > span*(1+1e-9) {
			return &FieldError{Key: key + ".amount", Msg: fmt.Sprintf("%g: expected -%.4g..%.4g, at most %s's whole range", d.Amount, span, span, d.Param)}
		}
		if !(d.Attack >= 0 && d.Attack <= 10) {
			return &FieldError{Key: key + ".attack", Msg: fmt.Sprintf("%g: expected 0..10 seconds", d.Attack)}
		}
		if !(d.Release >= 0 && d.Release <= 10) {
			return &FieldError{Key: key + ".release", Msg: fmt.Sprintf("%g: expected 0..10 seconds", d.Release)}
		}
	}
	return nil
}

func isPassParam(name string, passIDs []string) bool {
	for _, id := range passIDs {
		if strings.HasPrefix(name, id+".") {
			return true
		}
	}
	return false
}

// drive is a Drive bound to the running chain.
type drive struct {
	cfg     Drive
	feature director.Feature
	param   int     // index into Game.params
	env     float64 // the envelope, following the feature
	base    float64 // the parameter's own value while the drive holds it
	applied bool
}

// buildDrives binds scene.drives to the chain's parameters; a rebuilt chain
// binds them again.
func (g *Game) buildDrives() {
	g.drives = g.drives[:0]
	for _, d := range g.cfg.Drives {
		f, ok := director.ParseFeature(d.Feature)
		i, found := g.byName[d.Param]
		if !ok || !found || g.params[i].f32 == nil {
			continue // Validate refused it
		}
		g.drives = append(g.drives, drive{cfg: d, feature: f, param: i})
	}
}

// SetSound hands the game the newest sound features (nil when there is no
// sound). They are copied.
func (g *Game) SetSound(s *audio.Features) {
	if s == nil {
		g.haveSnd = false
		return
	}
	g.snd, g.haveSnd = *s, true
}

// stepDrives follows each drive's feature with its attack and release.
func (g *Game) stepDrives(dt float64) {
	var snd *audio.Features
	if g.haveSnd {
		snd = &g.snd
	}
	var cam = &g.feats
	if !g.haveFeats {
		cam = nil
	}
	g.senses.Update(cam, snd, dt)
	for k := range g.drives {
		d := &g.drives[k]
		x := g.senses.Value(d.feature)
		tau := d.cfg.Release
		if x > d.env {
			tau = d.cfg.Attack
		}
		if tau <= 0 {
			d.env = x
		} else {
			d.env += (x - d.env) * (1 - math.Exp(-dt/tau))
		}
	}
}

// applyDrives puts each driven parameter at its base plus the drive, for
// the draws of one frame; restoreDrives puts the bases back, so presets,
// live control and /api/params only ever see the base.
func (g *Game) applyDrives() {
	for k := range g.drives {
		d := &g.drives[k]
		p := &g.params[d.param]
		d.base, d.applied = p.get(), true
		v := d.base + d.cfg.Amount*d.env
		p.set(math.Max(p.info.Min, math.Min(p.info.Max, v)))
	}
}

func (g *Game) restoreDrives() {
	for k := len(g.drives) - 1; k >= 0; k-- { // two drives on one parameter unwind in turn
		d := &g.drives[k]
		if d.applied {
			g.params[d.param].set(d.base)
			d.applied = false
		}
	}
}

// Package director moves a point through a generator's latent space, the
// piece's choreography: an idle walk between keyframes, pushed along
// directions by what the camera sees, smoothed by a spring. It is pure
// latent maths: camera and sound features in, a latent out, no drawing.
package director

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"reverie/audio"
	"reverie/gen"
	"reverie/vision"
)

// Director moves a point through the generator's latent space: a slow
// autonomous walk between random keyframes, pushed along directions by what
// the audience does, and smoothed by a critically damped spring so the image
// never jumps. A visitor's arrival or departure turns the walk toward a new
// keyframe; a long absence walks it home. Given the same seed, features and
// time steps it produces the same latents.
type Director struct {
	cfg    Config
	dim    int
	rng    *rand.Rand
	dirs   [][]float32 // unit directions the audience pushes along
	maps   []Feature   // each mapping's feature
	senses Senses

	home       []float32 // the look an empty room returns to
	key0, key1 []float32 // the walk's current segment
	keyT       float64   // seconds into the segment
	segLen     float64   // the segment's length in seconds
	walk       []float32 // the walk's point, before the audience's push

	present bool
	absent  float64 // seconds since anyone was present
	atHome  bool
	calm    float64 // seconds the motion has stayed below calmMotion
	// startled: the last Step saw someone arrive, or motion after calm.
	startled bool

	offset       []float32          // live offsets per component (OSC)
	pushes       [MaxPushes]float64 // live pushes along directions (push.K)
	target, z, v []float32
	started      bool

	man *gen.Manifest // the model it was built for (NewFor, ForModel), nil otherwise
}

// New prepares a director for a latent of dim values, with seeded
// orthonormal directions.
func New(cfg Config, dim int) *Director { return newDirector(cfg, dim, nil) }

// newDirector draws the home look and the walk's keyframes from man's
// latent distribution (normal without a manifest).
func newDirector(cfg Config, dim int, man *gen.Manifest) *Director {
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x64697265))
	cfg.Mapping = append([]Mapping(nil), cfg.Mapping...) // live control changes gains
	d := &Director{cfg: cfg, dim: dim, rng: rng, man: man}
	for _, m := range cfg.Mapping {
		f, _ := ParseFeature(m.Feature)
		d.maps = append(d.maps, f)
	}
	d.dirs = orthonormal(rng, min(dim, directionsNeeded(cfg.Mapping)), dim)
	d.home = d.randomLatent()
	d.key0 = append([]float32(nil), d.home...)
	d.key1 = d.randomLatent()
	d.segLen = cfg.IdlePeriod
	d.walk = append([]float32(nil), d.home...)
	d.offset = make([]float32, dim)
	d.target = make([]float32, dim)
	d.z = make([]float32, dim)
	d.v = make([]float32, dim)
	return d
}

// NewFor prepares a director for a model: it uses the model's own
// directions file when the config asks for it (model) or allows it (auto)
// and the manifest names one.
func NewFor(cfg Config, man *gen.Manifest) (*Director, error) {
	d := newDirector(cfg, man.Latent.Dim, man)
	if cfg.Directions == "seeded" || (cfg.Directions == "auto" && man.Directions == "") {
		return d, nil
	}
	if man.Directions == "" {
		return nil, fmt.Errorf("scene.director.directions is model, but the model %s names no directions file", man.Source())
	}
	dirs, err := man.LoadDirections()
	if err != nil {
		return nil, err
	}
	d.dirs = dirs
	return d, nil
}

// directionsNeeded is how many directions the mapping addresses; the grid
// takes one per cell, assumed at most 64 cells.
func directionsNeeded(ms []Mapping) int {
	n := 1
	for _, m := range ms {
		k := m.Direction + 1
		if m.Feature == "grid" {
			k = m.Direction + 64
		}
		n = max(n, k)
	}
	return n
}

func (d *Director) randomLatent() []float32 {
	z := make([]float32, d.dim)
	gen.SampleLatent(d.rng, d.distribution(), z)
	return z
}

// distribution is the model's latent distribution (its manifest's), normal
// for a director built for a bare size.
func (d *Director) distribution() string {
	if d.man != nil {
		return d.man.Latent.Distribution
	}
	return "normal"
}

// orthonormal draws k random orthonormal vectors of length n (Gram–Schmidt).
func orthonormal(rng *rand.Rand, k, n int) [][]float32 {
	out := make([][]float32, 0, k)
	for len(out) < k {
		v := make([]float64, n)
		for i := range v {
			v[i] = rng.NormFloat64()
		}
		for _, u := range out {
			var dot float64
			for i := range v {
				dot += v[i] * float64(u[i])
			}
			for i := range v {
				v[i] -= dot * float64(u[i])
			}
		}
		var norm float64
		for _, x := range v {
			norm += x * x
		}
		norm = math.Sqrt(norm)
		if norm < 1e-6 {
			continue
		}
		u := make([]float32, n)
		for i := range v {
			u[i] = float32(v[i] / norm)
		}
		out = append(out, u)
	}
	return out
}

// Latent is the current latent. It belongs to the director.
func (d *Director) Latent() []float32 { return d.z }

// Settings is the director's config as live control has changed it.
func (d *Director) Settings() Config { return d.cfg }

// Manifest is the model the director was built for (NewFor, ForModel), nil
// when it was built for a bare size.
func (d *Director) Manifest() *gen.Manifest { return d.man }

// Direction is the unit direction i the audience pushes along.
func (d *Director) Direction(i int) []float32 { return d.dirs[i] }

// Offset is latent component i's live offset (SetOffset).
func (d *Director) Offset(i int) float32 { return d.offset[i] }

// Dim is the latent's length.
func (d *Director) Dim() int { return d.dim }

// Directions is how many directions the audience can push along.
func (d *Director) Directions() int { return len(d.dirs) }

// ParamSlot is where the live parameter name (one of Config.Params) lives in
// this director, nil when it is not the director's. Live control and
// presets write through it on the game loop.
func (d *Director) ParamSlot(name string) *float64 {
	switch name {
	case "director.gain":
		return &d.cfg.Gain
	case "director.smoothing":
		return &d.cfg.Smoothing
	case "director.idle_period":
		return &d.cfg.IdlePeriod
	}
	for i, id := range MappingIDs(d.cfg.Mapping) {
		if id == name {
			return &d.cfg.Mapping[i].Gain
		}
	}
	if k, ok := pushIndex(name); ok && k < min(len(d.dirs), MaxPushes) {
		return &d.pushes[k]
	}
	return nil
}

// MaxPushes bounds the direction sliders: push.0 .. push.15, or as many as
// the director has directions.
const MaxPushes = 16

// pushLimit is a push's range, in the latent's standard deviations.
const pushLimit = 5

// PushParams lists the live pushes along the director's directions,
// push.K, as Artbreeder's sliders: each moves the picture along latent
// direction K, the same directions the audience's mappings push along.
func (d *Director) PushParams() []Param {
	n := min(len(d.dirs), MaxPushes)
	ps := make([]Param, n)
	for k := range n {
		ps[k] = Param{fmt.Sprintf("push.%d", k), d.pushes[k], -pushLimit, pushLimit,
			fmt.Sprintf("push along latent direction %d, in the latent's standard deviations%s", k, d.pushedBy(k))}
	}
	return ps
}

// pushedBy names the features mapped to direction k, for the slider's doc.
func (d *Director) pushedBy(k int) string {
	var fs []string
	for _, m := range d.cfg.Mapping {
		if len(d.dirs) > 0 && m.Feature != "grid" && m.Direction%len(d.dirs) == k {
			fs = append(fs, m.Feature)
		}
	}
	if len(fs) == 0 {
		return ""
	}
	return "; the audience's " + strings.Join(fs, ", ") + " pushes along it too"
}

func pushIndex(name string) (int, bool) {
	s, ok := strings.CutPrefix(name, "push.")
	if !ok {
		return 0, false
	}
	k, err := strconv.Atoi(s)
	return k, err == nil && k >= 0 && strconv.Itoa(k) == s
}

// Present reports whether the director currently counts someone present.
func (d *Director) Present() bool { return d.present }

// The motion a room counts as calm below, and as stirring again at or
// above once it has been calm for calmFor: the features' motion energy,
// 0..1, which a still room keeps near 0.
const (
	calmMotion  = 0.02
	onsetMotion = 0.05
	calmFor     = 0.5 // seconds
)

// Startled reports whether the last Step saw the audience do something new:
// someone arrive, or motion start after calm. The piece answers those at
// once (gen.Runner.Hurry); the motion that goes on after is not new.
func (d *Director) Startled() bool { return d.startled }

// notice updates Startled for one step of dt seconds, before the step
// takes present as the new presence.
func (d *Director) notice(f *vision.Features, present bool, dt float64) {
	var motion float32
	if f != nil {
		motion = f.Motion
	}
	d.startled = (present && !d.present) || (motion >= onsetMotion && d.calm >= calmFor)
	if motion < calmMotion {
		d.calm += dt
	} else {
		d.calm = 0
	}
}

// SetOffset adds v to latent component i from now on (live control).
func (d *Director) SetOffset(i int, v float32) {
	if i >= 0 && i < d.dim {
		d.offset[i] = v
	}
}

// ContinueFrom takes over from old, the director of the model before a
// swap: whether someone is there, how long the room has been empty, and
// whether the walk had gone home. The walk itself starts afresh at this
// director's keyframes, which are of the new latent size.
func (d *Director) ContinueFrom(old *Director) {
	if old == nil {
		return
	}
	d.present, d.absent, d.atHome = old.present, old.absent, old.atHome
	if d.atHome {
		d.nextSegment(d.cfg.IdlePeriod) // breathe around home, as before
	}
}

// nextSegment starts a walk segment from where the walk is now toward a new
// keyframe over seconds: near home after a long absence, anywhere otherwise.
func (d *Director) nextSegment(seconds float64) {
	copy(d.key0, d.walk)
	gen.SampleLatent(d.rng, d.distribution(), d.key1)
	if d.atHome {
		// Breathe around home rather than leave it.
		slerp(d.key1, d.home, d.key1, 0.2)
	}
	d.keyT = 0
	d.segLen = seconds
}

// Step advances the director by dt seconds under the given camera and
// sound features (nil when there is no camera, or no sound) and returns
// the new latent.
func (d *Director) Step(f *vision.Features, snd *audio.Features, dt float64) []float32 {
	d.senses.Update(f, snd, dt)
	present := f != nil && f.Presence
	d.notice(f, present, dt)
	switch {
	case present && !d.present:
		d.atHome = false
		d.nextSegment(d.cfg.Transition) // greet the arrival
	case !present && d.present:
		d.nextSegment(d.cfg.Transition) // see them off
	}
	d.present = present
	if present {
		d.absent = 0
	} else {
		d.absent += dt
		if d.absent >= d.cfg.HomeAfter && !d.atHome {
			copy(d.key0, d.walk)
			copy(d.key1, d.home)
			d.keyT, d.segLen, d.atHome = 0, 4*d.cfg.Transition, true
		}
	}

	var motion float64
	if f != nil {
		motion = float64(f.Motion)
	}
	// The walk hurries a little while people move.
	d.keyT += dt * (1 + 2*motion)
	if d.keyT >= d.segLen {
		copy(d.walk, d.key1)
		d.nextSegment(d.cfg.IdlePeriod)
	}
	s := d.keyT / d.segLen
	slerp(d.walk, d.key0, d.key1, s*s*(3-2*s))
	copy(d.target, d.walk)
	for i, o := range d.offset {
		d.target[i] += o
	}
	for k := range min(len(d.dirs), MaxPushes) {
		d.along(k, d.pushes[k])
	}
	if (f != nil || snd != nil) && len(d.dirs) > 0 {
		d.push()
	}

	if !d.started {
		copy(d.z, d.target)
		d.started = true
		return d.z
	}
	// Exact step of a critically damped spring toward a constant target.
	w := 1 / d.cfg.Smoothing
	e := math.Exp(-w * dt)
	for i := range d.z {
		x0 := float64(d.z[i] - d.target[i])
		v0 := float64(d.v[i])
		c := v0 + w*x0
		d.z[i] = d.target[i] + float32((x0+c*dt)*e)
		d.v[i] = float32((v0 - w*c*dt) * e)
	}
	return d.z
}

// push adds each mapped feature along its direction. Directions beyond the
// ones available wrap around.
func (d *Director) push() {
	g := d.cfg.Gain
	for i, m := range d.cfg.Mapping {
		if m.Gain == 0 {
			continue
		}
		if f := d.senses.Camera(); d.maps[i] == Grid && f != nil {
			for k, e := range f.Grid {
				d.along((m.Direction+k)%len(d.dirs), g*m.Gain*float64(e))
			}
			continue
		}
		d.along(m.Direction%len(d.dirs), g*m.Gain*d.senses.Value(d.maps[i]))
	}
}

func (d *Director) along(k int, amount float64) {
	if amount == 0 {
		return
	}
	for i, u := range d.dirs[k] {
		d.target[i] += float32(amount * float64(u))
	}
}

// slerp interpolates spherically from a to b, so a walk between normally
// distributed latents keeps their typical length and the image never greys.
func slerp(dst, a, b []float32, t float64) {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	cos := dot / math.Sqrt(na*nb+1e-12)
	cos = math.Max(-1, math.Min(1, cos))
	omega := math.Acos(cos)
	if omega < 1e-4 {
		for i := range dst {
			dst[i] = a[i] + float32(t)*(b[i]-a[i])
		}
		return
	}
	sa := math.Sin((1-t)*omega) / math.Sin(omega)
	sb := math.Sin(t*omega) / math.Sin(omega)
	for i := range dst {
		dst[i] = float32(sa*float64(a[i]) + sb*float64(b[i]))
	}
}

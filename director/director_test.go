package director

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"reverie/gen"
	"reverie/vision"
)

func TestDirectorIsDeterministic(t *testing.T) {
	cfg := DefaultConfig()
	a, b := New(cfg, 16), New(cfg, 16)
	f := &vision.Features{}
	for i := 0; i < 300; i++ {
		f.Motion = float32(math.Abs(math.Sin(float64(i) / 7)))
		f.Level = 1
		f.Centroid = [2]float32{float32(i%10) / 10, 0.5}
		za, zb := a.Step(f, nil, 1.0/30), b.Step(f, nil, 1.0/30)
		for k := range za {
			if za[k] != zb[k] {
				t.Fatalf("step %d: latents differ at %d", i, k)
			}
		}
	}
}

// A sudden jump in the features moves the latent smoothly: no step is larger
// than a small fraction of the jump, and it does not overshoot.
func TestDirectorSpringHasNoJumps(t *testing.T) {
	cfg := DefaultConfig()
	cfg.IdlePeriod = 600 // keep the idle walk nearly still
	d := New(cfg, 16)
	still := &vision.Features{}
	for i := 0; i < 60; i++ {
		d.Step(still, nil, 1.0/60)
	}
	start := append([]float32(nil), d.Latent()...)
	jump := &vision.Features{Motion: 1, Level: 1}
	var maxStep, total float64
	prev := append([]float32(nil), start...)
	for i := 0; i < 600; i++ {
		z := d.Step(jump, nil, 1.0/60)
		s := dist32(z, prev)
		maxStep = math.Max(maxStep, s)
		copy(prev, z)
	}
	total = dist32(prev, start)
	if total < 1 {
		t.Fatalf("full motion moved the latent only %.3f", total)
	}
	if maxStep > total/10 {
		t.Errorf("largest step %.3f of a %.3f move: a jump", maxStep, total)
	}
}

func dist32(a, b []float32) float64 {
	var s float64
	for i := range a {
		d := float64(a[i] - b[i])
		s += d * d
	}
	return math.Sqrt(s)
}

// From rest, a step in the features moves the latent to the new target
// without passing it by more than a small bound: the spring is critically
// damped.
func TestDirectorSpringOvershootIsBounded(t *testing.T) {
	cfg := DefaultConfig()
	cfg.IdlePeriod = 600
	cfg.Smoothing = 0.4
	d := New(cfg, 16)
	quiet := &vision.Features{}
	for i := 0; i < 600; i++ {
		d.Step(quiet, nil, 1.0/60)
	}
	start := append([]float32(nil), d.Latent()...)
	jump := &vision.Features{Motion: 1}
	// The latent approaches the target from behind along the push; past
	// it is overshoot. The slow walk moves the target a little too, so
	// measure against the target of each step.
	over := math.Inf(-1)
	for i := 0; i < 1200; i++ {
		z := d.Step(jump, nil, 1.0/60)
		over = math.Max(over, proj(z, d.target, d.dirs[0]))
	}
	moved := proj(d.Latent(), start, d.dirs[0])
	want := cfg.Gain // motion 1 × mapping gain 1 × director gain
	if math.Abs(moved-want) > 0.1*want {
		t.Fatalf("settled %.3f along the motion direction, want about %.3f", moved, want)
	}
	if over > 0.01*want {
		t.Errorf("passed the target by %.3f on a %.3f move", over, want)
	}
}

func proj(z, origin, u []float32) float64 {
	var s float64
	for i := range z {
		s += float64(z[i]-origin[i]) * float64(u[i])
	}
	return s
}

// A long empty room walks the latent back to its home look.
func TestDirectorReturnsHomeAfterAbsence(t *testing.T) {
	cfg := DefaultConfig()
	cfg.HomeAfter, cfg.IdlePeriod, cfg.Transition = 20, 5, 1
	d := New(cfg, 16)
	home := append([]float32(nil), d.home...)
	busy := &vision.Features{Presence: true, Level: 1, Motion: 0.5, Centroid: [2]float32{0.8, 0.3}}
	for i := 0; i < 30*30; i++ {
		d.Step(busy, nil, 1.0/30)
	}
	away := dist32(d.Latent(), home)
	for i := 0; i < 30*26; i++ { // 20 s until home, 4 s to walk there
		d.Step(&vision.Features{}, nil, 1.0/30)
	}
	back := dist32(d.Latent(), home)
	if back > 0.35*norm32(home) || back > away/2 {
		t.Errorf("after the room emptied the latent is %.2f from home (was %.2f away, |home| %.2f)", back, away, norm32(home))
	}
}

// An arrival turns the walk toward a new keyframe at once: the latent moves
// faster in the seconds after someone arrives than while the room idles.
func TestDirectorArrivalStartsATransition(t *testing.T) {
	cfg := DefaultConfig()
	cfg.IdlePeriod, cfg.Transition, cfg.Gain = 600, 2, 0
	d := New(cfg, 16)
	for i := 0; i < 60; i++ {
		d.Step(nil, nil, 1.0/30)
	}
	a := append([]float32(nil), d.Latent()...)
	for i := 0; i < 60; i++ {
		d.Step(nil, nil, 1.0/30)
	}
	idle := dist32(d.Latent(), a)
	b := append([]float32(nil), d.Latent()...)
	for i := 0; i < 60; i++ {
		d.Step(&vision.Features{Presence: true, Level: 1}, nil, 1.0/30)
	}
	arrived := dist32(d.Latent(), b)
	if arrived < 5*idle || arrived < 1 {
		t.Errorf("latent moved %.3f in 2 s after an arrival, %.3f in 2 s idle", arrived, idle)
	}
}

func TestDirectionsFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "dirs.bin")
	// Two rows of dim 4: along axes 2 and 0, unnormalised.
	var b []byte
	for _, v := range []float32{0, 0, 3, 0, 5, 0, 0, 0} {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	os.WriteFile(path, b, 0o644)
	cfg := DefaultConfig()
	cfg.Mapping = []Mapping{{"motion", 0, 1}, {"presence", 1, 1}}
	cfg.IdlePeriod = 600
	man := &gen.Manifest{Latent: gen.LatentSpec{Dim: 4}, Directions: path}
	d, err := NewFor(cfg, man)
	if err != nil {
		t.Fatal(err)
	}
	if d.Directions() != 2 || d.dirs[0][2] != 1 || d.dirs[1][0] != 1 {
		t.Fatalf("directions %v: want unit rows along axes 2 and 0", d.dirs)
	}
	// Motion pushes along axis 2 only.
	z0 := append([]float32(nil), d.Step(&vision.Features{}, nil, 1.0/30)...)
	for i := 0; i < 300; i++ {
		d.Step(&vision.Features{Motion: 1}, nil, 1.0/30)
	}
	z := d.Latent()
	if moved := z[2] - z0[2]; math.Abs(float64(moved)-cfg.Gain) > 0.1 {
		t.Errorf("axis 2 moved %.3f under full motion, want %.2f", moved, cfg.Gain)
	}
	os.WriteFile(path, b[:12], 0o644)
	if _, err := NewFor(cfg, man); err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "16 bytes each") {
		t.Errorf("a truncated file: %v", err)
	}
	cfg.Directions = "model"
	if _, err := NewFor(cfg, &gen.Manifest{Latent: gen.LatentSpec{Dim: 4}}); err == nil || !strings.Contains(err.Error(), "directions") {
		t.Errorf("directions: model without a file: %v", err)
	}
}

func norm32(a []float32) float64 { return dist32(a, make([]float32, len(a))) }

// A model whose latent is uniform gets uniform latents from the director:
// its home look and every keyframe of the walk stay inside [-1, 1).
func TestLatentFollowsTheManifestsDistribution(t *testing.T) {
	cfg := DefaultConfig()
	cfg.IdlePeriod = 1
	for _, dist := range []string{"uniform", "normal"} {
		man := &gen.Manifest{Latent: gen.LatentSpec{Dim: 64, Distribution: dist}}
		d, err := NewFor(cfg, man)
		if err != nil {
			t.Fatal(err)
		}
		outside := 0
		for i := 0; i < 600; i++ { // ten walk segments
			d.Step(nil, nil, 1.0/60)
			for _, v := range d.key1 {
				if v < -1 || v >= 1 {
					outside++
				}
			}
		}
		if dist == "uniform" && outside > 0 {
			t.Errorf("uniform latent: %d keyframe values outside [-1, 1)", outside)
		}
		if dist == "normal" && outside == 0 {
			t.Errorf("normal latent: every keyframe value inside [-1, 1); the director is not sampling normal")
		}
	}
}

// An image model without a latent (a style transfer) still gets a
// director: it steps with the audience and hands over an empty latent,
// and a swap to a latent model later gives that model its latent.
func TestDirectorForAModelWithoutALatent(t *testing.T) {
	man := &gen.Manifest{Name: "style", Image: &gen.ImageSpec{Input: "content", Source: "camera", Layout: "NCHW", Range: [2]float32{0, 255}, Width: 8, Height: 8},
		Output: gen.OutputSpec{Name: "out", Layout: "NCHW", Range: [2]float32{0, 255}, Width: 8, Height: 8}, Model: "style.onnx"}
	if err := man.Validate(); err != nil {
		t.Fatal(err)
	}
	d, err := NewFor(DefaultConfig(), man)
	if err != nil {
		t.Fatal(err)
	}
	f := &vision.Features{Motion: 1, Level: 1, Presence: true, Warm: true}
	for i := 0; i < 60; i++ {
		if z := d.Step(f, nil, 1.0/30); len(z) != 0 {
			t.Fatalf("step %d: a latent of %d values for a model without one", i, len(z))
		}
	}
	next := New(DefaultConfig(), 16)
	next.ContinueFrom(d)
	if z := next.Step(f, nil, 1.0/30); len(z) != 16 {
		t.Errorf("after the swap: a latent of %d values, want 16", len(z))
	}
}

// push.K moves the latent along direction K by that many units, through
// the live-parameter slot; a name past the directions has no slot.
func TestPushAlongDirection(t *testing.T) {
	cfg := DefaultConfig()
	a, b := New(cfg, 16), New(cfg, 16)
	ps := b.PushParams()
	if len(ps) != b.Directions() || ps[2].Name != "push.2" || ps[2].Min != -5 || ps[2].Max != 5 || !strings.Contains(ps[2].Doc, "centroid_y") {
		t.Fatalf("push params: %+v", ps)
	}
	*b.ParamSlot("push.2") = 1.5
	if b.ParamSlot(fmt.Sprintf("push.%d", b.Directions())) != nil || b.ParamSlot("push.02") != nil {
		t.Error("a push past the directions, or a padded index, has a slot")
	}
	za, zb := a.Step(nil, nil, 0.1), b.Step(nil, nil, 0.1)
	var along float64
	for i, u := range b.Direction(2) {
		along += float64(zb[i]-za[i]) * float64(u)
	}
	if math.Abs(along-1.5) > 1e-4 {
		t.Errorf("push.2 = 1.5 moved the latent %.5f along direction 2", along)
	}
}

// The director is startled by what is new: someone arriving, or motion
// after half a second of calm. Motion that goes on, motion after a short
// pause, and a still room are not new.
func TestDirectorStartledByWhatIsNew(t *testing.T) {
	d := New(DefaultConfig(), 8)
	const dt = 1.0 / 30
	step := func(motion float32, present bool) bool {
		d.Step(&vision.Features{Motion: motion, Presence: present, Warm: true}, nil, dt)
		return d.Startled()
	}
	for i := 0; i < 30; i++ { // a second of a still room
		if step(0, false) {
			t.Fatalf("startled by a still room at step %d", i)
		}
	}
	if !step(0.1, false) {
		t.Error("motion after a second of calm did not startle the director")
	}
	for i := 0; i < 10; i++ {
		if step(0.1, false) {
			t.Fatalf("startled again by motion that goes on, step %d", i)
		}
	}
	for i := 0; i < 6; i++ { // 0.2 s of calm: too short
		step(0, false)
	}
	if step(0.1, false) {
		t.Error("startled by motion after only 0.2 s of calm")
	}
	for i := 0; i < 30; i++ { // a second of faint motion, between calm and onset
		step(0.03, false)
	}
	if step(0.1, false) {
		t.Error("startled by motion after faint motion, which is not calm")
	}
	if !step(0.1, true) {
		t.Error("an arrival did not startle the director")
	}
	if step(0.1, true) {
		t.Error("startled again by someone who stays")
	}
	if d.Step(nil, nil, dt); d.Startled() {
		t.Error("startled with no camera")
	}
}

package scene

import (
	"math"
	"testing"

	"reverie/vision"
)

func TestDirectorIsDeterministic(t *testing.T) {
	cfg := DefaultConfig().Director
	a, b := NewDirector(cfg, 16), NewDirector(cfg, 16)
	f := &vision.Features{}
	for i := 0; i < 300; i++ {
		f.Motion = float32(math.Abs(math.Sin(float64(i) / 7)))
		f.Level = 1
		f.Centroid = [2]float32{float32(i%10) / 10, 0.5}
		za, zb := a.Step(f, 1.0/30), b.Step(f, 1.0/30)
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
	cfg := DefaultConfig().Director
	cfg.IdleSpeed = 600 // keep the idle walk nearly still
	d := NewDirector(cfg, 16)
	still := &vision.Features{}
	for i := 0; i < 60; i++ {
		d.Step(still, 1.0/60)
	}
	start := append([]float32(nil), d.Latent()...)
	jump := &vision.Features{Motion: 1, Level: 1}
	var maxStep, total float64
	prev := append([]float32(nil), start...)
	for i := 0; i < 600; i++ {
		z := d.Step(jump, 1.0/60)
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

package scene

import (
	"math"
	"math/rand/v2"

	"reverie/vision"
)

// Director moves a point through the generator's latent space: a slow
// autonomous walk between random keyframes, pushed along fixed directions by
// what the audience does, and smoothed by a critically damped spring so the
// image never jumps. Given the same seed, features and time steps it produces
// the same latents.
type Director struct {
	cfg  DirectorConfig
	dim  int
	rng  *rand.Rand
	dirs [][]float32 // orthonormal directions motion pushes along

	key0, key1 []float32 // idle walk keyframes
	keyT       float64   // seconds into the current keyframe

	target, z, v []float32
	started      bool
}

// NewDirector prepares a director for a latent of dim values.
func NewDirector(cfg DirectorConfig, dim int) *Director {
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x64697265))
	d := &Director{cfg: cfg, dim: dim, rng: rng}
	d.dirs = orthonormal(rng, min(dim, 8), dim)
	d.key0 = d.randomLatent()
	d.key1 = d.randomLatent()
	d.target = make([]float32, dim)
	d.z = make([]float32, dim)
	d.v = make([]float32, dim)
	return d
}

func (d *Director) randomLatent() []float32 {
	z := make([]float32, d.dim)
	for i := range z {
		z[i] = float32(d.rng.NormFloat64())
	}
	return z
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

// Step advances the director by dt seconds under the given features (nil
// when no camera is available) and returns the new latent.
func (d *Director) Step(f *vision.Features, dt float64) []float32 {
	var motion, level, cx, cy, fx, fy float64
	if f != nil {
		motion, level = float64(f.Motion), float64(f.Level)
		cx, cy = float64(f.Centroid[0])-0.5, float64(f.Centroid[1])-0.5
		fx, fy = float64(f.Flow[0]), float64(f.Flow[1])
	}
	// The idle walk hurries a little while people move.
	d.keyT += dt * (1 + 2*motion)
	if d.keyT >= d.cfg.IdleSpeed {
		d.keyT -= d.cfg.IdleSpeed
		copy(d.key0, d.key1)
		for i := range d.key1 {
			d.key1[i] = float32(d.rng.NormFloat64())
		}
	}
	s := d.keyT / d.cfg.IdleSpeed
	slerp(d.target, d.key0, d.key1, s*s*(3-2*s))

	push := [...]float64{motion, cx * level * 2, cy * level * 2, fx, fy}
	g := d.cfg.Gain
	for k, amount := range push {
		if k >= len(d.dirs) || amount == 0 {
			continue
		}
		for i, u := range d.dirs[k] {
			d.target[i] += float32(g * amount * float64(u))
		}
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

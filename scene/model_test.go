package scene

import (
	"bytes"
	"context"
	"encoding/binary"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"reverie/director"
	"reverie/gen"
)

// writeModel writes a conv decoder with a latent of dim values as a user's
// model (.onnx, manifest) with a directions file whose row r is 5·e_(2r).
func writeModel(t *testing.T, dim, rows int) string {
	t.Helper()
	dir := t.TempDir()
	man, err := gen.ConvDecoder{Seed: 3, Width: 32, Height: 32, LatentDim: dim, Channels: 16, Detail: 0.3}.Build()
	if err != nil {
		t.Fatal(err)
	}
	man.Name = "user"
	man.Directions = "dirs.bin"
	b := make([]byte, 4*dim*rows)
	for r := 0; r < rows; r++ {
		binary.LittleEndian.PutUint32(b[4*(r*dim+2*r):], math.Float32bits(5))
	}
	path := filepath.Join(dir, "user.yaml")
	for name, data := range map[string][]byte{"dirs.bin": b, "user.onnx": man.ONNX()} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := man.Write(path, "user.onnx"); err != nil {
		t.Fatal(err)
	}
	return path
}

// std is the standard deviation over a latent's components.
func std(z []float32) float64 {
	var m, s float64
	for _, x := range z {
		m += float64(x)
	}
	m /= float64(len(z))
	for _, x := range z {
		s += (float64(x) - m) * (float64(x) - m)
	}
	return math.Sqrt(s / float64(len(z)))
}

// A hot swap from the 16-value CPPN to a user's 32-value model makes the
// director follow: the runner receives full, normally distributed latents
// of the new size (not the old one padded with zeros), the model's own
// directions are used, a hand-set director gain and a latent offset carry
// over, and a swap back drops the offset the smaller latent has no room for.
// Real parts: ONNX Runtime running both models, the Ebiten loop.
func TestModelSwapRetargetsDirector(t *testing.T) {
	if _, err := gen.Init(""); err != nil {
		t.Fatal(err)
	}
	gc := gen.DefaultConfig()
	gc.Width, gc.Height, gc.Crossfade = 32, 32, 0.2
	m, _, err := gc.Open()
	if err != nil {
		t.Fatal(err)
	}
	runner := gen.NewRunner(m)
	ctx, cancel := context.WithCancel(context.Background())
	defer runner.Close()
	defer cancel()
	go runner.Run(ctx)

	cfg := DefaultConfig()
	cfg.RenderW, cfg.RenderH = 64, 64
	d, err := director.NewFor(cfg.Director, m.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	g := newLoopGame(t, cfg, 32, 32, d, &runnerDriver{r: runner})
	if g == nil {
		return
	}
	defer onLoop(g.Dispose)
	c := g.Controls()
	if err := c.Set("director.gain", 4); err != nil {
		t.Fatal(err)
	}
	if err := c.SetLatent(3, 2.5); err != nil {
		t.Fatal(err)
	}
	if err := c.SetLatent(20, 1); err == nil {
		t.Fatal("SetLatent(20) accepted on a 16-value latent")
	}
	frames := func(n int) {
		for i := 0; i < n; i++ {
			onLoop(func() { g.Update() })
		}
	}
	frames(10)
	if z := runner.Latent(nil); len(z) != 16 {
		t.Fatalf("before the swap the runner gets %d values, want the CPPN's 16", len(z))
	}

	// Swap as the engine does: the runner first, then the scene.
	const dim, rows = 32, 4
	user := gc
	user.Model = writeModel(t, dim, rows)
	if err := runner.Swap(user); err != nil {
		t.Fatal(err)
	}
	if err := c.SetModel(runner.Model().Manifest); err != nil {
		t.Fatal(err)
	}
	// The controls know the new size at once, before the loop switches.
	if err := c.SetLatent(31, 1); err != nil {
		t.Errorf("SetLatent(31) after the swap to a 32-value model: %v", err)
	}
	frames(30)
	z := runner.Latent(nil)
	if len(z) != dim {
		t.Fatalf("after the swap the runner gets %d values, want %d", len(z), dim)
	}
	near0 := 0
	for _, x := range z {
		if math.Abs(float64(x)) < 0.02 {
			near0++
		}
	}
	if s := std(z); s < 0.6 || s > 1.8 || near0 > 3 {
		t.Errorf("after the swap the latent has std %.2f and %d components near 0; want a full normal latent (std ≈ 1): %v", s, near0, z)
	}
	if g.director.Dim() != dim {
		t.Fatalf("director of %d values, want %d", g.director.Dim(), dim)
	}
	if n := g.director.Directions(); n != rows {
		t.Errorf("the director has %d directions, want the model file's %d", n, rows)
	}
	for r := 0; r < g.director.Directions(); r++ {
		u := g.director.Direction(r)
		if u[2*r] != 1 {
			t.Errorf("direction %d is not the file's row (e_%d): %v", r, 2*r, u)
		}
	}
	if g.director.Offset(3) != 2.5 || g.director.Offset(31) != 1 {
		t.Errorf("offsets 3 and 31 are %v and %v, want 2.5 kept and 1", g.director.Offset(3), g.director.Offset(31))
	}
	for _, p := range c.List() {
		if p.Name == "director.gain" && p.Value != 4 {
			t.Errorf("hand-set director.gain is %v after the swap, want 4", p.Value)
		}
	}
	if g.director.Settings().Gain != 4 {
		t.Errorf("the new director's gain is %v, want the hand-set 4", g.director.Settings().Gain)
	}
	// The parameter moves the new director, not the old one.
	if err := c.Set("director.gain", 6); err != nil {
		t.Fatal(err)
	}
	frames(1)
	if g.director.Settings().Gain != 6 {
		t.Errorf("director.gain 6 did not reach the new director (%v)", g.director.Settings().Gain)
	}

	// And back: the offset at 31 has no component to go to.
	if err := runner.Swap(gc); err != nil {
		t.Fatal(err)
	}
	if err := c.SetModel(runner.Model().Manifest); err != nil {
		t.Fatal(err)
	}
	frames(5)
	if z := runner.Latent(nil); len(z) != 16 {
		t.Errorf("after the swap back the runner gets %d values, want 16", len(z))
	}
	if err := c.SetLatent(31, 1); err == nil || !strings.Contains(err.Error(), "0..15") {
		t.Errorf("SetLatent(31) after the swap back: %v, want an error naming 0..15", err)
	}
	if g.director.Offset(3) != 2.5 {
		t.Errorf("offset 3 is %v after the swap back, want 2.5 kept", g.director.Offset(3))
	}
	if st := runner.Stats(); st.LastErr != "" || st.Swaps != 2 {
		t.Errorf("runner: %d swaps, last error %q", st.Swaps, st.LastErr)
	}
}

// A preset's generator.psi reaches the runner when the preset applies (also
// the start preset, once the inputs are wired); an input the model lacks is
// skipped with one log line while the rest of the preset applies; a preset
// that leaves psi out returns it to the manifest's value.
func TestPresetSetsModelInputs(t *testing.T) {
	if _, err := gen.Init(""); err != nil {
		t.Fatal(err)
	}
	gc := gen.DefaultConfig()
	gc.Model, gc.Width, gc.Height = "builtin:convdecoder", 32, 32
	m, _, err := gc.Open()
	if err != nil {
		t.Fatal(err)
	}
	runner := gen.NewRunner(m)
	defer runner.Close()
	psi := func() float32 {
		for _, p := range runner.Params() {
			if p.Name == "psi" {
				return p.Value
			}
		}
		t.Fatal("the conv decoder has no psi")
		return 0
	}

	cfg := DefaultConfig()
	cfg.RenderW, cfg.RenderH = 64, 64
	cfg.PresetTime = 0
	cfg.Presets = []Preset{
		{Name: "soft", Params: map[string]float64{"generator.psi": 0.3, "generator.nope": 1, "warp.zoom": 1.01}},
		{Name: "plain", Params: map[string]float64{"warp.zoom": 1.0}},
	}
	cfg.Preset = "soft"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	var logBuf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logBuf, nil)))
	defer slog.SetDefault(prev)

	d, _ := director.NewFor(cfg.Director, m.Manifest)
	var g *Game
	onLoop(func() {
		if g, err = NewGame(cfg, 32, 32, d, stepDriver{}); err != nil {
			t.Error(err)
		}
	})
	if g == nil {
		return
	}
	defer onLoop(g.Dispose)
	c := g.Controls()
	z := make([]float32, m.Manifest.Latent.Dim)
	for i := range z {
		z[i] = float32(math.Cos(float64(i)))
	}
	f, _ := runner.Step(z)
	before := append([]byte(nil), f.Pix...)

	c.SetModelInputs(runner)
	onLoop(func() { g.Update() })
	if v := psi(); math.Abs(float64(v)-0.3) > 1e-6 {
		t.Errorf("start preset soft: psi %v, want 0.3", v)
	}
	f, _ = runner.Step(z)
	var diff float64
	for i := range before {
		diff += math.Abs(float64(before[i]) - float64(f.Pix[i]))
	}
	if diff /= float64(len(before)); diff < 2 {
		t.Errorf("psi 1 → 0.3 changed the frame by only %.2f", diff)
	}
	if n := strings.Count(logBuf.String(), "generator.nope"); n != 1 {
		t.Errorf("the unknown generator.nope was logged %d times, want once:\n%s", n, logBuf.String())
	}

	if err := c.ApplyPreset("plain"); err != nil {
		t.Fatal(err)
	}
	onLoop(func() { g.Update() })
	if v := psi(); v != 1 {
		t.Errorf("preset plain leaves psi out: %v, want the manifest's 1", v)
	}
	if err := c.ApplyPreset("soft"); err != nil {
		t.Fatal(err)
	}
	onLoop(func() { g.Update() })
	zoom := 0.0
	for _, p := range c.List() {
		if p.Name == "warp.zoom" {
			zoom = p.Value
		}
	}
	if math.Abs(float64(psi())-0.3) > 1e-6 || math.Abs(zoom-1.01) > 1e-6 {
		t.Errorf("preset soft again: psi %v, warp.zoom %v; want 0.3 and 1.01 despite generator.nope", psi(), zoom)
	}

	// Validation: a generator key is checked for form, its range when it applies.
	bad := cfg
	for key, v := range map[string]float64{"generator.": 1, "generator.psi": math.NaN(), "generator.a.b": 1} {
		bad.Presets = []Preset{{Name: "x", Params: map[string]float64{key: v}}}
		bad.Preset = ""
		if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "presets[0]."+key) {
			t.Errorf("preset key %q = %g: %v, want an error naming presets[0].%s", key, v, err, key)
		}
	}
	bad.Presets = []Preset{{Name: "x", Params: map[string]float64{"generator.psi": 5}}}
	if err := bad.Validate(); err != nil {
		t.Errorf("generator.psi 5 refused at load (the model's range applies later): %v", err)
	}
}

// runnerDriver is the live installation without a camera, stepped in the
// game loop: the game's director moves the runner's latent, and the newest
// frame goes up.
type runnerDriver struct {
	nopDriver
	r *gen.Runner
	z []float32
}

func (d *runnerDriver) Tick(g *Game) error {
	var ok bool
	if d.z, _, ok = g.Steer(nil, nil, 1.0/60, d.z); ok {
		d.r.SetLatent(d.z)
	}
	if fr, ok := d.r.Latest(); ok {
		g.Upload(fr)
	}
	return nil
}

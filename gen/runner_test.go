package gen

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"reverie/gen/onnxpb"
)

func newCPPNRunner(t *testing.T, w, h int) *Runner {
	t.Helper()
	c := DefaultConfig()
	c.Width, c.Height = w, h
	m, _, err := c.Open()
	if err != nil {
		t.Fatal(err)
	}
	return NewRunner(m)
}

// feed drives a running runner like the scene does: a new latent every few
// milliseconds, and the display taking the newest frame. It records every
// frame the display saw until stop is closed.
type feed struct {
	mu     sync.Mutex
	seen   []Frame // Pix left out
	stop   chan struct{}
	done   sync.WaitGroup
	latent []float32
}

func startFeed(r *Runner, dim int) *feed {
	f := &feed{stop: make(chan struct{}), latent: make([]float32, dim)}
	f.done.Add(1)
	go func() {
		defer f.done.Done()
		for i := 0; ; i++ {
			select {
			case <-f.stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
			for k := range f.latent {
				f.latent[k] = float32(math.Sin(float64(i)*0.05 + float64(k)))
			}
			r.SetLatent(f.latent)
			if fr, ok := r.Latest(); ok {
				if len(fr.Pix) != 4*fr.Width*fr.Height {
					panic("frame size does not match its pixels")
				}
				f.mu.Lock()
				f.seen = append(f.seen, Frame{Width: fr.Width, Height: fr.Height, Seq: fr.Seq, At: fr.At})
				f.mu.Unlock()
			}
		}
	}()
	return f
}

func (f *feed) frames() []Frame {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Frame(nil), f.seen...)
}

// waitFrames waits until the display has seen n more frames.
func (f *feed) waitFrames(t *testing.T, n int) {
	t.Helper()
	start := len(f.frames())
	deadline := time.Now().Add(20 * time.Second)
	for len(f.frames()) < start+n {
		if time.Now().After(deadline) {
			t.Fatalf("the display saw %d new frames in 20 s, wanted %d", len(f.frames())-start, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Hot swap while frames are being produced: frames keep coming during the
// load, the size changes to the new model's, the old session is closed, the
// change crossfades, and bad models are refused while the current one stays.
func TestHotSwap(t *testing.T) {
	r := newCPPNRunner(t, 96, 64)
	defer r.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.Run(ctx)
	f := startFeed(r, r.Model().Manifest.Latent.Dim)
	defer func() { close(f.stop); f.done.Wait() }()
	f.waitFrames(t, 5)

	// Bad models first: each error names the file, and frames keep coming
	// from the CPPN.
	dir := t.TempDir()
	g := onnxpb.NewGraph("nan")
	z := g.Input("z", onnxpb.Float, 1, 1)
	nan := g.Op("Log", []string{g.Const("", []int64{1, 3, 16, 16}, make([]float32, 3*16*16))}) // log 0 = -Inf
	g.OpTo("image", "Add", []string{nan, g.Op("Mul", []string{z, g.Scalar(0)})})
	g.Output("image", onnxpb.Float, 1, 3, 16, 16)
	nanPath := writeModel(t, dir, "nan", g.Model("test", "0"), fixedManifest("NCHW", "float32", -1, 1, 16, 16))
	before := r.Model()
	for _, bad := range []struct{ model, want string }{
		{filepath.Join(dir, "absent.yaml"), "absent.yaml"},
		{nanPath, "nan.onnx"},
		{"builtin:stylegan", `generator.model: "builtin:stylegan"`},
	} {
		c := DefaultConfig()
		c.Model = bad.model
		err := r.Swap(c)
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("swap to %s: got %v, want an error naming %s", bad.model, err, bad.want)
		}
		if r.Model() != before {
			t.Errorf("swap to %s: the model changed despite the error", bad.model)
		}
	}
	f.waitFrames(t, 3)

	// A good swap, to another kind and size, while the feed runs.
	c := DefaultConfig()
	c.Model, c.Width, c.Height, c.Crossfade = "builtin:convdecoder", 80, 48, 0.5
	seqBefore := r.Stats().Frames
	swapped := make(chan error, 1)
	go func() { swapped <- r.Swap(c) }()
	var during []Frame
	select {
	case err := <-swapped:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("swap did not finish in 30 s")
	}
	for _, fr := range f.frames() {
		if fr.Seq > seqBefore && fr.Width == 96 {
			during = append(during, fr)
		}
	}
	t.Logf("%d CPPN frames published while the conv decoder loaded", len(during))
	if len(during) == 0 {
		t.Error("no frames from the old model while the new one loaded: the swap blocked the runner")
	}
	if r.Model() == before || r.Model().Manifest.Name != "convdecoder" {
		t.Fatalf("after the swap the runner uses %s", r.Model().Manifest.Source())
	}
	if before.session != nil {
		t.Error("the old session was not destroyed")
	}
	if st := r.Stats(); st.Swaps != 1 || st.Width != 80 || st.Height != 48 || st.Model != "builtin:convdecoder" {
		t.Errorf("stats after swap: %+v", st)
	}
	f.waitFrames(t, 3)
	fading := r.Stats().Fading
	time.Sleep(600 * time.Millisecond)
	f.waitFrames(t, 2)
	last := f.frames()[len(f.frames())-1]
	if last.Width != 80 || last.Height != 48 {
		t.Errorf("newest frame is %dx%d, want the new model's 80x48", last.Width, last.Height)
	}
	if st := r.Stats(); st.Fading {
		t.Errorf("still fading %v after a 0.5 s crossfade", time.Since(last.At))
	}
	// Sequence numbers never go back, across the swap.
	fs := f.frames()
	for i := 1; i < len(fs); i++ {
		if fs[i].Seq <= fs[i-1].Seq {
			t.Fatalf("frame %d has seq %d after %d", i, fs[i].Seq, fs[i-1].Seq)
		}
	}
	if !fading {
		t.Log("the crossfade had ended before it was sampled (slow machine)")
	}
}

// The crossfade starts at the old frame and ends at the new model's frames.
func TestCrossfadeBlend(t *testing.T) {
	r := newCPPNRunner(t, 32, 24)
	defer r.Close()
	z := make([]float32, r.Model().Manifest.Latent.Dim)
	old, err := r.Step(z)
	if err != nil {
		t.Fatal(err)
	}
	oldPix := append([]byte(nil), old.Pix...)
	c := DefaultConfig()
	c.Width, c.Height, c.Look, c.Crossfade = 32, 24, "cells", 60 // long: the next frame is near its start
	if err := r.Swap(c); err != nil {
		t.Fatal(err)
	}
	first, err := r.Step(z)
	if err != nil {
		t.Fatal(err)
	}
	if d := meanAbsDiff(first.Pix, oldPix); d > 2 {
		t.Errorf("first frame after the swap differs from the old frame by %.2f; a crossfade starts at the old frame", d)
	}
	// A zero crossfade cuts.
	c.Look, c.Crossfade = "silk", 0
	if err := r.Swap(c); err != nil {
		t.Fatal(err)
	}
	cut, _ := r.Step(z)
	want := make([]byte, len(cut.Pix))
	if err := r.Model().Run(z, want); err != nil {
		t.Fatal(err)
	}
	if d := meanAbsDiff(cut.Pix, want); d != 0 {
		t.Errorf("with crossfade 0 the frame differs from the model's own by %.2f", d)
	}
}

// A latent of another length than the model's (the scene's, after a swap)
// is padded or truncated, not refused.
func TestLatentFit(t *testing.T) {
	r := newCPPNRunner(t, 32, 24)
	defer r.Close()
	for _, n := range []int{4, 16, 100} {
		if _, err := r.Step(make([]float32, n)); err != nil {
			t.Errorf("latent of %d values: %v", n, err)
		}
	}
	r.Close()
	if _, err := r.Step(make([]float32, 16)); err == nil {
		t.Error("Step after Close did not fail")
	}
}

// Runner.SetInput on the conv decoder's psi: the frame changes, psi 0 makes
// every latent give the same average picture, a value outside the manifest's
// range or an unknown name is an error naming it, setting and applying it
// allocates nothing, and a swap keeps the value for a model with the same
// param and drops it (with a note) for one without.
func TestRunnerSetInput(t *testing.T) {
	c := DefaultConfig()
	c.Model, c.Width, c.Height, c.Crossfade = "builtin:convdecoder", 64, 48, 0
	m, _, err := c.Open()
	if err != nil {
		t.Fatal(err)
	}
	r := NewRunner(m)
	defer r.Close()
	ps := r.Params()
	if len(ps) != 1 || ps[0].Name != "psi" || ps[0].Input != "psi" || ps[0].Value != 1 || ps[0].Min != 0 || ps[0].Max != 2 {
		t.Fatalf("params %+v, want psi = 1 in 0..2", ps)
	}
	z := make([]float32, m.Manifest.Latent.Dim)
	for i := range z {
		z[i] = float32(math.Cos(float64(i) * 1.3))
	}
	step := func() []byte {
		t.Helper()
		f, err := r.Step(z)
		if err != nil {
			t.Fatal(err)
		}
		return append([]byte(nil), f.Pix...)
	}
	full := step()
	if err := r.SetInput("psi", 0.25); err != nil {
		t.Fatal(err)
	}
	low := step()
	if d := meanAbsDiff(full, low); d < 2 {
		t.Errorf("psi 1 → 0.25 changed the frame by only %.2f", d)
	}
	r.SetInput("psi", 0)
	zero := step()
	z[0], z[5] = 4, -4
	if d := meanAbsDiff(zero, step()); d != 0 {
		t.Errorf("with psi 0 another latent changed the frame by %.2f; it should give the average picture", d)
	}
	if r.Params()[0].Value != 0 {
		t.Errorf("Params reports psi %g after SetInput 0", r.Params()[0].Value)
	}

	for _, bad := range []struct {
		name string
		v    float64
		want []string
	}{
		{"psi", 2.5, []string{"generator.psi", "2.5", "0..2"}},
		{"psi", -0.1, []string{"generator.psi", "0..2"}},
		{"psi", math.NaN(), []string{"generator.psi", "out of range"}},
		{"noise", 0.5, []string{"generator.noise", "builtin:convdecoder", "only generator.psi"}},
	} {
		err := r.SetInput(bad.name, bad.v)
		if err == nil {
			t.Errorf("SetInput(%q, %g) succeeded", bad.name, bad.v)
			continue
		}
		for _, w := range bad.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("SetInput(%q, %g): %q lacks %q", bad.name, bad.v, err, w)
			}
		}
	}
	if r.Params()[0].Value != 0 {
		t.Errorf("a refused value changed psi to %g", r.Params()[0].Value)
	}

	v := 0.0
	allocs := testing.AllocsPerRun(10, func() {
		v = 1 - v
		r.SetInput("psi", v)
		r.Step(z)
	})
	if allocs != 0 {
		t.Errorf("SetInput and a frame allocate %.1f times; want none", allocs)
	}

	r.SetInput("psi", 0.5)
	c.Seed = 8
	if err := r.Swap(c); err != nil {
		t.Fatal(err)
	}
	if ps := r.Params(); len(ps) != 1 || ps[0].Value != 0.5 {
		t.Errorf("after a swap to another conv decoder params are %+v, want psi kept at 0.5", ps)
	}
	if n := r.Stats().ParamNote; !strings.Contains(n, "generator.psi kept at 0.5") {
		t.Errorf("swap note %q does not say psi was kept", n)
	}
	// The kept value is in effect: the frame equals a fresh model's at psi 0.5.
	got := step()
	ref, _, err := c.Open()
	if err != nil {
		t.Fatal(err)
	}
	want := make([]byte, len(got))
	ref.SetInput("psi", 0.5)
	if err := ref.Run(z, want); err != nil {
		t.Fatal(err)
	}
	ref.Close()
	if d := meanAbsDiff(got, want); d != 0 {
		t.Errorf("after the swap the frame differs from the new model's at psi 0.5 by %.2f", d)
	}

	c.Model = "builtin:cppn"
	if err := r.Swap(c); err != nil {
		t.Fatal(err)
	}
	if ps := r.Params(); len(ps) != 0 {
		t.Errorf("the CPPN has no params, the runner lists %+v", ps)
	}
	if n := r.Stats().ParamNote; !strings.Contains(n, "generator.psi dropped") {
		t.Errorf("swap note %q does not say psi was dropped", n)
	}
	if err := r.SetInput("psi", 1); err == nil || !strings.Contains(err.Error(), "no controllable inputs") {
		t.Errorf("SetInput on the CPPN: %v, want an error saying it has none", err)
	}
}

// SetInput from another goroutine while the runner produces frames (run
// with -race to check the locking): every frame is good, and the last value
// set is the one in effect.
func TestRunnerSetInputWhileRunning(t *testing.T) {
	c := DefaultConfig()
	c.Model, c.Width, c.Height = "builtin:convdecoder", 48, 32
	m, _, err := c.Open()
	if err != nil {
		t.Fatal(err)
	}
	r := NewRunner(m)
	defer r.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.Run(ctx)
	f := startFeed(r, m.Manifest.Latent.Dim)
	defer func() { close(f.stop); f.done.Wait() }()
	for i := 0; i < 200; i++ {
		if err := r.SetInput("psi", float64(i%21)/10); err != nil {
			t.Fatal(err)
		}
		if i%20 == 0 {
			f.waitFrames(t, 1)
		}
	}
	f.waitFrames(t, 3)
	if st := r.Stats(); st.Errors != 0 {
		t.Errorf("%d failed frames while psi changed: %s", st.Errors, st.LastErr)
	}
	if v := r.Params()[0].Value; v != float32(199%21)/10 {
		t.Errorf("psi is %g, want the last value set, %g", v, float32(199%21)/10)
	}
}

package gen

import (
	"math/rand/v2"
	"path/filepath"
	"testing"
)

// What `reverie models build` and `inspect` do, without the command line:
// build a model with its manifest beside it, load the manifest back and run
// a test frame of it.
func TestBuildModelAndTestFrame(t *testing.T) {
	dir := t.TempDir()
	c := DefaultConfig()
	c.Model, c.Width, c.Height = "builtin:cppn", 32, 24
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "m.onnx")
	_, manFile, err := BuildModel(&c, out)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "m.yaml"); manFile != want || ManifestBeside(out) != want {
		t.Errorf("manifest written to %s (beside: %s), want %s", manFile, ManifestBeside(out), want)
	}
	man, err := LoadManifest(manFile)
	if err != nil {
		t.Fatal(err)
	}
	tr, _, err := TestFrame(out, man, c.Session())
	if err != nil {
		t.Fatal(err)
	}
	if tr.Width != 32 || tr.Height != 24 || tr.Duration <= 0 || tr.Provider == "" {
		t.Errorf("test frame %+v, want a 32x24 frame, timed, on a named provider", tr)
	}
}

// A uniform latent stays within [-1, 1) and fills it; a normal one has about
// a third of its values outside.
func TestSampleLatent(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	z := make([]float32, 4096)
	SampleLatent(rng, "uniform", z)
	lo, hi := z[0], z[0]
	for _, v := range z {
		lo, hi = min(lo, v), max(hi, v)
	}
	if lo < -1 || hi >= 1 || lo > -0.99 || hi < 0.99 {
		t.Errorf("uniform latent spans [%g, %g], want all of [-1, 1)", lo, hi)
	}
	SampleLatent(rng, "normal", z)
	outside := 0
	for _, v := range z {
		if v < -1 || v > 1 {
			outside++
		}
	}
	if f := float64(outside) / float64(len(z)); f < 0.25 || f > 0.40 {
		t.Errorf("normal latent has %.0f%% of its values outside [-1, 1], want about 32%%", 100*f)
	}
}

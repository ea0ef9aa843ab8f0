package core

import (
	"math"
	"testing"

	"reverie/conf"
	"reverie/gen"
)

// A reload that changes only generator.max_fps sets the runner's cap
// without a model swap (the pipeline has no engine here: a swap would
// panic), and the config's max_fps is what OpenRunner starts with.
func TestReloadMaxFPSWithoutSwap(t *testing.T) {
	if _, err := gen.Init(""); err != nil {
		t.Fatal(err)
	}
	old := conf.DefaultConfig()
	old.Generator.Width, old.Generator.Height, old.Generator.MaxFPS = 48, 32, 5
	r, err := OpenRunner(old.Generator)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got := r.MaxFPS(); math.Abs(got-5) > 1e-6 {
		t.Fatalf("openRunner with max_fps 5: runner cap %g", got)
	}
	p := &pipeline{runner: r}
	next := old
	next.Generator.MaxFPS = 15
	p.reload(old, next)
	if got := r.MaxFPS(); math.Abs(got-15) > 1e-6 {
		t.Errorf("after a reload to max_fps 15 the runner's cap is %g", got)
	}
	// The reload above started no swap: with no engine here one would
	// panic. needsSwap is what decided; it must still see other changes.
	if needsSwap(old.Generator, next.Generator) {
		t.Errorf("a max_fps-only change asks for a model swap")
	}
	seed := next
	seed.Generator.Seed++
	if !needsSwap(old.Generator, seed.Generator) {
		t.Errorf("a max_fps and seed change asks for no model swap")
	}
}

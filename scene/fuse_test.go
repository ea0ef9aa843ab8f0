package scene

import (
	"image"
	"strings"
	"testing"

	"github.com/hajimehoshi/ebiten/v2"

	"reverie/shaders"
)

// Every pass fuses with the pointwise color pass after it into a shader
// that compiles; a pass that is not pointwise, or two passes that declare
// the same names, do not fuse.
func TestEveryPassFusesWithColor(t *testing.T) {
	for _, base := range shaders.Names() {
		if base == "color" {
			if _, err := shaders.Fuse(base, "color"); err == nil || !strings.Contains(err.Error(), "both declare") {
				t.Errorf("color fused with color: %v, want an error naming the names they share", err)
			}
			continue
		}
		src, err := shaders.Fuse(base, "color")
		if err != nil {
			t.Errorf("%s then color: %v", base, err)
			continue
		}
		onLoop(func() {
			sh, err := ebiten.NewShader(src)
			if err != nil {
				t.Errorf("%s then color does not compile: %v\n%s", base, err, src)
				return
			}
			sh.Deallocate()
		})
	}
	if _, err := shaders.Fuse("color", "warp"); err == nil || !strings.Contains(err.Error(), "not a pointwise pass") {
		t.Errorf("color then warp: %v, want refused (warp reads its neighbours)", err)
	}
}

// A pointwise pass (color) runs in the draw of the pass before it: the
// default-like chain warp, inject, color makes two full-size draws, not
// three, and gives the picture of the three drawn apart (within the one
// level of rounding the skipped intermediate image would add per step),
// live parameter changes included.
func TestPointwisePassRunsInThePreviousDraw(t *testing.T) {
	onLoop(func() {
		const w, h = 48, 32
		passes := []PassConfig{
			{Pass: "warp", Params: map[string]float64{"zoom": 1.05, "rotate": 0.01}},
			{Pass: "inject", Params: map[string]float64{"mix": 0.4, "silhouette": 0.5, "local": 0.3}},
			{Pass: "color", Params: map[string]float64{"hue": 0.1, "saturation": 1.3, "decay": 0.05, "gamma": 1.1}},
		}
		fused, err := newChain(passes, w, h, true)
		if err != nil {
			t.Error(err)
			return
		}
		defer fused.Dispose()
		apart, err := newChain(passes, w, h, false)
		if err != nil {
			t.Error(err)
			return
		}
		defer apart.Dispose()
		if fused.Draws() != 2 || apart.Draws() != 3 {
			t.Errorf("draws: fused %d, apart %d; want 2 and 3", fused.Draws(), apart.Draws())
		}
		pattern := func(f func(i int) [3]byte) *ebiten.Image {
			img := ebiten.NewImage(w, h)
			pix := make([]byte, 4*w*h)
			for i := 0; i < w*h; i++ {
				c := f(i)
				pix[4*i], pix[4*i+1], pix[4*i+2], pix[4*i+3] = c[0], c[1], c[2], 255
			}
			img.WritePixels(pix)
			return img
		}
		seed := pattern(func(i int) [3]byte { return [3]byte{byte(i * 5), byte(i / w * 7), byte(200 - i%w*3)} })
		older := pattern(func(i int) [3]byte { return [3]byte{byte(i * 3), 90, byte(i % 200)} })
		newer := pattern(func(i int) [3]byte { return [3]byte{40, byte(i * 11), byte(255 - i%255)} })
		aud := pattern(func(i int) [3]byte { return [3]byte{byte(i % w * 5), 0, 0} })
		for _, img := range []*ebiten.Image{seed, older, newer, aud} {
			defer img.Deallocate()
		}
		in := &Inputs{GenOlder: older, GenNewer: newer, Audience: aud}
		for _, c := range []*Chain{fused, apart} {
			c.Seed(seed)
			c.Pass("inject").Set("Fade", 0.5)
		}
		compare := func(what string, tol int) {
			a, b := readAll(fused.Step(in)), readAll(apart.Step(in))
			worst := 0
			for i := range a {
				worst = max(worst, int(a[i])-int(b[i]), int(b[i])-int(a[i]))
			}
			if worst > tol {
				t.Errorf("%s: fused and apart differ by up to %d levels, want at most %d", what, worst, tol)
			}
		}
		compare("one step", 1)
		for _, c := range []*Chain{fused, apart} {
			c.Pass("color").Set("decay", 0.5)
			c.Pass("inject").Set("mix", 0.9)
		}
		compare("after live changes", 2)
		// The change took effect in the fused draw: half the brightness
		// goes each step.
		var sum, prev int
		for _, v := range readAll(fused.Output()) {
			prev += int(v)
		}
		for _, v := range readAll(fused.Step(in)) {
			sum += int(v)
		}
		apart.Step(in)
		if sum >= prev {
			t.Errorf("decay 0.5 in the fused draw: brightness %d after %d, want darker", sum, prev)
		}
	})
}

// The default chain with color fused into inject's draw against the same
// chain drawn pass by pass, at 1280×720, each step waited for on the GPU
// (one pixel read back). ms/frame is the figure to compare in one run.
func BenchmarkChainFusion(b *testing.B) {
	const w, h = 1280, 720
	cfg := DefaultConfig()
	var passes []PassConfig
	for _, p := range cfg.Passes {
		if p.Pass != "output" && p.Pass != "deepdream" { // deepdream needs the dream's engine
			passes = append(passes, p)
		}
	}
	var chains [2]*Chain
	var in *Inputs
	var px [4]byte
	onLoop(func() {
		for i, fuse := range []bool{true, false} {
			c, err := newChain(passes, w, h, fuse)
			if err != nil {
				b.Error(err)
				return
			}
			chains[i] = c
		}
		img := func() *ebiten.Image { return ebiten.NewImage(w, h) }
		in = &Inputs{GenOlder: img(), GenNewer: img(), Flow: img(), Audience: img()}
	})
	if chains[0] == nil || chains[1] == nil {
		return
	}
	defer onLoop(func() {
		for _, c := range chains {
			c.Dispose()
		}
	})
	for i, name := range []string{"fused", "apart"} {
		c := chains[i]
		step := func() {
			out := c.Step(in)
			out.SubImage(image.Rect(0, 0, 1, 1)).(*ebiten.Image).ReadPixels(px[:])
		}
		onFrames(3, step)
		b.Run(name, func(b *testing.B) {
			onFrames(b.N, step)
			b.ReportMetric(float64(b.Elapsed())/1e6/float64(b.N), "ms/frame")
			b.ReportMetric(float64(c.Draws()), "draws")
		})
	}
}

package scene

import (
	"image/color"
	"math"
	"testing"

	"github.com/hajimehoshi/ebiten/v2"

	"reverie/shaders"
)

func TestEveryPassCompiles(t *testing.T) {
	if len(shaders.Names()) == 0 {
		t.Fatal("no shaders embedded")
	}
	for _, name := range shaders.Names() {
		onLoop(func() {
			p, err := NewPass(PassConfig{Pass: name})
			if err != nil {
				t.Error(err)
				return
			}
			p.Dispose()
		})
	}
}

// A zoom above 1 moves content outward from the centre: a bright dot right
// of centre ends up further right.
func TestWarpZoomMovesOutward(t *testing.T) {
	onLoop(func() {
		const w, h = 64, 64
		chain, err := NewChain([]PassConfig{{Pass: "warp", Params: map[string]float64{"zoom": 1.2, "rotate": 0}}}, w, h)
		if err != nil {
			t.Fatal(err)
		}
		defer chain.Dispose()
		src := ebiten.NewImage(w, h)
		defer src.Deallocate()
		src.Fill(color.Black)
		for y := 30; y < 34; y++ {
			for x := 40; x < 44; x++ {
				src.Set(x, y, color.White)
			}
		}
		chain.Seed(src)
		out := chain.Step(&Inputs{})
		before := brightCentroidX(src, w, h)
		after := brightCentroidX(out, w, h)
		want := w/2 + (before-w/2)*1.2
		if math.Abs(after-want) > 0.75 {
			t.Errorf("bright spot moved from x=%.1f to x=%.1f; a 1.2 zoom about the centre puts it at %.1f", before, after, want)
		}
	})
}

func brightCentroidX(img *ebiten.Image, w, h int) float64 {
	pix := make([]byte, 4*w*h)
	img.ReadPixels(pix)
	var sx, n float64
	for i := 0; i < w*h; i++ {
		if pix[4*i] > 128 {
			sx += float64(i % w)
			n++
		}
	}
	if n == 0 {
		return -1
	}
	return sx / n
}

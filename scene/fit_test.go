package scene

import (
	"testing"
	"time"

	"reverie/gen"
)

// A square model's frames meet a 16:9 canvas by generator.fit, measured on
// the picture: a square drawn in the frame stays square under cover (the
// default) and contain, contain leaves black bars beside it, and only
// stretch widens it.
func TestFitKeepsASquareModelsAspect(t *testing.T) {
	cfg := plainCanvas()
	// A 16×16 frame: grey 100, with a white 8×8 square in its middle.
	const n = 16
	pix := squareFrame(n, func(x, y int) (r, g, b byte) {
		if x >= 4 && x < 12 && y >= 4 && y < 12 {
			return 255, 255, 255
		}
		return 100, 100, 100
	})
	for _, c := range []struct {
		fit        gen.Fit
		w, h, bars int // the white square's size on the canvas, the bars' width
	}{
		{"", 80, 80, 0}, // cover: ×10, the frame's top and bottom cropped
		{gen.FitCover, 80, 80, 0},
		{gen.FitContain, 45, 45, 35}, // ×5.625, 90 wide in the middle
		{gen.FitStretch, 80, 45, 0},
	} {
		out := make([]byte, 4*cfg.RenderW*cfg.RenderH)
		showFrame(t, cfg, c.fit, pix, n, func(g *Game) { g.ReadFrame(out) })
		x0, y0, x1, y1 := cfg.RenderW, cfg.RenderH, -1, -1
		for y := 0; y < cfg.RenderH; y++ {
			for x := 0; x < cfg.RenderW; x++ {
				if out[4*(y*cfg.RenderW+x)] > 200 {
					x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x), max(y1, y)
				}
			}
		}
		w, h := x1-x0+1, y1-y0+1
		if abs(w-c.w) > 2 || abs(h-c.h) > 2 {
			t.Errorf("fit %q: the square is %dx%d on the canvas, want %dx%d", c.fit, w, h, c.w, c.h)
		}
		if cx, cy := (x0+x1+1)/2, (y0+y1+1)/2; abs(cx-80) > 1 || abs(cy-45) > 1 {
			t.Errorf("fit %q: the square is centred at %d,%d, want 80,45", c.fit, cx, cy)
		}
		// Near the left edge, mid-height (past the frame's filtered outer
		// half pixel): a bar is black, the frame's grey is 100.
		left := out[4*(45*cfg.RenderW+8)]
		if c.bars > 0 && left > 10 || c.bars == 0 && (left < 90 || left > 110) {
			t.Errorf("fit %q: the canvas's left edge is %d, want %v", c.fit, left, map[bool]string{true: "a black bar", false: "the frame's grey 100"}[c.bars > 0])
		}
	}
}

// plainCanvas is a 160×90 scene that shows the generator's frame as it is:
// inject at full mix, then the output pass without vignette or fill.
func plainCanvas() Config {
	cfg := DefaultConfig()
	cfg.RenderW, cfg.RenderH = 160, 90
	cfg.Passes = []PassConfig{
		{Pass: "inject", Params: map[string]float64{"mix": 1, "motion_mix": 0, "local": 0}},
		{Pass: "output", Params: map[string]float64{"vignette": 0, "fill": 0}},
	}
	cfg.Presets, cfg.Preset = nil, ""
	return cfg
}

// squareFrame is an n×n RGBA frame with each pixel's colour from at.
func squareFrame(n int, at func(x, y int) (r, g, b byte)) []byte {
	pix := make([]byte, 4*n*n)
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			i := 4 * (y*n + x)
			pix[i], pix[i+1], pix[i+2] = at(x, y)
			pix[i+3] = 255
		}
	}
	return pix
}

// showFrame shows the n×n frame pix in a game of cfg under fit, then calls
// read with the game, on the game loop.
func showFrame(t *testing.T, cfg Config, fit gen.Fit, pix []byte, n int, read func(g *Game)) {
	onLoop(func() {
		g, err := NewGame(cfg, n, n, nil, nopDriver{})
		if err != nil {
			t.Error(err)
			return
		}
		defer g.Dispose()
		g.UseVirtualClock(time.Second / 60)
		g.Controls().SetFit(fit)
		g.Update() // applies the fit
		g.Upload(&gen.Frame{Pix: pix, Width: n, Height: n, Seq: 1})
		g.Update()
		read(g)
	})
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

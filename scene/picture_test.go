package scene

import (
	"testing"

	"reverie/gen"
)

// ReadPicture hands a feedback model the part of the picture on screen
// that its frame covers, at the model's size: under contain the frame
// comes back as it was drawn (the bars left out); under cover, the rows
// of the frame cropped off the canvas read black and the rest is the frame.
func TestReadPictureIsWhatTheFrameCovers(t *testing.T) {
	cfg := plainCanvas()
	// A 16×16 frame: a horizontal ramp in red, a vertical one in green.
	const n = 16
	pix := squareFrame(n, func(x, y int) (r, g, b byte) { return byte(8 + 15*x), byte(8 + 15*y), 128 })
	for _, fit := range []gen.Fit{gen.FitContain, gen.FitCover} {
		got := make([]byte, 4*n*n)
		showFrame(t, cfg, fit, pix, n, func(g *Game) { g.ReadPicture(got, n, n) })
		// Under cover the 160×160 frame overflows the 90-high canvas by 35
		// rows top and bottom: frame rows 0..3 and 12..15 lie off it.
		worst, blackOK := 0, true
		for y := 1; y < n-1; y++ {
			for x := 1; x < n-1; x++ {
				i := 4 * (y*n + x)
				if fit == gen.FitCover && (y < 4 || y > 11) {
					if y < 3 || y > 12 { // clear of the canvas's edge
						blackOK = blackOK && got[i] < 10 && got[i+1] < 10
					}
					continue
				}
				worst = max(worst, abs(int(got[i])-int(pix[i])), abs(int(got[i+1])-int(pix[i+1])))
			}
		}
		if worst > 6 {
			t.Errorf("fit %s: the picture read back differs from the frame by up to %d levels where the frame is on screen", fit, worst)
		}
		if !blackOK {
			t.Errorf("fit %s: the frame's rows off the canvas do not read black", fit)
		}
	}
}

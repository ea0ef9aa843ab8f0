package vision

import (
	"image"
	"math"

	"gocv.io/x/gocv"
)

// Analyzer turns frames into Features. It works on a downscaled grey copy of
// each frame and reuses every Mat and slice, so it allocates nothing per frame.
type Analyzer struct {
	cfg   Config
	small gocv.Mat
	gray  gocv.Mat
	prev  gocv.Mat
	diff  gocv.Mat
	f     Features
	t0    float64
	n     int
	level float32
}

// NewAnalyzer prepares an analyzer for cfg. Call Close when done.
func NewAnalyzer(cfg Config) *Analyzer {
	return &Analyzer{
		cfg:   cfg,
		small: gocv.NewMat(),
		gray:  gocv.NewMat(),
		prev:  gocv.NewMat(),
		diff:  gocv.NewMat(),
		f: Features{
			Grid:  make([]float32, cfg.GridW*cfg.GridH),
			GridW: cfg.GridW,
			GridH: cfg.GridH,
		},
		t0: -1,
	}
}

// Close releases the analyzer's Mats.
func (a *Analyzer) Close() {
	a.small.Close()
	a.gray.Close()
	a.prev.Close()
	a.diff.Close()
}

// Analyze measures one BGR frame captured at t seconds. The returned Features
// belong to the analyzer and are overwritten by the next call.
func (a *Analyzer) Analyze(frame gocv.Mat, t float64) *Features {
	f := &a.f
	if a.t0 < 0 {
		a.t0 = t
	}
	f.Frame = a.n
	f.T = t
	a.n++
	gocv.Resize(frame, &a.small, image.Pt(a.cfg.AnalyzeW, a.cfg.AnalyzeH), 0, 0, gocv.InterpolationArea)
	gocv.CvtColor(a.small, &a.gray, gocv.ColorBGRToGray)
	gocv.GaussianBlur(a.gray, &a.gray, image.Pt(5, 5), 0, 0, gocv.BorderDefault)
	if a.prev.Empty() {
		a.gray.CopyTo(&a.prev)
		return f
	}
	gocv.AbsDiff(a.gray, a.prev, &a.diff)
	a.gray.CopyTo(&a.prev)

	// Pixels whose change exceeds the threshold count as moving; sensitivity
	// lowers the threshold from 40 (dull) to 6 grey levels (keen).
	thresh := byte(40 - 34*a.cfg.Sensitivity)
	data, err := a.diff.DataPtrUint8()
	if err != nil {
		return f
	}
	w, h := a.cfg.AnalyzeW, a.cfg.AnalyzeH
	for i := range f.Grid {
		f.Grid[i] = 0
	}
	var moving, sx, sy float64
	for y := 0; y < h; y++ {
		row := data[y*w : (y+1)*w]
		gy := y * f.GridH / h
		for x, d := range row {
			if d < thresh {
				continue
			}
			moving++
			sx += float64(x)
			sy += float64(y)
			f.Grid[gy*f.GridW+x*f.GridW/w]++
		}
	}
	cell := float32(w*h) / float32(f.GridW*f.GridH)
	for i := range f.Grid {
		f.Grid[i] = min(1, f.Grid[i]/cell*4)
	}
	frac := moving / float64(w*h)
	// A quarter of the picture moving is full energy.
	f.Motion = float32(math.Min(1, frac*4))
	if moving > 0 {
		f.Centroid = [2]float32{float32(sx / moving / float64(w)), float32(sy / moving / float64(h))}
	}
	warm := t-a.t0 >= a.cfg.Warmup
	f.Warm = warm
	// Presence level follows motion with a slow release; hysteresis keeps the
	// flag from flickering around one threshold.
	target := float32(math.Min(1, frac*40))
	if !warm {
		target = 0
	}
	if target > a.level {
		a.level += 0.5 * (target - a.level)
	} else {
		a.level += 0.05 * (target - a.level)
	}
	f.Level = a.level
	if f.Presence {
		f.Presence = a.level > 0.15
	} else {
		f.Presence = a.level > 0.35
	}
	return f
}

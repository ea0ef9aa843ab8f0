package vision

import (
	"math"
	"reverie/internal/sample"
	"testing"

	"gocv.io/x/gocv"
)

// The test clips are built from real frames of vtest.avi: people walking,
// one still frame with sensor noise, and that still frame under changing
// light. They run at vtest's 10 fps.
const clipFPS = 10

// vtestFrames reads the first n frames of the sample clip. The caller closes
// them (closeAll).
func vtestFrames(t testing.TB, n int) []gocv.Mat {
	t.Helper()
	cfg := DefaultConfig()
	cfg.AtEnd = "stop"
	src, err := OpenSource(cfg, SampleClip)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	out := make([]gocv.Mat, 0, n)
	for len(out) < n {
		m := gocv.NewMat()
		if err := src.Read(&m); err != nil {
			m.Close()
			closeAll(out)
			t.Fatalf("%s frame %d: %v", SampleClip, len(out), err)
		}
		out = append(out, m)
	}
	return out
}

func closeAll(ms []gocv.Mat) {
	for i := range ms {
		ms[i].Close()
	}
}

// noisy adds Gaussian sensor noise of stddev sigma grey levels to still,
// after scaling its brightness by gain (saturating, as a sensor does).
type noisy struct {
	still, noise gocv.Mat
	sigma        float64
}

func newNoisy(still gocv.Mat, sigma float64) *noisy {
	gocv.SetRNGSeed(7)
	return &noisy{still: still, noise: gocv.NewMatWithSize(still.Rows(), still.Cols(), gocv.MatTypeCV8UC3), sigma: sigma}
}

func (n *noisy) frame(dst *gocv.Mat, gain float64) {
	n.still.ConvertToWithParams(dst, gocv.MatTypeCV8UC3, float32(gain), 0)
	gocv.RandN(&n.noise, gocv.NewScalar(128, 128, 128, 0), gocv.NewScalar(n.sigma, n.sigma, n.sigma, 0))
	gocv.AddWeighted(*dst, 1, n.noise, 1, -128, dst)
}

func (n *noisy) Close() { n.noise.Close() }

// run is one clip's analysis, frame by frame.
type run struct {
	motion, level          []float64
	presence, light, warm  []bool
	centroid, flow         [][2]float64
	firstWarm, lightFrames int
}

func analyse(cfg Config, n int, frame func(i int, dst *gocv.Mat)) run {
	an := NewAnalyzer(cfg)
	defer an.Close()
	m := gocv.NewMat()
	defer m.Close()
	var r run
	r.firstWarm = -1
	for i := 0; i < n; i++ {
		frame(i, &m)
		f := an.Analyze(m, float64(i)/clipFPS)
		r.motion = append(r.motion, float64(f.Motion))
		r.level = append(r.level, float64(f.Level))
		r.presence = append(r.presence, f.Presence)
		r.light = append(r.light, f.LightChange)
		r.warm = append(r.warm, f.Warm)
		r.centroid = append(r.centroid, [2]float64{float64(f.Centroid[0]), float64(f.Centroid[1])})
		r.flow = append(r.flow, [2]float64{float64(f.Flow[0]), float64(f.Flow[1])})
		if f.Warm && r.firstWarm < 0 {
			r.firstWarm = i
		}
		if f.LightChange {
			r.lightFrames++
		}
	}
	return r
}

// count counts frames from `from` on where ok holds.
func count(n, from int, ok func(i int) bool) int {
	c := 0
	for i := from; i < n; i++ {
		if ok(i) {
			c++
		}
	}
	return c
}

// groundTruth finds where the people are in each frame independently of the
// analyzer: pixels far from the per-pixel median of the clip (the empty
// street, since nobody stands still for long) at 160×120.
func groundTruth(frames []gocv.Mat) [][2]float64 {
	const w, h = 160, 120
	pix := sample.Grey(frames, w, h)
	median := make([]byte, w*h)
	sample.Median(median, pix)
	out := make([][2]float64, len(frames))
	for i := range pix {
		var n, sx, sy float64
		for p, v := range pix[i] {
			if math.Abs(float64(v)-float64(median[p])) > 30 {
				n++
				sx += float64(p%w) + 0.5
				sy += float64(p/w) + 0.5
			}
		}
		out[i] = [2]float64{math.NaN(), math.NaN()}
		if n > 20 {
			out[i] = [2]float64{sx / n / w, sy / n / h}
		}
	}
	return out
}

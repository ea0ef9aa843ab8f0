package vision

import (
	"image"
	"testing"

	"gocv.io/x/gocv"
)

// benchFrames is a short loop of vtest frames at 640×480, the usual camera
// size, so the analysis sees real motion.
func benchFrames(b *testing.B) []gocv.Mat {
	frames := vtestFrames(b, 40)
	for i := range frames {
		gocv.Resize(frames[i], &frames[i], image.Pt(640, 480), 0, 0, gocv.InterpolationArea)
	}
	return frames
}

// BenchmarkAnalyze is the analysis cost per 640×480 frame at the default
// 160×120 analysis size; allocs/op must be 0.
func BenchmarkAnalyze(b *testing.B) { benchAnalyze(b, DefaultConfig(), NewAnalyzer) }

// BenchmarkAnalyze320 analyses at 320×240.
func BenchmarkAnalyze320(b *testing.B) {
	cfg := DefaultConfig()
	cfg.AnalyzeW, cfg.AnalyzeH = 320, 240
	benchAnalyze(b, cfg, NewAnalyzer)
}

// BenchmarkAnalyzePeople is an offline analyzer running the HOG people
// detector inline on every frame, to show what one detection costs (it
// normally runs once per detect_every).
func BenchmarkAnalyzePeople(b *testing.B) {
	cfg := DefaultConfig()
	cfg.People, cfg.DetectEvery = true, 0.1
	benchAnalyze(b, cfg, NewAnalyzer)
}

// BenchmarkAnalyzeLiveDetect is a live analyzer with people and faces on:
// they run in their own goroutine, so Analyze's cost should stay near
// BenchmarkAnalyze's. The clock is virtual (30 fps), so the detector gets a
// frame every 30 analysed frames and, being slower than that, is busy the
// whole time on the other core: the worst case for contention.
// detections says how many ran during the timed frames.
func BenchmarkAnalyzeLiveDetect(b *testing.B) {
	cfg := DefaultConfig()
	cfg.People, cfg.Faces = true, true
	benchAnalyze(b, cfg, NewLiveAnalyzer)
}

func benchAnalyze(b *testing.B, cfg Config, newAn func(Config) *Analyzer) {
	frames := benchFrames(b)
	defer closeAll(frames)
	an := newAn(cfg)
	defer an.Close()
	for i := 0; i < 2*len(frames); i++ { // warm up the background model
		an.Analyze(frames[i%len(frames)], float64(i)/30)
	}
	runs := func() int { return 0 }
	if an.live != nil {
		runs = func() int { an.live.mu.Lock(); defer an.live.mu.Unlock(); return an.live.runs }
	}
	before := runs()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		an.Analyze(frames[i%len(frames)], float64(i+2*len(frames))/30)
	}
	b.StopTimer()
	if an.live != nil {
		b.ReportMetric(float64(runs()-before), "detections")
	}
}

// BenchmarkBareOpenCV makes the same OpenCV calls as Analyze at 160×120 with
// nothing around them: the floor the analyzer's own cost is measured against.
func BenchmarkBareOpenCV(b *testing.B) {
	frames := benchFrames(b)
	defer closeAll(frames)
	const w, h = 160, 120
	small, grey, norm, prev, usable := gocv.NewMat(), gocv.NewMat(), gocv.NewMat(), gocv.NewMat(), gocv.NewMat()
	fgRaw, fg, diff, active, bg, flow := gocv.NewMat(), gocv.NewMat(), gocv.NewMat(), gocv.NewMat(), gocv.NewMat(), gocv.NewMat()
	kernel := gocv.GetStructuringElement(gocv.MorphEllipse, image.Pt(3, 3))
	mog := gocv.NewBackgroundSubtractorMOG2WithParams(600, 16, true)
	defer func() {
		for _, m := range []*gocv.Mat{&small, &grey, &norm, &prev, &usable, &fgRaw, &fg, &diff, &active, &bg, &flow, &kernel} {
			m.Close()
		}
		mog.Close()
	}()
	lo, hi := gocv.NewScalar(0, 0, 0, 0), gocv.NewScalar(250, 250, 250, 0)
	step := func(frame gocv.Mat) {
		gocv.Resize(frame, &small, image.Pt(w, h), 0, 0, gocv.InterpolationArea)
		gocv.InRangeWithScalar(small, lo, hi, &usable)
		gocv.CvtColor(small, &grey, gocv.ColorBGRToGray)
		gocv.GaussianBlur(grey, &grey, image.Pt(5, 5), 0, 0, gocv.BorderDefault)
		_ = grey.MeanWithMask(usable)
		grey.ConvertToWithParams(&norm, gocv.MatTypeCV8U, 1, 0)
		mog.Apply(norm, &fgRaw)
		gocv.Threshold(fgRaw, &fg, 200, 255, gocv.ThresholdBinary)
		gocv.MorphologyEx(fg, &fg, gocv.MorphOpen, kernel)
		if prev.Empty() {
			norm.CopyTo(&prev)
		}
		gocv.AbsDiff(norm, prev, &diff)
		gocv.Threshold(diff, &diff, 18, 255, gocv.ThresholdBinary)
		gocv.MorphologyEx(diff, &diff, gocv.MorphOpen, kernel)
		gocv.CalcOpticalFlowFarneback(prev, norm, &flow, 0.5, 3, 13, 3, 5, 1.1, 0)
		norm.CopyTo(&prev)
		gocv.BitwiseOr(fg, diff, &active)
		gocv.Dilate(active, &bg, kernel)
	}
	for i := 0; i < 2*len(frames); i++ {
		step(frames[i%len(frames)])
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		step(frames[i%len(frames)])
	}
}

// BenchmarkAnalyzePerson is an offline analyzer whose person network (a
// fake that costs nothing, at vision's boundary) looks every 0.1 s: what
// following people, drawing their silhouette and reading their poses adds
// to the analysis. allocs/op must be 0. The networks' own cost is
// internal/personnet's BenchmarkLook.
func BenchmarkAnalyzePerson(b *testing.B) {
	cfg := DefaultConfig()
	cfg.Person, cfg.DetectEvery = PersonSelfie, 0.1
	cfg.Nets = fakeNets{net: &fakeSelfie{box: [4]float32{0.3, 0.2, 0.7, 0.9}}}
	benchAnalyze(b, cfg, NewAnalyzer)
}

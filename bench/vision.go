package bench

import (
	"fmt"
	"image"
	"math"
	"time"

	"gocv.io/x/gocv"

	"reverie/vision"
)

// The vision figures analyse frames the size of a common webcam's.
const visionW, visionH = 640, 480

// clipFrames reads up to n frames of the clip, each resized to w×h. The
// caller closes them.
func clipFrames(clip string, n, w, h int) ([]gocv.Mat, error) {
	vc, err := gocv.VideoCaptureFile(clip)
	if err != nil || !vc.IsOpened() {
		if vc != nil {
			vc.Close()
		}
		return nil, fmt.Errorf("bench clip %s: OpenCV cannot open it as a video", clip)
	}
	defer vc.Close()
	raw := gocv.NewMat()
	defer raw.Close()
	var frames []gocv.Mat
	for len(frames) < n && vc.Read(&raw) && !raw.Empty() {
		m := gocv.NewMat()
		gocv.Resize(raw, &m, image.Pt(w, h), 0, 0, gocv.InterpolationArea)
		frames = append(frames, m)
	}
	if len(frames) < min(n, 2) {
		closeAll(frames)
		return nil, fmt.Errorf("bench clip %s: too few readable frames", clip)
	}
	return frames, nil
}

func closeAll(ms []gocv.Mat) {
	for i := range ms {
		ms[i].Close()
	}
}

// measureVision times vision.Analyzer against bareVision on the same 640×480
// frames of real footage, alternating the two frame by frame, with the
// person network off so the baseline is fair. When vc names a person
// network that can run, it then times the live analyzer with that network
// (looking asynchronously every detect_every) against the live analyzer
// without it: what the person evidence costs each analysed frame.
func measureVision(vc vision.Config, clip string, iters int) (VisionReport, error) {
	frames, err := clipFrames(clip, 60, visionW, visionH)
	if err != nil {
		return VisionReport{}, err
	}
	defer closeAll(frames)
	motion := vc
	motion.Person = vision.PersonOff
	an := vision.NewAnalyzer(motion)
	defer an.Close()
	bare := newBareVision(vc)
	defer bare.Close()
	anT, bareT := alternateFrames(frames, 0, iters, func(m gocv.Mat, t float64) { an.Analyze(m, t) }, func(m gocv.Mat, _ float64) { bare.Step(m) })
	r := VisionReport{AnalyzerMs: median(anT), BareMs: median(bareT)}
	r.Ratio = ratio(r.AnalyzerMs, r.BareMs)
	if vc.Person == vision.PersonOff || vc.Person == "" || vc.Nets == nil {
		return r, nil
	}
	withNet, without := vision.NewLiveAnalyzer(vc), vision.NewLiveAnalyzer(motion)
	defer withNet.Close()
	defer without.Close()
	// The network loads on the first frame, in its own goroutine: time
	// the evidence once it has looked (a few seconds at most; a network
	// that cannot load never looks).
	looked, from := false, 0
	for ; from < 100 && !looked; from++ {
		looked = withNet.Analyze(frames[from%len(frames)], float64(from)/30).Person
		without.Analyze(frames[from%len(frames)], float64(from)/30)
		time.Sleep(100 * time.Millisecond)
	}
	if !looked {
		r.PersonMissing = fmt.Sprintf("vision.person %s did not look within 10 s (the log says why)", vc.Person)
		return r, nil
	}
	pT, mT := alternateFrames(frames, from, iters, func(m gocv.Mat, t float64) { withNet.Analyze(m, t) }, func(m gocv.Mat, t float64) { without.Analyze(m, t) })
	r.Person = vc.Person
	r.PersonMs, r.MotionOnlyMs = median(pT), median(mT)
	r.PersonCostMs = r.PersonMs - r.MotionOnlyMs
	return r, nil
}

// alternateFrames feeds the frames to a and b alternately, each in order
// from frame index from on, at a 30 fps camera's times, walking the clip
// forwards and back so the footage never jumps, and returns their times.
func alternateFrames(frames []gocv.Mat, from, iters int, a, b func(m gocv.Mat, t float64)) (ta, tb []time.Duration) {
	at := func(i int) gocv.Mat {
		k := i % (2 * len(frames))
		if k >= len(frames) {
			k = 2*len(frames) - 1 - k
		}
		return frames[k]
	}
	ia, ib := from, from
	ta, tb, _ = alternate(5, iters, func() error {
		a(at(ia), float64(ia)/30)
		ia++
		return nil
	}, func() error {
		b(at(ib), float64(ib)/30)
		ib++
		return nil
	})
	return ta, tb
}

// bareVision is the analysis's baseline: the OpenCV calls vision.Analyzer
// makes on each frame, in the same order, on the same sizes and with the
// same parameters, and nothing around them: no features, grid, flow
// pooling, presence or detection. Keep it in step with Analyzer.Analyze.
type bareVision struct {
	w, h                         int
	diffThresh                   float32
	small, gray, norm, prev      gocv.Mat
	usable, roi, fgRaw, fg, diff gocv.Mat
	active, bg, flow, kernel     gocv.Mat
	mog                          gocv.BackgroundSubtractorMOG2
	n                            int
	ref                          float64 // the first frame's brightness, the gain's reference
}

func newBareVision(cfg vision.Config) *bareVision {
	w, h, s := cfg.AnalyzeW, cfg.AnalyzeH, cfg.Sensitivity
	b := &bareVision{w: w, h: h, diffThresh: float32(30 - 24*s)}
	for _, m := range []*gocv.Mat{&b.small, &b.gray, &b.norm, &b.prev, &b.usable, &b.fgRaw, &b.fg, &b.diff, &b.active, &b.bg, &b.flow} {
		*m = gocv.NewMat()
	}
	b.roi = gocv.NewMatWithSizeFromScalar(gocv.NewScalar(255, 0, 0, 0), h, w, gocv.MatTypeCV8U)
	b.roi.CopyTo(&b.bg)
	b.kernel = gocv.GetStructuringElement(gocv.MorphEllipse, image.Pt(max(3, w/60|1), max(3, w/60|1)))
	history := int(min(max(cfg.Learn*30, 10), 100000)) // at 30 fps, as measureVision feeds it
	b.mog = gocv.NewBackgroundSubtractorMOG2WithParams(history, 16*math.Pow(4, 1-2*s), true)
	return b
}

// Step analyses one BGR frame as Analyze does: downscale, usable mask,
// grey, blur, brightness gain, background model, frame difference, dense
// flow, and the background mask for the next frame's brightness.
func (b *bareVision) Step(frame gocv.Mat) {
	gocv.Resize(frame, &b.small, image.Pt(b.w, b.h), 0, 0, gocv.InterpolationArea)
	gocv.InRangeWithScalar(b.small, gocv.NewScalar(0, 0, 0, 0), gocv.NewScalar(250, 250, 250, 0), &b.usable)
	gocv.CvtColor(b.small, &b.gray, gocv.ColorBGRToGray)
	gocv.BitwiseAnd(b.usable, b.roi, &b.usable)
	gocv.GaussianBlur(b.gray, &b.gray, image.Pt(5, 5), 0, 0, gocv.BorderDefault)
	mean := max(b.gray.MeanWithMask(b.bg).Val1, 1)
	if b.ref == 0 {
		b.ref = mean
	}
	b.gray.ConvertToWithParams(&b.norm, gocv.MatTypeCV8U, float32(min(max(b.ref/mean, 0.25), 4)), 0)
	b.n++
	if b.n == 1 {
		b.norm.CopyTo(&b.prev)
		return
	}
	b.mog.Apply(b.norm, &b.fgRaw)
	gocv.Threshold(b.fgRaw, &b.fg, 200, 255, gocv.ThresholdBinary)
	gocv.BitwiseAnd(b.fg, b.usable, &b.fg)
	gocv.MorphologyEx(b.fg, &b.fg, gocv.MorphOpen, b.kernel)
	gocv.AbsDiff(b.norm, b.prev, &b.diff)
	gocv.Threshold(b.diff, &b.diff, b.diffThresh, 255, gocv.ThresholdBinary)
	gocv.BitwiseAnd(b.diff, b.usable, &b.diff)
	gocv.MorphologyEx(b.diff, &b.diff, gocv.MorphOpen, b.kernel)
	gocv.CalcOpticalFlowFarneback(b.prev, b.norm, &b.flow, 0.5, 3, 13, 3, 5, 1.1, 0)
	b.norm.CopyTo(&b.prev)
	gocv.BitwiseOr(b.fg, b.diff, &b.active)
	gocv.Dilate(b.active, &b.bg, b.kernel)
	gocv.BitwiseNot(b.bg, &b.bg)
	gocv.BitwiseAnd(b.bg, b.roi, &b.bg)
	if gocv.CountNonZero(b.bg) < b.w*b.h/10 {
		b.roi.CopyTo(&b.bg)
	}
}

func (b *bareVision) Close() {
	for _, m := range []*gocv.Mat{&b.small, &b.gray, &b.norm, &b.prev, &b.usable, &b.roi, &b.fgRaw, &b.fg, &b.diff, &b.active, &b.bg, &b.flow, &b.kernel} {
		m.Close()
	}
	b.mog.Close()
}

package vision

import (
	"image"
	"log/slog"
	"math"

	"gocv.io/x/gocv"
	"reverie/internal/pace"
)

// Analysis constants that are not worth a config key.
const (
	// lightAdapt is how many seconds the brightness reference takes to follow
	// a lasting change. Long, so the background model never sees a jump; the
	// model keeps up with the slow drift that remains.
	lightAdapt = 300.0
	// lightWindow is the time constant of the short brightness average a
	// change is detected against; lightJump is how far (a fraction of the
	// reference) the brightness must leave it to count as a light change.
	lightWindow = 0.5
	lightJump   = 0.03
	// A slow change (dusk, dawn, a cloud) never jumps, but the gain that
	// normalises it keeps moving. It counts as a light change while the
	// gain has moved the same way by more than lightDrift1 over the last
	// second and lightDrift2 over the last two: a 30% change over 8 s moves
	// it 3..5% a second. People walking shift the background's brightness
	// too, but back and forth: on vtest.avi the gain moves up to 1.6% in a
	// second and 2% in two, yet never more than ~60% of both thresholds at
	// once. The one-second look-back passes a sudden step within a second,
	// inside the jump's own flag, so a step is reported as briefly as
	// before (about 1.2 s).
	lightDrift1 = 0.02
	lightDrift2 = 0.03
	// driftSamples is the gain history kept for it, one sample per
	// driftEvery seconds at most: 2.56 s, enough for the two-second look-back
	// at any camera rate.
	driftSamples = 128
	driftEvery   = 0.02
	// PresenceOn and PresenceOff are the hysteresis thresholds on the
	// level: presence starts above the first and ends below the second.
	PresenceOn  = 0.3
	PresenceOff = 0.1
	// riseTau is how fast the presence level rises to new evidence, seconds.
	riseTau = 0.2
	// minActive is the fraction of the watched area that must be active
	// before a centroid or mean flow is reported: fewer pixels are noise.
	minActive = 0.001
	// saturated is the channel value above which a pixel counts as clipped.
	saturated = 250
)

// Analyzer turns frames into Features. It works on a downscaled grey copy of
// each frame and reuses every Mat and slice, so it allocates nothing per frame
// once the first two frames have set it up.
type Analyzer struct {
	cfg  Config
	w, h int

	small, gray, norm, prev, usable gocv.Mat
	fgRaw, fg, diff, active, bg     gocv.Mat
	roi, kernel, flow               gocv.Mat
	mog                             gocv.BackgroundSubtractorMOG2
	hasMOG                          bool
	det                             *detector   // offline: detection inline, on the frame clock
	live                            *detectLoop // live: detection in its own goroutine
	people                          *people     // person evidence from a trained network; nil without one

	// Lookup tables from a pixel's column or row to its grid and flow cell.
	gridCol, gridRow, flowCol, flowRow []int32
	cellArea, flowArea                 []float32
	roiPixels                          float64

	diffThresh float32
	varThresh  float64
	presenceK  float64

	f          Features
	n          int
	t0, prevT  float64
	ref, fast  float64
	level      float64
	motionT    float64 // this frame's motion evidence 0..1, before the person network's
	activeFrac float64
	lastDetect float64
	jump       bool // the light jumped this frame (drift alone does not hold presence)

	// Ring of recent (time, ln gain) samples for the drift check.
	driftT, driftG []float64
	driftN, driftI int
}

// NewAnalyzer prepares an offline analyzer for cfg, which must be valid: for
// files and rendering, where frames come on a virtual clock and the same
// input must give the same features. People and face detection, when
// enabled, run inside Analyze every detect_every seconds of frame time, so
// that call takes as long as a detection. Call Close when done. If
// detection cannot start, it logs why and runs without it.
func NewAnalyzer(cfg Config) *Analyzer { return newAnalyzer(cfg, false, nil) }

// NewLiveAnalyzer prepares an analyzer for a live camera or stream. People
// and face detection run in their own goroutine: every detect_every seconds
// Analyze hands it a copy of the frame and goes on, and the counts it last
// found are carried in the Features, so a detection never stalls the
// analysis. Which frame the counts come from depends on timing. Close stops
// the goroutine.
func NewLiveAnalyzer(cfg Config) *Analyzer { return newAnalyzer(cfg, true, nil) }

// newAnalyzer builds an analyzer; live, its detection and person network
// run in their own goroutines, paced by share (nil: never rest).
func newAnalyzer(cfg Config, live bool, share *pace.Share) *Analyzer {
	w, h := cfg.AnalyzeW, cfg.AnalyzeH
	s := cfg.Sensitivity
	a := &Analyzer{
		cfg: cfg, w: w, h: h,
		small: gocv.NewMat(), gray: gocv.NewMat(), norm: gocv.NewMat(), prev: gocv.NewMat(), usable: gocv.NewMat(),
		fgRaw: gocv.NewMat(), fg: gocv.NewMat(), diff: gocv.NewMat(), active: gocv.NewMat(), bg: gocv.NewMat(),
		flow: gocv.NewMat(),
		roi:  regionMask(cfg, w, h),
		// Sensitivity 0..1 maps to a frame-difference threshold of 30..6 grey
		// levels, an MOG2 variance threshold of 64..4 and a presence gain of
		// 5..80 per unit of foreground fraction.
		diffThresh: float32(30 - 24*s),
		varThresh:  16 * math.Pow(4, 1-2*s),
		presenceK:  100 * math.Pow(4, 2*s-1),
		f: Features{
			Grid: make([]float32, cfg.GridW*cfg.GridH), GridW: cfg.GridW, GridH: cfg.GridH,
			FlowField: make([]float32, cfg.FlowW*cfg.FlowH*2), FlowW: cfg.FlowW, FlowH: cfg.FlowH,
			Centroid: [2]float32{0.5, 0.5}, Detected: -1,
		},
		lastDetect: math.Inf(-1),
		driftT:     make([]float64, driftSamples),
		driftG:     make([]float64, driftSamples),
	}
	// Opening with a kernel about 2% of the picture wide removes sensor-noise
	// specks but keeps a distant visitor.
	k := max(3, w/60|1)
	a.kernel = gocv.GetStructuringElement(gocv.MorphEllipse, image.Pt(k, k))
	a.roi.CopyTo(&a.bg)

	a.gridCol, a.gridRow = cells(w, cfg.GridW), cells(h, cfg.GridH)
	a.flowCol, a.flowRow = cells(w, cfg.FlowW), cells(h, cfg.FlowH)
	a.cellArea = make([]float32, cfg.GridW*cfg.GridH)
	a.flowArea = make([]float32, cfg.FlowW*cfg.FlowH)
	roi, _ := a.roi.DataPtrUint8()
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			a.flowArea[int(a.flowRow[y])*cfg.FlowW+int(a.flowCol[x])]++
			if roi[y*w+x] != 0 {
				a.roiPixels++
				a.cellArea[int(a.gridRow[y])*cfg.GridW+int(a.gridCol[x])]++
			}
		}
	}
	a.people = newPeople(cfg, live, w, h, share)
	if cfg.People || cfg.Faces {
		d, err := newDetector(cfg)
		if err != nil {
			slog.Warn("people/face detection is off", "err", err)
		}
		if live {
			a.live = newDetectLoop(d, a.roi, share)
		} else {
			a.det = d
		}
	}
	return a
}

// cells maps each of n pixels to one of k equal cells.
func cells(n, k int) []int32 {
	out := make([]int32, n)
	for i := range out {
		out[i] = int32(i * k / n)
	}
	return out
}

// Close releases the analyzer's Mats and detectors.
func (a *Analyzer) Close() {
	for _, m := range []*gocv.Mat{&a.small, &a.gray, &a.norm, &a.prev, &a.usable, &a.fgRaw, &a.fg,
		&a.diff, &a.active, &a.bg, &a.roi, &a.kernel, &a.flow} {
		m.Close()
	}
	if a.hasMOG {
		a.mog.Close()
		a.hasMOG = false
	}
	if a.det != nil {
		a.det.Close()
		a.det = nil
	}
	if a.live != nil {
		a.live.Close()
		a.live = nil
	}
	if a.people != nil {
		a.people.Close()
		a.people = nil
	}
}

// Foreground is the latest presence silhouette: an analyze_width ×
// analyze_height mask, 255 where the background model sees someone. It
// belongs to the analyzer; the preview draws it.
func (a *Analyzer) Foreground() gocv.Mat { return a.fg }

// PersonMask is the latest silhouette of the visitors drawn from the person
// network (thick limbs for a pose, the network's mask for a segmentation),
// analysis-sized, 255 where a visitor is; ok is false without a network.
// It belongs to the analyzer; the preview draws it.
func (a *Analyzer) PersonMask() (m gocv.Mat, ok bool) {
	if a.people == nil {
		return m, false
	}
	return a.people.mask, true
}

// Moving is the latest frame-difference mask, 255 where the picture changed
// since the previous frame. With Foreground it is the evidence presence is
// read from. It belongs to the analyzer; the preview draws it.
func (a *Analyzer) Moving() gocv.Mat { return a.diff }

// Analyze measures one BGR (or grey) frame captured at t seconds. The
// returned Features belong to the analyzer and are overwritten by the next
// call. An empty frame reads as stillness.
func (a *Analyzer) Analyze(frame gocv.Mat, t float64) *Features {
	f := &a.f
	f.Frame, f.T = a.n, t
	if frame.Empty() {
		a.still()
		return f
	}
	a.n++
	dt := 1.0 / 30
	if a.n == 1 {
		a.t0 = t
	} else if d := t - a.prevT; d > 0 {
		dt = min(d, 1)
	}
	a.prevT = t

	gocv.Resize(frame, &a.small, image.Pt(a.w, a.h), 0, 0, gocv.InterpolationArea)
	// A pixel saturated in any channel cannot be brought back by a gain, so
	// it says nothing about motion when the light changes.
	switch a.small.Channels() {
	case 3:
		gocv.InRangeWithScalar(a.small, gocv.NewScalar(0, 0, 0, 0), gocv.NewScalar(saturated, saturated, saturated, 0), &a.usable)
		gocv.CvtColor(a.small, &a.gray, gocv.ColorBGRToGray)
	case 4:
		gocv.InRangeWithScalar(a.small, gocv.NewScalar(0, 0, 0, 0), gocv.NewScalar(saturated, saturated, saturated, 255), &a.usable)
		gocv.CvtColor(a.small, &a.gray, gocv.ColorBGRAToGray)
	default:
		gocv.Threshold(a.small, &a.usable, saturated, 255, gocv.ThresholdBinaryInv)
		a.small.CopyTo(&a.gray)
	}
	gocv.BitwiseAnd(a.usable, a.roi, &a.usable)
	gocv.GaussianBlur(a.gray, &a.gray, image.Pt(5, 5), 0, 0, gocv.BorderDefault)
	a.normalise(f, t, dt)

	if !a.hasMOG && a.n >= 2 {
		// The model's history is set in seconds; the frame rate is known
		// from the second frame on.
		history := int(min(max(a.cfg.Learn/dt, 10), 100000))
		a.mog = gocv.NewBackgroundSubtractorMOG2WithParams(history, a.varThresh, true)
		a.hasMOG = true
	}
	if !a.hasMOG {
		a.norm.CopyTo(&a.prev)
		return f
	}
	// Foreground is 255, shadows 127: a visitor's shadow is not a visitor.
	a.mog.Apply(a.norm, &a.fgRaw)
	gocv.Threshold(a.fgRaw, &a.fg, 200, 255, gocv.ThresholdBinary)
	gocv.BitwiseAnd(a.fg, a.usable, &a.fg)
	gocv.MorphologyEx(a.fg, &a.fg, gocv.MorphOpen, a.kernel)

	gocv.AbsDiff(a.norm, a.prev, &a.diff)
	gocv.Threshold(a.diff, &a.diff, a.diffThresh, 255, gocv.ThresholdBinary)
	gocv.BitwiseAnd(a.diff, a.usable, &a.diff)
	gocv.MorphologyEx(a.diff, &a.diff, gocv.MorphOpen, a.kernel)

	gocv.CalcOpticalFlowFarneback(a.prev, a.norm, &a.flow, 0.5, 3, 13, 3, 5, 1.1, 0)
	a.norm.CopyTo(&a.prev)

	gocv.BitwiseOr(a.fg, a.diff, &a.active)
	if a.people != nil {
		// The network's visitors join the silhouette: a visitor standing
		// still is still someone, long after motion has faded.
		a.motionT = min(1, float64(gocv.CountNonZero(a.active))/max(a.roiPixels, 1)*a.presenceK)
		a.remember(dt, f.LightChange)
		a.look(frame, t, a.motionT)
		gocv.BitwiseOr(a.active, a.people.mask, &a.active)
		gocv.BitwiseOr(a.fg, a.people.mask, &a.fg)
	}
	// The brightness of the next frame is measured on what is background
	// now, with a margin, so visitors do not count as a change of light.
	gocv.Dilate(a.active, &a.bg, a.kernel)
	gocv.BitwiseNot(a.bg, &a.bg)
	gocv.BitwiseAnd(a.bg, a.roi, &a.bg)
	if float64(gocv.CountNonZero(a.bg)) < a.roiPixels/10 {
		a.roi.CopyTo(&a.bg)
	}

	a.measure(f, dt)
	a.presence(f, t, dt)
	a.detect(f, frame, t)
	f.Person = a.people.live()
	if f.Person {
		a.poseFeatures(f)
	}
	return f
}

// detect starts a detection every detect_every seconds and carries the
// latest counts.
func (a *Analyzer) detect(f *Features, frame gocv.Mat, t float64) {
	due := t-a.lastDetect >= a.cfg.DetectEvery
	if due {
		a.lastDetect = t
	}
	switch {
	case a.live != nil:
		if due {
			a.live.offer(frame, t)
		}
		f.People, f.Faces, f.Detected = a.live.counts()
	case a.det != nil && due:
		f.People, f.Faces = a.det.detect(frame, a.roi)
		f.Detected = t
	}
}

// normalise scales the grey frame so its background keeps the brightness
// it had, and reports a change of light: a sudden one, or a slow one while
// the gain keeps moving.
func (a *Analyzer) normalise(f *Features, t, dt float64) {
	mean := max(a.gray.MeanWithMask(a.bg).Val1, 1)
	if a.ref == 0 {
		a.ref, a.fast = mean, mean
	}
	gain := min(max(a.ref/mean, 0.25), 4)
	a.jump = math.Abs(mean-a.fast) > lightJump*a.ref
	f.LightChange = a.drifting(t, math.Log(gain)) || a.jump
	a.fast += (mean - a.fast) * (1 - math.Exp(-dt/lightWindow))
	a.ref += (mean - a.ref) * (1 - math.Exp(-dt/lightAdapt))
	f.Gain = float32(gain)
	a.gray.ConvertToWithParams(&a.norm, gocv.MatTypeCV8U, float32(gain), 0)
}

// drifting records the gain (as its logarithm, so up and down weigh the
// same) at time t and reports whether it has moved the same way by more
// than lightDrift1 over the last second and lightDrift2 over the last two.
// It allocates nothing.
func (a *Analyzer) drifting(t, lg float64) bool {
	if a.driftN > 0 {
		last := a.driftT[(a.driftI+driftSamples-1)%driftSamples]
		if t < last { // the clock went back (a rewound file): start over
			a.driftN = 0
		}
	}
	if a.driftN == 0 || t-a.driftT[(a.driftI+driftSamples-1)%driftSamples] >= driftEvery {
		a.driftT[a.driftI], a.driftG[a.driftI] = t, lg
		a.driftI = (a.driftI + 1) % driftSamples
		a.driftN = min(a.driftN+1, driftSamples)
	}
	g1, ok1 := a.gainAt(t - 1)
	g2, ok2 := a.gainAt(t - 2)
	if !ok1 || !ok2 {
		return false
	}
	d1, d2 := lg-g1, lg-g2
	return d1*d2 > 0 && math.Abs(d1) > math.Log1p(lightDrift1) && math.Abs(d2) > math.Log1p(lightDrift2)
}

// gainAt is the newest recorded ln gain at or before time t.
func (a *Analyzer) gainAt(t float64) (float64, bool) {
	for k := 1; k <= a.driftN; k++ {
		i := (a.driftI + driftSamples - k) % driftSamples
		if a.driftT[i] <= t+1e-6 {
			return a.driftG[i], true
		}
	}
	return 0, false
}

// measure fills motion, grid, centroid and flow from the masks and the flow.
func (a *Analyzer) measure(f *Features, dt float64) {
	diff, _ := a.diff.DataPtrUint8()
	act, _ := a.active.DataPtrUint8()
	flow, _ := a.flow.DataPtrFloat32()
	clear(f.Grid)
	clear(f.FlowField)
	w, gw, fw := a.w, a.cfg.GridW, a.cfg.FlowW
	var nDiff, nAct, sx, sy, sfx, sfy float64
	for y := 0; y < a.h; y++ {
		gr, fr := int(a.gridRow[y])*gw, int(a.flowRow[y])*fw
		for x := 0; x < w; x++ {
			i := y*w + x
			if diff[i] != 0 {
				nDiff++
				f.Grid[gr+int(a.gridCol[x])]++
			}
			if act[i] == 0 {
				continue
			}
			nAct++
			sx += float64(x)
			sy += float64(y)
			fx, fy := flow[2*i], flow[2*i+1]
			sfx += float64(fx)
			sfy += float64(fy)
			k := 2 * (fr + int(a.flowCol[x]))
			f.FlowField[k] += fx
			f.FlowField[k+1] += fy
		}
	}
	// A quarter of the watched area changing is full energy, for the whole
	// and for each cell.
	roi := max(a.roiPixels, 1)
	f.Motion = float32(min(1, 4*nDiff/roi))
	for i, c := range f.Grid {
		if a.cellArea[i] > 0 {
			f.Grid[i] = min(1, 4*c/a.cellArea[i])
		}
	}
	// Flow is in pixels per frame; the features speak frame widths per second.
	scale := 1 / (float64(w) * dt)
	for i := range f.FlowField {
		f.FlowField[i] *= float32(scale) / a.flowArea[i/2]
	}
	if nAct >= minActive*roi {
		f.Centroid = [2]float32{float32((sx/nAct + 0.5) / float64(w)), float32((sy/nAct + 0.5) / float64(a.h))}
		f.Flow = [2]float32{float32(sfx / nAct * scale), float32(sfy / nAct * scale)}
	} else {
		f.Flow = [2]float32{}
	}
	f.Foreground = float32(float64(gocv.CountNonZero(a.fg)) / roi)
	// The silhouette goes out with the features, for the shaders to dissolve
	// the audience into the dream; the slice is reused.
	if fg, err := a.fg.DataPtrUint8(); err == nil {
		f.Mask = append(f.Mask[:0], fg...)
		f.MaskW, f.MaskH = a.fg.Cols(), a.fg.Rows()
	}
	a.activeFrac = nAct / roi
}

// presence turns the foreground fraction into a level that rises fast and
// fades over hold seconds, and a flag with hysteresis on it.
func (a *Analyzer) presence(f *Features, t, dt float64) {
	f.Warm = t-a.t0 >= a.cfg.Warmup
	// Evidence is the silhouette plus whatever moves: both survive the
	// opening only as coherent blobs, which sensor noise never forms.
	target := min(1, a.activeFrac*a.presenceK)
	refuted := false
	if p := a.people; p.live() {
		// A network that sees people rules: a visitor it follows is
		// present however still they stand, and motion it has looked at
		// and found no visitor in (a change of light, a screen) is
		// nobody. Motion it has not looked at yet (an arrival) counts
		// until it does.
		switch {
		case p.alive > 0:
			target = 1
		case p.sight.t >= p.onset:
			target, refuted = 0, true
		default:
			target = a.motionT
		}
	}
	switch {
	case !f.Warm:
		target = 0
	case a.jump && target > a.level:
		// While the light jumps the model's view is suspect: hold, do not
		// rise. A slow drift is normalised well enough to keep counting.
		target = a.level
	}
	tau := a.cfg.Hold / 2
	if target > a.level || refuted {
		tau = riseTau
	}
	a.level += (target - a.level) * (1 - math.Exp(-dt/tau))
	f.Level = float32(a.level)
	if f.Presence {
		f.Presence = a.level > PresenceOff
	} else {
		f.Presence = a.level > PresenceOn
	}
}

// still reports no motion, for a frame that carried nothing.
func (a *Analyzer) still() {
	f := &a.f
	f.Motion, f.Flow = 0, [2]float32{}
	clear(f.Grid)
	clear(f.FlowField)
}

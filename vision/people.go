package vision

import (
	"image"
	"image/color"
	"math"

	"gocv.io/x/gocv"

	"reverie/internal/pace"
	"reverie/vision/pose"
)

// maxMisses is how many looks in a row may miss a visitor before they are
// taken to have left: one missed look (a network is not perfect) must not
// drop a visitor who stands still.
const maxMisses = 2

// track is one person followed from look to look, matched by position.
type track struct {
	personShape
	bx, by float32 // where they were first seen
	alive  bool    // a visitor: arrived moving, or moved since
	misses int     // looks in a row that did not find them
	busy   int     // looks in a row that found them moving
}

// people is the analyzer's person evidence: the network (inline or in its
// own goroutine), the people it follows, and the silhouette drawn from them.
type people struct {
	s      *seer       // offline: the network runs inline, on the frame clock
	loop   *personLoop // live: in its own goroutine
	sight  sight       // the newest look taken
	seq    uint64
	looks  int     // looks taken
	asked  float64 // frame time of the last frame handed to the network
	onset  float64 // frame time the motion evidence last rose
	moving bool    // the motion evidence is up

	tracks [maxPeople]track
	n      int
	alive  int
	recent []float32 // analysis-size map of recent activity, 0..1
	mask   gocv.Mat  // analysis-size silhouette of the visitors, 0 or 255
	aspect float32   // the frame's width over its height
}

func newPeople(cfg Config, live bool, w, h int, share *pace.Share) *people {
	if cfg.Person == PersonOff || cfg.Person == "" || cfg.Nets == nil {
		return nil
	}
	p := &people{asked: math.Inf(-1), onset: math.Inf(-1), recent: make([]float32, w*h),
		mask: gocv.NewMatWithSize(h, w, gocv.MatTypeCV8U), aspect: 4.0 / 3}
	p.mask.SetTo(gocv.NewScalar(0, 0, 0, 0))
	s := newSeer(cfg)
	if live {
		p.loop = newPersonLoop(s, share)
	} else {
		p.s = s
	}
	return p
}

func (p *people) Close() {
	if p.loop != nil {
		p.loop.Close()
	}
	if p.s != nil {
		p.s.Close()
	}
	p.mask.Close()
}

// live reports that the network has looked at least once: its evidence
// then rules presence. Until then (or without it) motion alone does.
func (p *people) live() bool { return p != nil && p.looks > 0 }

// remember decays the recent-activity map and adds this frame's activity.
// Activity during a light change is no one's arrival.
func (a *Analyzer) remember(dt float64, light bool) {
	p := a.people
	act, _ := a.active.DataPtrUint8()
	k := float32(math.Exp(-dt / recentTau))
	for i, v := range act {
		r := p.recent[i] * k
		if v != 0 && !light {
			r = 1
		}
		p.recent[i] = r
	}
}

// look hands a frame to the network when one is due, takes its newest
// result and follows the people in it. motion is this frame's motion
// evidence (0..1).
func (a *Analyzer) look(frame gocv.Mat, t float64, motion float64) {
	p := a.people
	p.aspect = float32(frame.Cols()) / float32(max(frame.Rows(), 1))
	switch {
	case motion > PresenceOn && !p.moving:
		p.moving, p.onset = true, t
	case motion < PresenceOff:
		p.moving = false
	}
	every := a.cfg.DetectEvery
	due := t-p.asked >= every
	// Motion that no look has judged yet is looked at soon: an arrival is
	// confirmed, and a change of light refuted, within a fraction of
	// detect_every.
	if !due && p.moving && p.alive == 0 && p.onset > p.sight.t && t-p.asked >= every/4 {
		due = p.loop == nil || p.loop.idle()
	}
	if t < p.asked { // a rewound file
		due = true
	}
	taken := false
	switch {
	case p.loop != nil:
		if due {
			p.asked = t
			p.loop.offer(frame, t)
		}
		if seq, ok := p.loop.sights.Latest(&p.sight, p.seq); ok {
			p.seq, taken = seq, true
		}
	case due:
		p.asked = t
		taken = p.s.see(frame, t, &p.sight)
	}
	if taken {
		p.looks++
		a.follow(&p.sight)
	}
}

// follow matches the people of a look to the people followed, and decides
// who is a visitor: someone who arrived moving, or who has moved since they
// were first seen. Someone who was there from the start and never moved (a
// poster, a paused screen, a still frame) belongs to the room.
func (a *Analyzer) follow(s *sight) {
	p := a.people
	var matched [maxPeople]bool
	var used [maxPeople]bool
	for i := 0; i < s.n; i++ {
		ps := &s.people[i]
		best, bestD := -1, float32(math.Inf(1))
		for j := 0; j < p.n; j++ {
			tr := &p.tracks[j]
			if matched[j] {
				continue
			}
			d := p.dist(ps.cx, ps.cy, tr.cx, tr.cy)
			if d < 0.6*max(ps.h, tr.h) && d < bestD {
				best, bestD = j, d
			}
		}
		if best < 0 {
			continue
		}
		matched[best], used[i] = true, true
		tr := &p.tracks[best]
		tr.personShape, tr.misses = *ps, 0
		if tr.alive || !a.f.Warm || a.f.LightChange {
			continue
		}
		if a.boxActivity(ps) < bornActive {
			tr.busy = 0
			continue
		}
		tr.busy++
		tr.alive = tr.busy >= stirs || p.dist(tr.cx, tr.cy, tr.bx, tr.by) > movedAway*tr.h
	}
	// Those not found this time: missed once more, or gone.
	for j := 0; j < p.n; {
		if !matched[j] {
			p.tracks[j].misses++
			if p.tracks[j].misses > maxMisses {
				p.n--
				p.tracks[j], p.tracks[p.n] = p.tracks[p.n], p.tracks[j]
				matched[j], matched[p.n] = matched[p.n], matched[j]
				continue
			}
		}
		j++
	}
	// Newcomers: visitors if they arrive moving once warm-up is over.
	for i := 0; i < s.n && p.n < maxPeople; i++ {
		if used[i] {
			continue
		}
		ps := &s.people[i]
		p.tracks[p.n] = track{personShape: *ps, bx: ps.cx, by: ps.cy,
			alive: a.f.Warm && !a.f.LightChange && a.boxActivity(ps) >= bornActive}
		p.n++
	}
	p.alive = 0
	for j := 0; j < p.n; j++ {
		if p.tracks[j].alive {
			p.alive++
		}
	}
	a.drawPeople(s)
}

// dist is the distance between two normalised points in frame heights.
func (p *people) dist(x0, y0, x1, y1 float32) float32 {
	dx, dy := (x0-x1)*p.aspect, y0-y1
	return float32(math.Sqrt(float64(dx*dx + dy*dy)))
}

// boxActivity is the mean recent activity inside a person's box.
func (a *Analyzer) boxActivity(ps *personShape) float32 {
	x0, y0 := clampi(int(ps.box[0]*float32(a.w)), 0, a.w-1), clampi(int(ps.box[1]*float32(a.h)), 0, a.h-1)
	x1, y1 := clampi(int(ps.box[2]*float32(a.w)), x0, a.w-1), clampi(int(ps.box[3]*float32(a.h)), y0, a.h-1)
	var sum float32
	for y := y0; y <= y1; y++ {
		for _, v := range a.people.recent[y*a.w+x0 : y*a.w+x1+1] {
			sum += v
		}
	}
	return sum / float32((x1-x0+1)*(y1-y0+1))
}

func clampi(v, lo, hi int) int { return min(max(v, lo), hi) }

// limbs are the keypoint pairs the silhouette and the preview draw.
var limbs = [...][2]pose.Part{
	{pose.LeftShoulder, pose.RightShoulder}, {pose.LeftHip, pose.RightHip},
	{pose.LeftShoulder, pose.LeftHip}, {pose.RightShoulder, pose.RightHip},
	{pose.LeftShoulder, pose.RightHip}, {pose.RightShoulder, pose.LeftHip},
	{pose.LeftShoulder, pose.LeftElbow}, {pose.LeftElbow, pose.LeftWrist},
	{pose.RightShoulder, pose.RightElbow}, {pose.RightElbow, pose.RightWrist},
	{pose.LeftHip, pose.LeftKnee}, {pose.LeftKnee, pose.LeftAnkle},
	{pose.RightHip, pose.RightKnee}, {pose.RightKnee, pose.RightAnkle},
	{pose.Nose, pose.LeftShoulder}, {pose.Nose, pose.RightShoulder},
}

// drawPeople redraws the visitors' silhouette: thick limbs for a pose, the
// network's own mask for a segmentation.
func (a *Analyzer) drawPeople(s *sight) {
	p := a.people
	p.mask.SetTo(gocv.NewScalar(0, 0, 0, 0))
	if p.alive == 0 {
		return
	}
	if len(s.mask) == selfieSize*selfieSize {
		m, _ := p.mask.DataPtrUint8()
		for y := 0; y < a.h; y++ {
			row := s.mask[(y*selfieSize/a.h)*selfieSize:]
			for x := 0; x < a.w; x++ {
				if row[x*selfieSize/a.w] > selfieOn {
					m[y*a.w+x] = 255
				}
			}
		}
		gocv.BitwiseAnd(p.mask, a.roi, &p.mask)
		return
	}
	white := color.RGBA{255, 255, 255, 255}
	fw, fh := float32(a.w), float32(a.h)
	for j := 0; j < p.n; j++ {
		tr := &p.tracks[j]
		if !tr.alive || !tr.hasPose {
			continue
		}
		thick := max(2, int(tr.h*fh/5))
		at := func(k pose.Part) image.Point {
			return image.Pt(int(tr.kp[k].X*fw), int(tr.kp[k].Y*fh))
		}
		for _, l := range limbs {
			if tr.kp[l[0]].Score >= keypointMin && tr.kp[l[1]].Score >= keypointMin {
				gocv.Line(&p.mask, at(l[0]), at(l[1]), white, thick)
			}
		}
		if tr.kp[pose.Nose].Score >= keypointMin {
			gocv.Circle(&p.mask, at(pose.Nose), thick, white, -1)
		}
	}
	gocv.BitwiseAnd(p.mask, a.roi, &p.mask)
}

// poseFeatures fills the people count, the pose centroid and the nearest
// visitor's pose features.
func (a *Analyzer) poseFeatures(f *Features) {
	p := a.people
	f.People, f.Detected = p.alive, p.sight.t
	f.Seen = p.sight.n
	f.PersonMs = float32(p.sight.ms)
	f.HandsUp, f.ArmSpan, f.Lean, f.Height = 0, 0, 0, 0
	f.PoseCentroid = [2]float32{0.5, 0.5}
	f.NBodies = p.n
	for j := 0; j < p.n; j++ {
		tr, b := &p.tracks[j], &f.Bodies[j]
		b.Box, b.Visitor, b.HasPose, b.Keypoints = tr.box, tr.alive, tr.hasPose, tr.kp
	}
	var sx, sy float32
	var near *track
	for j := 0; j < p.n; j++ {
		tr := &p.tracks[j]
		if !tr.alive {
			continue
		}
		sx += tr.cx
		sy += tr.cy
		if near == nil || tr.h > near.h {
			near = tr
		}
	}
	if near == nil {
		return
	}
	f.PoseCentroid = [2]float32{sx / float32(p.alive), sy / float32(p.alive)}
	f.Height = min(1, near.h)
	if near.hasPose {
		f.HandsUp, f.ArmSpan, f.Lean = bodyLanguage(&near.kp, p.aspect)
	}
}

// bodyLanguage reads a pose (normalised keypoints of a frame aspect wide
// per unit high): how far the hands are raised (0 down .. 1 a torso above
// the shoulders, both hands averaged), the arm span (wrist to wrist over
// the body's height; about 1 with the arms spread), and the lean (the
// shoulders' offset from the hips in torso lengths, -1 left .. 1 right).
func bodyLanguage(kp *[pose.NumParts]pose.Keypoint, aspect float32) (hands, span, lean float32) {
	ok := func(k pose.Part) bool { return kp[k].Score >= keypointMin }
	pt := func(k pose.Part) (float32, float32) { return kp[k].X * aspect, kp[k].Y }
	mid := func(a, b pose.Part) (float32, float32, bool) {
		switch {
		case ok(a) && ok(b):
			ax, ay := pt(a)
			bx, by := pt(b)
			return (ax + bx) / 2, (ay + by) / 2, true
		case ok(a):
			x, y := pt(a)
			return x, y, true
		case ok(b):
			x, y := pt(b)
			return x, y, true
		}
		return 0, 0, false
	}
	sx, sy, hasS := mid(pose.LeftShoulder, pose.RightShoulder)
	hx, hy, hasH := mid(pose.LeftHip, pose.RightHip)
	if !hasS {
		return 0, 0, 0
	}
	// The torso is the body's unit; without hips, shoulder width stands in.
	torso := float32(0)
	if hasH {
		torso = float32(math.Hypot(float64(sx-hx), float64(sy-hy)))
	} else if ok(pose.LeftShoulder) && ok(pose.RightShoulder) {
		lx, ly := pt(pose.LeftShoulder)
		rx, ry := pt(pose.RightShoulder)
		torso = 1.5 * float32(math.Hypot(float64(lx-rx), float64(ly-ry)))
	}
	if torso < 1e-3 {
		return 0, 0, 0
	}
	for _, side := range [2][2]pose.Part{{pose.LeftWrist, pose.LeftShoulder}, {pose.RightWrist, pose.RightShoulder}} {
		if !ok(side[0]) {
			continue
		}
		_, wy := pt(side[0])
		shy := sy
		if ok(side[1]) {
			_, shy = pt(side[1])
		}
		hands += min(1, max(0, (shy-wy)/torso)) / 2
	}
	if ok(pose.LeftWrist) && ok(pose.RightWrist) {
		lx, ly := pt(pose.LeftWrist)
		rx, ry := pt(pose.RightWrist)
		// The body is about 3.5 torsos tall.
		span = min(1.5, float32(math.Hypot(float64(lx-rx), float64(ly-ry)))/(3.5*torso))
	}
	if hasH {
		lean = min(1, max(-1, (sx-hx)/torso))
	}
	return hands, span, lean
}

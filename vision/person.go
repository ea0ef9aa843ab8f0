package vision

import (
	"fmt"
	"image"
	"log/slog"
	"math"

	"gocv.io/x/gocv"

	"reverie/vision/pose"
)

// The person networks vision knows how to read. vision prepares their input
// and reads their outputs; running them is the owner's business (gen), so
// vision sees them only through PersonNet.
const (
	PersonOff     = "off"
	PersonPoseNet = "posenet" // multi-person pose at the camera's own resolution: wide views
	PersonSelfie  = "selfie"  // close-up silhouette at 256×256: kiosk cameras
)

// selfieSize is Selfie Segmentation's fixed input size.
const selfieSize = 256

// PersonNet is one loaded person network with an NHWC float input of the
// size it was opened for. gen.Net satisfies it.
type PersonNet interface {
	// Input is the input tensor's data, RGB, row-major: fill it, then Run.
	Input() []float32
	Run() error
	// OutputByName returns the named output (posenet: heatmap, offset,
	// displacement_fwd, displacement_bwd; selfie: mask), valid until the
	// next Run.
	OutputByName(name string) ([]float32, []int64, bool)
	Close()
}

// PersonNets opens person networks. The owner of the pipeline supplies one
// backed by ONNX Runtime (Config.Nets); tests may supply a fake.
type PersonNets interface {
	// Open loads the named network (posenet, selfie) for a 1×h×w×3 input
	// and returns it with the range its input values take (posenet
	// [-1, 1], selfie [0, 1]). A network that is not installed returns an
	// error that says how to install it.
	Open(name string, w, h int) (PersonNet, [2]float32, error)
}

// Constants of the person evidence that are not worth a config key.
const (
	// maxPeople is the most people tracked at once.
	maxPeople = 8
	// keypointMin is the least score a keypoint needs to count toward a
	// person's outline and pose features.
	keypointMin = 0.2
	// bornActive is the mean recent activity (0..1) inside a newly found
	// person's box that makes them a visitor rather than part of the room:
	// they arrived moving.
	bornActive = 0.08
	// stirs is how many looks in a row must find someone who was part of
	// the room moving where they stand to make them a visitor: a walker
	// passing in front of a poster does not, a visitor shifting on their
	// feet does.
	stirs = 3
	// movedAway is how far, in heights of the person, a person who was part
	// of the room must move to become a visitor.
	movedAway = 0.3
	// recentTau is how long, in seconds, the recent-activity map remembers
	// motion, so a network result that comes a moment late still finds the
	// arrival that started it.
	recentTau = 1.0
	// selfieOn is the mask value above which a pixel is the person.
	selfieOn = 0.5
	// selfieMinArea is the least fraction of the picture a silhouette must
	// cover to count as someone.
	selfieMinArea = 0.01
)

// personShape is one person as a network saw them, normalised to the frame
// (0..1, x right, y down).
type personShape struct {
	box       [4]float32 // x0, y0, x1, y1
	cx, cy, h float32
	score     float32
	hasPose   bool
	kp        [pose.NumParts]pose.Keypoint // normalised, when hasPose
}

// sight is one run of a person network: who it saw in the frame captured at t.
type sight struct {
	t      float64
	n      int
	people [maxPeople]personShape
	// mask is the selfie network's silhouette at selfieSize², 0..1; empty
	// for posenet.
	mask []float32
	ms   float64 // how long the run took, milliseconds
}

func copySight(dst, src *sight) {
	mask := dst.mask
	*dst = *src
	dst.mask = append(mask[:0], src.mask...)
}

// seer runs a person network on a frame. It opens the network on the first
// frame, at a size that follows the frame's (posenet), and reuses every
// buffer after.
type seer struct {
	name    string
	nets    PersonNets
	maxW    int
	score   float32
	net     PersonNet
	rng     [2]float32
	w, h    int // network input size
	fw, fh  int // frame size it was opened for
	failed  bool
	rgb, fl gocv.Mat
	dec     *pose.Decoder
	clock   func() float64 // milliseconds, for the run's cost; nil reports 0
}

func newSeer(cfg Config) *seer {
	s := &seer{name: cfg.Person, nets: cfg.Nets, maxW: cfg.PersonW, score: float32(cfg.PersonScore),
		rgb: gocv.NewMat(), fl: gocv.NewMat()}
	if s.name == PersonPoseNet {
		pc := pose.DefaultConfig()
		pc.MaxPoses = maxPeople
		pc.ScoreThreshold = cfg.PersonScore
		s.dec, _ = pose.NewDecoder(pc) // valid: person_score is checked by Validate
	}
	return s
}

// poseSize is PoseNet's input for a fw×fh frame: the frame's own size, or
// narrower than maxW, rounded to 16k+1 as PoseNet was trained.
func poseSize(fw, fh, maxW int) (w, h int) {
	scale := min(1, float64(maxW)/float64(fw))
	w = int(math.Round(float64(fw)*scale/16))*16 + 1
	h = int(math.Round(float64(fh)*scale/16))*16 + 1
	return max(w, 33), max(h, 33)
}

// open loads the network for frames of fw×fh. A failure is logged once and
// leaves the seer off: the analysis goes on with motion alone.
func (s *seer) open(fw, fh int) bool {
	if s.failed {
		return false
	}
	if s.net != nil && s.fw == fw && s.fh == fh {
		return true
	}
	if s.net != nil {
		s.net.Close()
		s.net = nil
	}
	w, h := selfieSize, selfieSize
	if s.name == PersonPoseNet {
		w, h = poseSize(fw, fh, s.maxW)
	}
	net, rng, err := s.nets.Open(s.name, w, h)
	if err != nil {
		s.failed = true
		slog.Warn("vision.person is off: presence comes from motion alone", "person", s.name, "err", err)
		return false
	}
	s.net, s.rng, s.w, s.h, s.fw, s.fh = net, rng, w, h, fw, fh
	slog.Info("person network ready", "person", s.name, "input", fmt.Sprintf("%dx%d", w, h))
	return true
}

// see runs the network on frame (BGR, BGRA or grey), captured at t, into out.
// It reports false when the network is off or failed.
func (s *seer) see(frame gocv.Mat, t float64, out *sight) bool {
	if frame.Empty() || !s.open(frame.Cols(), frame.Rows()) {
		return false
	}
	var t0 float64
	if s.clock != nil {
		t0 = s.clock()
	}
	gocv.Resize(frame, &s.rgb, image.Pt(s.w, s.h), 0, 0, gocv.InterpolationLinear)
	switch s.rgb.Channels() {
	case 1:
		gocv.CvtColor(s.rgb, &s.rgb, gocv.ColorGrayToBGR)
		gocv.CvtColor(s.rgb, &s.rgb, gocv.ColorBGRToRGB)
	case 4:
		gocv.CvtColor(s.rgb, &s.rgb, gocv.ColorRGBAToBGR) // the same swap as BGRA to RGB
	default:
		gocv.CvtColor(s.rgb, &s.rgb, gocv.ColorBGRToRGB)
	}
	lo, hi := s.rng[0], s.rng[1]
	s.rgb.ConvertToWithParams(&s.fl, gocv.MatTypeCV32FC3, (hi-lo)/255, lo)
	data, err := s.fl.DataPtrFloat32()
	in := s.net.Input()
	if err != nil || len(data) != len(in) {
		s.fail(fmt.Errorf("input holds %d values, the picture %d", len(in), len(data)))
		return false
	}
	copy(in, data)
	if err := s.net.Run(); err != nil {
		s.fail(err)
		return false
	}
	out.t, out.n, out.mask = t, 0, out.mask[:0]
	if s.name == PersonPoseNet {
		if !s.readPoses(out) {
			return false
		}
	} else if !s.readMask(out) {
		return false
	}
	if s.clock != nil {
		out.ms = s.clock() - t0
	}
	return true
}

func (s *seer) fail(err error) {
	s.failed = true
	slog.Error("vision.person stopped: presence comes from motion alone", "person", s.name, "err", err)
}

func (s *seer) readPoses(out *sight) bool {
	var o pose.Outputs
	var shape []int64
	var ok [4]bool
	o.Heatmap, shape, ok[0] = s.net.OutputByName("heatmap")
	o.Offsets, _, ok[1] = s.net.OutputByName("offset")
	o.DisplacementFwd, _, ok[2] = s.net.OutputByName("displacement_fwd")
	o.DisplacementBwd, _, ok[3] = s.net.OutputByName("displacement_bwd")
	if !ok[0] || !ok[1] || !ok[2] || !ok[3] || len(shape) != 4 {
		s.fail(fmt.Errorf("posenet: expected outputs heatmap, offset, displacement_fwd and displacement_bwd (NHWC)"))
		return false
	}
	o.H, o.W, o.Stride, o.InputH, o.InputW = int(shape[1]), int(shape[2]), 16, s.h, s.w
	poses, err := s.dec.Decode(o)
	if err != nil {
		s.fail(err)
		return false
	}
	sx, sy := 1/float32(s.w), 1/float32(s.h)
	for i := range poses {
		p := &poses[i]
		if p.Score < s.score || out.n == maxPeople {
			continue
		}
		ps := &out.people[out.n]
		*ps = personShape{box: [4]float32{2, 2, -1, -1}, score: p.Score, hasPose: true}
		n := 0
		for k, kp := range p.Keypoints {
			q := pose.Keypoint{X: kp.X * sx, Y: kp.Y * sy, Score: kp.Score}
			ps.kp[k] = q
			if q.Score < keypointMin {
				continue
			}
			n++
			ps.box[0], ps.box[1] = min(ps.box[0], q.X), min(ps.box[1], q.Y)
			ps.box[2], ps.box[3] = max(ps.box[2], q.X), max(ps.box[3], q.Y)
		}
		if n < 3 {
			continue
		}
		ps.finish()
		out.n++
	}
	return true
}

// readMask keeps the silhouette and reads it as one person: its box and
// centre.
func (s *seer) readMask(out *sight) bool {
	m, _, ok := s.net.OutputByName("mask")
	if !ok || len(m) != selfieSize*selfieSize {
		s.fail(fmt.Errorf("selfie: expected a %d×%d output named mask", selfieSize, selfieSize))
		return false
	}
	out.mask = append(out.mask, m...)
	ps := &out.people[0]
	*ps = personShape{box: [4]float32{2, 2, -1, -1}}
	var n, sx, sy float32
	for y := 0; y < selfieSize; y++ {
		for x := 0; x < selfieSize; x++ {
			if m[y*selfieSize+x] <= selfieOn {
				continue
			}
			fx, fy := (float32(x)+0.5)/selfieSize, (float32(y)+0.5)/selfieSize
			n++
			sx += fx
			sy += fy
			ps.box[0], ps.box[1] = min(ps.box[0], fx), min(ps.box[1], fy)
			ps.box[2], ps.box[3] = max(ps.box[2], fx), max(ps.box[3], fy)
		}
	}
	if n < selfieMinArea*selfieSize*selfieSize {
		return true
	}
	ps.finish()
	ps.cx, ps.cy = sx/n, sy/n
	ps.score = n / (selfieSize * selfieSize)
	out.n = 1
	return true
}

func (p *personShape) finish() {
	p.cx, p.cy = (p.box[0]+p.box[2])/2, (p.box[1]+p.box[3])/2
	p.h = max(p.box[3]-p.box[1], 0.02)
}

func (s *seer) Close() {
	if s.net != nil {
		s.net.Close()
		s.net = nil
	}
	s.rgb.Close()
	s.fl.Close()
}

// PersonFinder runs the configured person network on single frames, for
// tools and tests that measure what it sees (recall on a camera's view,
// cost per look).
type PersonFinder struct {
	s   *seer
	out sight
}

// NewPersonFinder prepares cfg.Person through cfg.Nets; the network opens
// on the first frame. Close it when done.
func NewPersonFinder(cfg Config) (*PersonFinder, error) {
	if cfg.Nets == nil || cfg.Person == PersonOff {
		return nil, fmt.Errorf("vision.person is %q with no networks wired in: nothing to find people with", cfg.Person)
	}
	return &PersonFinder{s: newSeer(cfg)}, nil
}

// Find looks at one frame and returns how many people it found (1 or 0
// for selfie's silhouette).
func (p *PersonFinder) Find(frame gocv.Mat) (int, error) {
	if !p.s.see(frame, 0, &p.out) {
		return 0, fmt.Errorf("vision.person %s could not look (the log says why)", p.s.name)
	}
	return p.out.n, nil
}

// Covers reports whether the last look saw a person at (x, y), normalised
// 0..1: inside a pose's box (widened by a quarter of its height), or on the
// silhouette.
func (p *PersonFinder) Covers(x, y float32) bool {
	if len(p.out.mask) == selfieSize*selfieSize {
		cx, cy := int(x*selfieSize), int(y*selfieSize)
		for dy := -1; dy <= 1; dy++ {
			for dx := -1; dx <= 1; dx++ {
				u, v := clampi(cx+dx, 0, selfieSize-1), clampi(cy+dy, 0, selfieSize-1)
				if p.out.mask[v*selfieSize+u] > selfieOn {
					return true
				}
			}
		}
		return false
	}
	for i := 0; i < p.out.n; i++ {
		ps := &p.out.people[i]
		m := ps.h / 4
		if x >= ps.box[0]-m && x <= ps.box[2]+m && y >= ps.box[1]-m && y <= ps.box[3]+m {
			return true
		}
	}
	return false
}

// Close releases the network.
func (p *PersonFinder) Close() { p.s.Close() }

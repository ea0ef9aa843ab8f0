// Package pose decodes PoseNet's outputs into the poses of every person in
// view: 17 COCO keypoints each, in input pixels, by the multi-person
// algorithm of PersonLab (Papandreou et al. 2018) as TF.js's
// @tensorflow-models/posenet runs it. It is pure Go and allocation-free in
// steady state; running the network is gen's job.
package pose

import (
	"fmt"
	"math"
	"slices"

	"reverie/internal/field"
)

// Part is one of the 17 COCO keypoints, in PoseNet's channel order.
type Part int

// The keypoints, in the order of PoseNet's heatmap channels.
const (
	Nose Part = iota
	LeftEye
	RightEye
	LeftEar
	RightEar
	LeftShoulder
	RightShoulder
	LeftElbow
	RightElbow
	LeftWrist
	RightWrist
	LeftHip
	RightHip
	LeftKnee
	RightKnee
	LeftAnkle
	RightAnkle

	// NumParts is the number of keypoints of a pose (heatmap channels).
	NumParts = 17
)

var partNames = [NumParts]string{
	"nose", "leftEye", "rightEye", "leftEar", "rightEar",
	"leftShoulder", "rightShoulder", "leftElbow", "rightElbow", "leftWrist", "rightWrist",
	"leftHip", "rightHip", "leftKnee", "rightKnee", "leftAnkle", "rightAnkle",
}

// String is the part's name as TF.js's posenet spells it ("leftShoulder").
func (p Part) String() string {
	if p < 0 || p >= NumParts {
		return fmt.Sprintf("Part(%d)", int(p))
	}
	return partNames[p]
}

// skeleton is the tree the decoder walks, rooted at the nose: edge i joins
// parent skeleton[i][0] to child skeleton[i][1]. The order is the network's:
// displacement channel i (y) and numEdges+i (x) belong to edge i.
var skeleton = [numEdges][2]Part{
	{Nose, LeftEye}, {LeftEye, LeftEar}, {Nose, RightEye}, {RightEye, RightEar},
	{Nose, LeftShoulder}, {LeftShoulder, LeftElbow}, {LeftElbow, LeftWrist},
	{LeftShoulder, LeftHip}, {LeftHip, LeftKnee}, {LeftKnee, LeftAnkle},
	{Nose, RightShoulder}, {RightShoulder, RightElbow}, {RightElbow, RightWrist},
	{RightShoulder, RightHip}, {RightHip, RightKnee}, {RightKnee, RightAnkle},
}

const (
	numEdges = NumParts - 1
	// localMaxRadius is the half-width, in heatmap cells, of the window a
	// root candidate must be the maximum of (PersonLab uses 1: a 3×3 window).
	localMaxRadius = 1
	// refineSteps is how often a displaced keypoint is snapped to its own
	// heatmap cell and corrected by that cell's offset: the displacement
	// fields are coarse, the offsets precise near the part.
	refineSteps = 2
	// maxCells bounds h×w so that hostile sizes cannot overflow the channel
	// arithmetic (a 16k×16k input at stride 16 is 1M cells).
	maxCells = 1 << 20
)

// Keypoint is one part of a pose: its position in input pixels (it can lie
// a few pixels outside the input near its border) and its heatmap score 0..1.
type Keypoint struct {
	X, Y  float32
	Score float32
}

// Pose is one person: a score 0..1 and a keypoint per Part.
type Pose struct {
	// Score is the mean of the keypoint scores, counting as 0 each keypoint
	// that lies within the NMS radius of the same keypoint of a pose found
	// before it: a duplicate of a person scores low.
	Score     float32
	Keypoints [NumParts]Keypoint
}

// Config holds the decoder's options.
type Config struct {
	// MaxPoses is the most poses one decode returns, strongest roots first.
	MaxPoses int `yaml:"max_poses"`
	// ScoreThreshold is the least heatmap score (0..1) a keypoint needs to
	// start a pose. Lower finds small and occluded people, and more ghosts.
	ScoreThreshold float64 `yaml:"score_threshold"`
	// NMSRadius is, in input pixels, how near a keypoint must be to the same
	// keypoint of a pose already found to count as that person again. Larger
	// merges people standing close; smaller lets one person be found twice.
	NMSRadius float64 `yaml:"nms_radius"`
}

// DefaultConfig returns TF.js posenet's defaults for multi-person decoding.
func DefaultConfig() Config {
	return Config{MaxPoses: 10, ScoreThreshold: 0.5, NMSRadius: 20}
}

// Validate checks every value.
func (c *Config) Validate() error {
	if c.MaxPoses < 1 || c.MaxPoses > 1000 {
		return &field.Error{Key: "max_poses", Msg: fmt.Sprintf("%d: expected 1..1000", c.MaxPoses)}
	}
	if !(c.ScoreThreshold >= 0 && c.ScoreThreshold <= 1) {
		return &field.Error{Key: "score_threshold", Msg: fmt.Sprintf("%g: expected 0..1", c.ScoreThreshold)}
	}
	if !(c.NMSRadius > 0 && c.NMSRadius <= 10000) {
		return &field.Error{Key: "nms_radius", Msg: fmt.Sprintf("%g: expected more than 0, up to 10000 pixels", c.NMSRadius)}
	}
	return nil
}

// Outputs are PoseNet's four outputs for one image, as flat NHWC float32
// slices (batch 1) over an H×W grid, and the input they came from.
type Outputs struct {
	Heatmap         []float32 // H×W×17 logits; the decoder applies the sigmoid
	Offsets         []float32 // H×W×34: y for part k in channel k, x in 17+k
	DisplacementFwd []float32 // H×W×32: y for edge i in channel i, x in 16+i
	DisplacementBwd []float32 // H×W×32, the same for the child→parent direction
	H, W            int       // the grid: ceil(InputH/Stride) × ceil(InputW/Stride)
	Stride          int       // the network's output stride: 16 for reverie's PoseNet
	// InputH and InputW are the network input's size in pixels. PoseNet is
	// trained on sizes of the form Stride·k+1 (TF.js posenet rounds to them),
	// where grid cell (i, j) sits exactly on input pixel (Stride·i, Stride·j).
	InputH, InputW int
}

// candidate is a root candidate: a local maximum of part k's scores.
type candidate struct {
	score float32
	y, x  int32
	part  Part
}

// point is a position in input pixels. The decoder works in float64, as
// JavaScript does, so that it rounds to the same cells as the reference.
type point struct{ y, x float64 }

// Decoder decodes PoseNet's outputs into poses. It keeps its buffers between
// calls: after the first decode at a size, Decode allocates nothing. A
// Decoder is not safe for concurrent use.
type Decoder struct {
	cfg    Config
	scores []float32   // sigmoid of the heatmap
	cands  []candidate // root candidates, strongest first
	poses  []Pose
	// at holds the found poses' keypoints in float64, so that the NMS
	// distances are the reference's to the last bit.
	at    [][NumParts]point
	found [NumParts]bool
	pos   [NumParts]point // the pose being decoded
	score [NumParts]float32
}

// NewDecoder returns a decoder with the given options.
func NewDecoder(cfg Config) (*Decoder, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Decoder{cfg: cfg, poses: make([]Pose, 0, cfg.MaxPoses), at: make([][NumParts]point, 0, cfg.MaxPoses)}, nil
}

// Config returns the decoder's options.
func (d *Decoder) Config() Config { return d.cfg }

// check returns an error naming what in o is inconsistent.
func (o *Outputs) check() error {
	if o.Stride < 1 || o.Stride > 1024 {
		return fmt.Errorf("pose: output stride %d: expected 1..1024 (PoseNet's is 8, 16 or 32)", o.Stride)
	}
	if o.InputH < 1 || o.InputW < 1 || o.InputH > o.Stride*maxCells || o.InputW > o.Stride*maxCells {
		return fmt.Errorf("pose: input size %dx%d (width x height): expected positive sizes", o.InputW, o.InputH)
	}
	if o.H < 1 || o.W < 1 || o.H > maxCells || o.W > maxCells || o.H*o.W > maxCells {
		return fmt.Errorf("pose: output grid %dx%d (width x height): expected positive sizes, at most %d cells", o.W, o.H, maxCells)
	}
	if wantH, wantW := ceilDiv(o.InputH, o.Stride), ceilDiv(o.InputW, o.Stride); o.H != wantH || o.W != wantW {
		return fmt.Errorf("pose: output grid %dx%d does not match input %dx%d at stride %d: expected %dx%d",
			o.W, o.H, o.InputW, o.InputH, o.Stride, wantW, wantH)
	}
	cells := o.H * o.W
	for _, c := range []struct {
		name     string
		data     []float32
		channels int
	}{
		{"heatmap", o.Heatmap, NumParts},
		{"offsets", o.Offsets, 2 * NumParts},
		{"displacement_fwd", o.DisplacementFwd, 2 * numEdges},
		{"displacement_bwd", o.DisplacementBwd, 2 * numEdges},
	} {
		if len(c.data) != cells*c.channels {
			return fmt.Errorf("pose: %s has %d values: expected %d (%dx%d grid x %d channels)",
				c.name, len(c.data), cells*c.channels, o.W, o.H, c.channels)
		}
	}
	return nil
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// Decode finds the poses in one image's PoseNet outputs, strongest root
// first. Like TF.js posenet it keeps low-scoring poses (a duplicate or a
// fragment scores low): filter on Pose.Score. The result is the decoder's
// own and valid until the next Decode.
// Inconsistent outputs (lengths that do not match the grid, a grid that
// does not match the input size, NaN scores) return an error and no poses.
func (d *Decoder) Decode(o Outputs) ([]Pose, error) {
	d.poses, d.at = d.poses[:0], d.at[:0]
	if err := o.check(); err != nil {
		return nil, err
	}
	if err := d.sigmoid(o.Heatmap); err != nil {
		return nil, err
	}
	d.findCandidates(o.H, o.W)

	r2 := d.cfg.NMSRadius * d.cfg.NMSRadius
	for _, c := range d.cands {
		if len(d.poses) == d.cfg.MaxPoses {
			break
		}
		root := d.imagePoint(&o, int(c.y), int(c.x), c.part)
		// Part-based NMS: a root on a part someone already has is that
		// person again, not a new one.
		if d.claimed(root, c.part, r2) {
			continue
		}
		d.decodePose(&o, c, root)
		var p Pose
		sum := 0.0
		for k := range Part(NumParts) {
			p.Keypoints[k] = Keypoint{X: float32(d.pos[k].x), Y: float32(d.pos[k].y), Score: d.score[k]}
			if !d.claimed(d.pos[k], k, r2) {
				sum += float64(d.score[k])
			}
		}
		p.Score = float32(sum / NumParts)
		d.poses = append(d.poses, p)
		d.at = append(d.at, d.pos)
	}
	return d.poses, nil
}

// sigmoid turns the heatmap's logits into scores, as float32 like TF.js's
// tf.sigmoid, so that thresholds and ties fall the same way.
func (d *Decoder) sigmoid(logits []float32) error {
	d.scores = slices.Grow(d.scores[:0], len(logits))[:len(logits)]
	for i, v := range logits {
		if v != v {
			return fmt.Errorf("pose: heatmap value %d (cell %d, part %s) is NaN: the network's output is broken",
				i, i/NumParts, Part(i%NumParts))
		}
		d.scores[i] = float32(1 / (1 + math.Exp(-float64(v))))
	}
	return nil
}

// findCandidates collects every part score at or above the threshold that
// no neighbour in its window exceeds, strongest first. Equal scores keep
// grid order, so the result does not depend on the sort.
func (d *Decoder) findCandidates(h, w int) {
	d.cands = d.cands[:0]
	thr := d.cfg.ScoreThreshold
	for y := range h {
		y0, y1 := max(y-localMaxRadius, 0), min(y+localMaxRadius+1, h)
		for x := range w {
			x0, x1 := max(x-localMaxRadius, 0), min(x+localMaxRadius+1, w)
			cell := (y*w + x) * NumParts
			for k := range NumParts {
				s := d.scores[cell+k]
				if float64(s) < thr || !d.isLocalMax(s, k, y0, y1, x0, x1, w) {
					continue
				}
				d.cands = append(d.cands, candidate{score: s, y: int32(y), x: int32(x), part: Part(k)})
			}
		}
	}
	slices.SortStableFunc(d.cands, func(a, b candidate) int {
		switch {
		case a.score > b.score:
			return -1
		case a.score < b.score:
			return 1
		}
		return 0
	})
}

func (d *Decoder) isLocalMax(s float32, k, y0, y1, x0, x1, w int) bool {
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			if d.scores[(y*w+x)*NumParts+k] > s {
				return false
			}
		}
	}
	return true
}

// imagePoint is part k's position in input pixels seen from grid cell
// (y, x): the cell's pixel plus the cell's offset for that part.
func (d *Decoder) imagePoint(o *Outputs, y, x int, k Part) point {
	i := (y*o.W + x) * 2 * NumParts
	return point{
		y: float64(y*o.Stride) + float64(o.Offsets[i+int(k)]),
		x: float64(x*o.Stride) + float64(o.Offsets[i+NumParts+int(k)]),
	}
}

// claimed reports whether p is within the NMS radius (squared: r2) of part
// k of a pose already found.
func (d *Decoder) claimed(p point, k Part, r2 float64) bool {
	for i := range d.at {
		q := d.at[i][k]
		dy, dx := q.y-p.y, q.x-p.x
		if dy*dy+dx*dx <= r2 {
			return true
		}
	}
	return false
}

// cell is the grid cell nearest to p, clamped to the grid.
func cell(p point, o *Outputs) (y, x int) {
	return nearest(p.y, o.Stride, o.H), nearest(p.x, o.Stride, o.W)
}

// nearest rounds v/stride half up, as JavaScript's Math.round does, and
// clamps it to 0..n-1. Non-finite positions (from hostile offsets) clamp too.
func nearest(v float64, stride, n int) int {
	r := math.Floor(v/float64(stride) + 0.5)
	switch {
	case !(r >= 0): // also NaN
		return 0
	case r > float64(n-1):
		return n - 1
	}
	return int(r)
}

// decodePose fills d.pos and d.score with every part of the person whose root is c at
// image position root: first towards the root of the skeleton (the nose)
// along the backward displacements, then out to the limbs along the
// forward ones, each step refined by the target part's offsets.
func (d *Decoder) decodePose(o *Outputs, c candidate, root point) {
	d.found = [NumParts]bool{}
	d.pos[c.part], d.score[c.part], d.found[c.part] = root, c.score, true
	for e := numEdges - 1; e >= 0; e-- {
		parent, child := skeleton[e][0], skeleton[e][1]
		if d.found[child] && !d.found[parent] {
			d.pos[parent], d.score[parent] = d.traverse(o, e, d.pos[child], parent, o.DisplacementBwd)
			d.found[parent] = true
		}
	}
	for e := range numEdges {
		parent, child := skeleton[e][0], skeleton[e][1]
		if d.found[parent] && !d.found[child] {
			d.pos[child], d.score[child] = d.traverse(o, e, d.pos[parent], child, o.DisplacementFwd)
			d.found[child] = true
		}
	}
}

// traverse follows edge e's displacement from the known part at src to
// the target part, then snaps to the target's own offsets. The score is the
// target's at the cell nearest where it lands.
func (d *Decoder) traverse(o *Outputs, e int, src point, target Part, disp []float32) (point, float32) {
	y, x := cell(src, o)
	i := (y*o.W + x) * 2 * numEdges
	p := point{y: src.y + float64(disp[i+e]), x: src.x + float64(disp[i+numEdges+e])}
	for range refineSteps {
		y, x = cell(p, o)
		p = d.imagePoint(o, y, x, target)
	}
	y, x = cell(p, o)
	return p, d.scores[(y*o.W+x)*NumParts+int(target)]
}

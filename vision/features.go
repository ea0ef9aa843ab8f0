package vision

import (
	"time"

	"reverie/vision/pose"
)

// Features is what the analysis says about one camera frame: how much the
// audience moves, where, and in which direction.
type Features struct {
	Frame       int        // index of the analysed frame since the source opened
	T           float64    // seconds since the source opened (frame time for files)
	At          time.Time  // wall time the frame was captured
	Motion      float32    // motion energy 0..1
	Presence    bool       // someone is there (with hysteresis)
	Level       float32    // presence level 0..1
	Centroid    [2]float32 // centre of activity, normalised 0..1 (x right, y down)
	Flow        [2]float32 // mean flow vector, in frame widths per second
	Grid        []float32  // GridW×GridH motion energy, row-major, 0..1
	GridW       int
	GridH       int
	FlowField   []float32 // FlowW×FlowH×2 flow vectors (dx, dy), in frame widths per second
	FlowW       int
	FlowH       int
	People      int     // people: visitors the person network follows (vision.person), else HOG's count; carried from the latest look
	Faces       int     // faces detected (Haar), carried likewise
	Detected    float64 // frame time (as T) of the frame People and Faces were counted on; -1 before the first
	LightChange bool    // the room's light jumped, or is drifting (the gain keeps moving); it is normalised away
	Gain        float32 // brightness normalisation gain applied (1 = none)
	Foreground  float32 // fraction of the watched area the background model sees as someone, 0..1
	Mask        []uint8 // MaskW×MaskH silhouette at analysis size, row-major, 0 or 255
	MaskW       int
	MaskH       int
	Warm        bool // warm-up is over; before it nothing counts as presence

	// Person evidence from a trained network (vision.person), carried from
	// its latest look; zero without one.
	Person       bool       // a person network is running and rules presence
	Seen         int        // people the network saw in its latest look, visitors or not (a poster counts here)
	PersonMs     float32    // how long its latest look took, milliseconds
	PoseCentroid [2]float32 // mean centre of the visitors, normalised 0..1; 0.5, 0.5 with none
	// The nearest visitor (the tallest in frame) and their pose: 0 with none.
	HandsUp float32 // hands raised: 0 down .. 1 a torso above the shoulders, both hands averaged
	ArmSpan float32 // wrist to wrist over the body's height: about 1 with the arms spread, up to 1.5
	Lean    float32 // shoulders over hips, -1 (left in the picture) .. 1 (right), in torso lengths
	Height  float32 // their height as a fraction of the frame's: nearer is taller
	// Bodies are the people the network follows, visitors and the room's
	// (a poster), as the preview and the panel draw them; the first
	// NBodies are valid.
	Bodies  [MaxBodies]Body
	NBodies int
}

// MaxBodies is the most people the person evidence follows at once.
const MaxBodies = maxPeople

// Body is one person the network follows, normalised to the frame (0..1,
// x right, y down).
type Body struct {
	Box     [4]float32 // x0, y0, x1, y1
	Visitor bool       // arrived moving or moved since: counts as presence
	HasPose bool       // Keypoints are set (posenet; selfie gives a box only)
	// Keypoints are the 17 COCO parts in pose.Part order, with their scores.
	Keypoints [pose.NumParts]pose.Keypoint
}

// CopyFrom copies src into f, reusing f's slices, so a consumer can keep a
// Features without allocating per frame.
func (f *Features) CopyFrom(src *Features) {
	grid, flow, mask := f.Grid, f.FlowField, f.Mask
	*f = *src
	f.Grid = append(grid[:0], src.Grid...)
	f.FlowField = append(flow[:0], src.FlowField...)
	f.Mask = append(mask[:0], src.Mask...)
}

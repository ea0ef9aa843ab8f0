package vision

import "time"

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
	People      int     // people detected (HOG), carried from the latest detection
	Faces       int     // faces detected (Haar), carried likewise
	Detected    float64 // frame time (as T) of the frame People and Faces were counted on; -1 before the first
	LightChange bool    // the room's light jumped, or is drifting (the gain keeps moving); it is normalised away
	Gain        float32 // brightness normalisation gain applied (1 = none)
	Foreground  float32 // fraction of the watched area the background model sees as someone, 0..1
	Mask        []uint8 // MaskW×MaskH silhouette at analysis size, row-major, 0 or 255
	MaskW       int
	MaskH       int
	Warm        bool // warm-up is over; before it nothing counts as presence
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

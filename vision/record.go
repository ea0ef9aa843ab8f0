package vision

import "math"

// Record is Features as JSON: one line of `reverie analyze`, and the
// analysis part of each line of `reverie render`'s trace.jsonl. Values are
// rounded to three decimals so a person can read them.
type Record struct {
	Frame       int        `json:"frame"`
	T           float64    `json:"t"`
	Motion      float64    `json:"motion"`
	Presence    bool       `json:"presence"`
	Level       float64    `json:"level"`
	Centroid    [2]float64 `json:"centroid"`
	Flow        [2]float64 `json:"flow"`
	Grid        []float64  `json:"grid"`
	People      int        `json:"people"`
	Faces       int        `json:"faces"`
	LightChange bool       `json:"light_change"`
	Gain        float64    `json:"gain"`
	Foreground  float64    `json:"foreground"`
	Warm        bool       `json:"warm"`
	// Person evidence (vision.person); person is false, and the rest 0,
	// without a network.
	Person       bool       `json:"person"`
	Seen         int        `json:"people_seen"`
	PersonMs     float64    `json:"person_ms"`
	PoseCentroid [2]float64 `json:"pose_centroid"`
	HandsUp      float64    `json:"hands_up"`
	ArmSpan      float64    `json:"arm_span"`
	Lean         float64    `json:"lean"`
	Height       float64    `json:"height"`
}

// Fill writes f into r, reusing r's grid.
func (r *Record) Fill(f *Features) {
	grid := r.Grid[:0]
	for _, g := range f.Grid {
		grid = append(grid, r3(g))
	}
	*r = Record{
		Frame: f.Frame, T: math.Round(f.T*1000) / 1000, Motion: r3(f.Motion), Presence: f.Presence, Level: r3(f.Level),
		Centroid: [2]float64{r3(f.Centroid[0]), r3(f.Centroid[1])},
		Flow:     [2]float64{r3(f.Flow[0]), r3(f.Flow[1])},
		Grid:     grid,
		People:   f.People, Faces: f.Faces, LightChange: f.LightChange,
		Gain: r3(f.Gain), Foreground: r3(f.Foreground), Warm: f.Warm,
		Person: f.Person, Seen: f.Seen, PersonMs: r3(f.PersonMs),
		PoseCentroid: [2]float64{r3(f.PoseCentroid[0]), r3(f.PoseCentroid[1])},
		HandsUp:      r3(f.HandsUp), ArmSpan: r3(f.ArmSpan), Lean: r3(f.Lean), Height: r3(f.Height),
	}
}

// r3 rounds to three decimals.
func r3(v float32) float64 { return math.Round(float64(v)*1000) / 1000 }

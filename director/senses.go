package director

import (
	"math"

	"reverie/audio"
	"reverie/vision"
)

// Feature is one number the audience or the room's sound gives, which a
// mapping pushes the latent with and a scene drive moves a pass parameter
// with. Its value is computed here only.
type Feature uint8

// The features, in the order config.yaml documents them.
const (
	Motion Feature = iota + 1
	CentroidX
	CentroidY
	FlowX
	FlowY
	Presence
	Grid
	People
	HandsUp
	ArmSpan
	Lean
	Height
	PoseX
	PoseY
	SoundLevel
	SoundLow
	SoundMid
	SoundHigh
	SoundOnset
	SoundBeat
	SoundBPM
	numFeatures
)

// featureNames are the features' names in config.yaml, by Feature.
var featureNames = [numFeatures]string{"", "motion", "centroid_x", "centroid_y", "flow_x", "flow_y", "presence", "grid", "people",
	"hands_up", "arm_span", "lean", "height", "pose_x", "pose_y",
	"audio.level", "audio.low", "audio.mid", "audio.high", "audio.onset", "audio.beat", "audio.bpm"}

// FeatureNames lists every feature's name, in config.yaml's order.
func FeatureNames() []string { return append([]string(nil), featureNames[1:]...) }

// ParseFeature finds a feature by its config.yaml name.
func ParseFeature(name string) (Feature, bool) {
	for i, n := range featureNames {
		if i > 0 && n == name {
			return Feature(i), true
		}
	}
	return 0, false
}

func (f Feature) String() string {
	if f > 0 && f < numFeatures {
		return featureNames[f]
	}
	return "none"
}

// Sound says whether the feature comes from the sound input.
func (f Feature) Sound() bool { return f >= SoundLevel && f < numFeatures }

// PulseDecay is how fast audio.onset and audio.beat fall back from 1 after
// each hit: a time constant in seconds.
const PulseDecay = 0.1

// Senses holds the newest camera and sound features and turns them into
// feature values, once per tick. Onsets and beats become pulses: 1 on the
// tick one arrives, decaying with PulseDecay, so none is lost between two
// ticks and a slow reader still sees it. The zero value is ready; it
// allocates nothing.
type Senses struct {
	cam           *vision.Features
	snd           *audio.Features
	onset, beat   float64 // pulses
	onsets, beats uint64  // the counts last seen
}

// Update takes this tick's features (either may be nil: no camera, no
// sound) and advances the pulses by dt seconds.
func (s *Senses) Update(cam *vision.Features, snd *audio.Features, dt float64) {
	s.cam, s.snd = cam, snd
	k := math.Exp(-math.Max(dt, 0) / PulseDecay)
	s.onset *= k
	s.beat *= k
	if snd == nil {
		return
	}
	// Counts, not the Onset flag: a tick that read two blocks at once must
	// not miss the hit in the first.
	if snd.Onsets != s.onsets {
		s.onset, s.onsets = 1, snd.Onsets
	}
	if snd.Beats != s.beats {
		s.beat, s.beats = 1, snd.Beats
	}
}

// Camera and Sound are the features of the last Update.
func (s *Senses) Camera() *vision.Features { return s.cam }

// Sound is the sound features of the last Update, nil for none.
func (s *Senses) Sound() *audio.Features { return s.snd }

// Value is feature f now. Camera features are 0 without a camera, sound
// features 0 without sound; grid reads as the mean of its cells.
func (s *Senses) Value(f Feature) float64 {
	if f.Sound() {
		a := s.snd
		if a == nil {
			return 0
		}
		switch f {
		case SoundLevel:
			return float64(a.Level)
		case SoundLow:
			return float64(a.Low)
		case SoundMid:
			return float64(a.Mid)
		case SoundHigh:
			return float64(a.High)
		case SoundOnset:
			return s.onset
		case SoundBeat:
			return s.beat
		case SoundBPM:
			return float64(a.BPM) / 120
		}
		return 0
	}
	c := s.cam
	if c == nil {
		return 0
	}
	level := float64(c.Level)
	switch f {
	case Motion:
		return float64(c.Motion)
	case CentroidX:
		return (float64(c.Centroid[0]) - 0.5) * 2 * level
	case CentroidY:
		return (float64(c.Centroid[1]) - 0.5) * 2 * level
	case FlowX:
		return math.Max(-2, math.Min(2, float64(c.Flow[0])))
	case FlowY:
		return math.Max(-2, math.Min(2, float64(c.Flow[1])))
	case Presence:
		return level
	case Grid:
		var sum float64
		for _, e := range c.Grid {
			sum += float64(e)
		}
		return sum / float64(max(1, len(c.Grid)))
	case People:
		return math.Min(float64(c.People), 4) / 4
	case HandsUp:
		return float64(c.HandsUp)
	case ArmSpan:
		return float64(c.ArmSpan)
	case Lean:
		return float64(c.Lean)
	case Height:
		return float64(c.Height)
	case PoseX:
		return (float64(c.PoseCentroid[0]) - 0.5) * 2 * level
	case PoseY:
		return (float64(c.PoseCentroid[1]) - 0.5) * 2 * level
	}
	return 0
}

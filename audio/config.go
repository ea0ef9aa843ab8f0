package audio

import (
	"fmt"
	"math"

	"reverie/internal/field"
)

// Config is how sound is analysed. The zero value is not valid; start from
// DefaultConfig.
type Config struct {
	// Block is the analysis hop in samples, a power of two 32..4096, or 0
	// to pick the one nearest 10 ms at the source's rate (512 at 48 kHz).
	// A feature is at most about 1.5 blocks old when it is published: a
	// smaller block answers sooner, a larger one costs less CPU.
	Block int `yaml:"block"`
	// Gain scales level and bands before they are clamped to 0..1, for a
	// quiet microphone (1..; 0.01..1000).
	Gain float64 `yaml:"gain"`
	// LowHz and HighHz split the spectrum into low (below LowHz), mid and
	// high (above HighHz) bands.
	LowHz  float64 `yaml:"low_hz"`
	HighHz float64 `yaml:"high_hz"`
	// Sensitivity is how far above the recent mean spectral flux a block
	// must rise to be an onset, as a factor (1.1..10). Lower finds softer
	// onsets and more false ones.
	Sensitivity float64 `yaml:"sensitivity"`
	// Floor is the least spectral flux that can be an onset, so hiss and
	// a silent room never count (0..10).
	Floor float64 `yaml:"floor"`
	// MinBPM and MaxBPM bound the tempo estimate (30..300, MinBPM < MaxBPM/1.5).
	// Between a tempo and its double, the one nearer 120 wins.
	MinBPM float64 `yaml:"min_bpm"`
	MaxBPM float64 `yaml:"max_bpm"`
}

// DefaultConfig is the analysis config.yaml starts from.
func DefaultConfig() Config {
	return Config{Gain: 1, LowHz: 250, HighHz: 4000, Sensitivity: 1.6, Floor: 0.02, MinBPM: 60, MaxBPM: 200}
}

// Validate reports the first bad value, naming its key below audio.
func (c Config) Validate() error {
	bad := func(key string, v any, want string) error {
		return &field.Error{Key: key, Msg: fmt.Sprintf("%v; expected %s", v, want)}
	}
	switch {
	case c.Block != 0 && (c.Block < 32 || c.Block > 4096 || c.Block&(c.Block-1) != 0):
		return bad("block", c.Block, "0 (automatic) or a power of two from 32 to 4096")
	case !(c.Gain >= 0.01 && c.Gain <= 1000):
		return bad("gain", c.Gain, "0.01..1000")
	case !(c.LowHz >= 20 && c.LowHz < c.HighHz):
		return bad("low_hz", c.LowHz, "20 Hz or more, below audio.high_hz")
	case !(c.HighHz <= 20000):
		return bad("high_hz", c.HighHz, "at most 20000 Hz, above audio.low_hz")
	case !(c.Sensitivity >= 1.1 && c.Sensitivity <= 10):
		return bad("sensitivity", c.Sensitivity, "1.1..10")
	case !(c.Floor >= 0 && c.Floor <= 10):
		return bad("floor", c.Floor, "0..10")
	case !(c.MinBPM >= 30 && c.MinBPM <= 300):
		return bad("min_bpm", c.MinBPM, "30..300")
	case !(c.MaxBPM >= 30 && c.MaxBPM <= 300 && c.MaxBPM >= 1.5*c.MinBPM):
		return bad("max_bpm", c.MaxBPM, "30..300 and at least 1.5 × audio.min_bpm")
	}
	return nil
}

// blockFor is the hop used at rate: Block, or the power of two nearest 10 ms.
func (c Config) blockFor(rate int) int {
	if c.Block != 0 {
		return c.Block
	}
	b := 1 << int(math.Round(math.Log2(float64(rate)*0.01)))
	return max(32, min(4096, b))
}

package bench

import (
	"fmt"
	"math"
	"time"

	"reverie/audio"
)

// SoundReport is the sound-to-feature latency: a generated click track fed
// to the audio Analyzer as a capture device hands it over (audio.period_ms
// at a time, 48 kHz), against the floor that buffering sets: no analysis
// with this block and period can know a click before its block is complete
// and its period delivered.
type SoundReport struct {
	Rate        int     `json:"rate"`          // samples per second
	Block       int     `json:"block"`         // the analysis hop in samples
	PeriodMs    float64 `json:"period_ms"`     // the device's period
	Clicks      int     `json:"clicks"`        // clicks in the track
	Onsets      int     `json:"onsets"`        // onsets found, one per click when all is well
	DetectMs    float64 `json:"detect_ms"`     // click → its period delivered with the block that flags it, in sound time, mean
	DetectMaxMs float64 `json:"detect_max_ms"` // the same, worst
	BlockMs     float64 `json:"block_ms"`      // Analyzer.Write of a period that completes a block, median wall time
	FloorMs     float64 `json:"floor_ms"`      // block + period: the buffering's worst case
	LatencyMs   float64 `json:"latency_ms"`    // detect_ms + block_ms
	LatencyMax  float64 `json:"latency_max_ms"`
	Ratio       float64 `json:"ratio"` // latency_max_ms / floor_ms
}

// measureSound feeds secs of clicks at 123 BPM through the analyzer.
func measureSound(s audio.Section, secs float64) (SoundReport, error) {
	const rate, bpm = 48000, 123
	an, err := audio.NewAnalyzer(s.Config, rate)
	if err != nil {
		return SoundReport{}, fmt.Errorf("audio.%w", err)
	}
	samples, clicks := audio.ClickTrack(rate, bpm, 0.2, secs, 9)
	period := rate * s.Device.PeriodMs / 1000
	r := SoundReport{Rate: rate, Block: an.Block(), PeriodMs: float64(s.Device.PeriodMs), Clicks: len(clicks)}
	var times []time.Duration
	var onsets uint64
	var sum float64
	next := 0
	for pos := 0; pos+period <= len(samples); pos += period {
		t := time.Now()
		if an.Write(samples[pos:pos+period]) > 0 {
			times = append(times, time.Since(t)) // a period that completed a block: the analysis ran
		}
		f := an.Features()
		if f.Onsets == onsets {
			continue
		}
		onsets = f.Onsets
		r.Onsets++
		now := float64(pos+period) / rate // the period is delivered once it is all recorded
		for next+1 < len(clicks) && clicks[next+1] <= now {
			next++ // the newest click before now
		}
		if next < len(clicks) && clicks[next] <= now {
			d := (now - clicks[next]) * 1000
			sum += d
			r.DetectMaxMs = math.Max(r.DetectMaxMs, d)
			next++
		}
	}
	if r.Onsets == 0 {
		return r, fmt.Errorf("sound: no onset found in %d clicks; check audio.sensitivity and audio.floor", len(clicks))
	}
	r.DetectMs = sum / float64(r.Onsets)
	r.BlockMs = median(times)
	r.FloorMs = (float64(r.Block)/rate + float64(period)/rate) * 1000
	r.LatencyMs = r.DetectMs + r.BlockMs
	r.LatencyMax = r.DetectMaxMs + r.BlockMs
	r.Ratio = ratio(r.LatencyMax, r.FloorMs)
	return r, nil
}

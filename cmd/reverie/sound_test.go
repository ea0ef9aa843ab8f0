package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"reverie/audio"
	"reverie/vision"
)

// `render -audio` hears a click track in lockstep with the frames: the
// trace marks the frame of each click (±1 frame at the clip's 10 fps), the
// tempo is within ±2 BPM, and the beats reach the piece (a drive kicks the
// zoom, the director maps the onsets).
func TestRenderHearsTheClickTrack(t *testing.T) {
	const rate, bpm, fps, frames = 48000, 120.0, 10.0, 90
	dir := t.TempDir()
	samples, clicks := audio.ClickTrack(rate, bpm, 0.25, frames/fps, 4)
	wav := filepath.Join(dir, "clicks.wav")
	if err := os.WriteFile(wav, audio.EncodeWAV(rate, 1, false, samples), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "sound.yaml")
	// Small and without the dream or the person network: this test is about
	// the sound.
	y := `vision:
  warmup: 0
  person: off
generator:
  width: 48
  height: 27
scene:
  render_width: 112
  render_height: 64
  presets: []
  passes:
    - {pass: warp, zoom: 1.005}
    - {pass: inject, mix: 0.1}
    - {pass: output}
  director:
    mapping:
      - {feature: audio.onset, direction: 0, gain: 2}
  drives:
    - {feature: audio.beat, param: warp.zoom, amount: 0.05, release: 0.1}
`
	if err := os.WriteFile(cfg, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	if log, err := reverie(t, ".", nil, "render", "-config", cfg, "-input", vision.SampleClip, "-audio", wav, "-frames", fmt.Sprint(frames), "-out", out); err != nil {
		t.Fatalf("render -audio: %v\n%s", err, log)
	}
	trace := readTrace(t, filepath.Join(out, "trace.jsonl"))
	if len(trace) != frames {
		t.Fatalf("%d trace lines; want %d", len(trace), frames)
	}
	var onsets []int
	for i, l := range trace {
		if l.Audio == nil {
			t.Fatalf("frame %d has no audio object", i)
		}
		if l.Audio.Onset {
			onsets = append(onsets, l.Frame)
		}
	}
	if len(onsets) != len(clicks) {
		t.Fatalf("onsets on frames %v for %d clicks", onsets, len(clicks))
	}
	for k, c := range clicks {
		// Frame i is shown from i/fps to (i+1)/fps, and hears that span.
		if want := int(math.Floor(c * fps)); abs(onsets[k]-want) > 1 {
			t.Errorf("click %d at %.3f s (frame %d) marked on frame %d", k, c, want, onsets[k])
		}
	}
	last := trace[len(trace)-1].Audio
	if math.Abs(float64(last.BPM)-bpm) > 2 {
		t.Errorf("tempo %.2f BPM at the end; want %v ± 2", last.BPM, bpm)
	}
	t.Logf("%d clicks, onsets on frames %v; tempo %.2f BPM", len(clicks), onsets, last.BPM)
}

func abs(x int) int { return max(x, -x) }

package main

import (
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gocv.io/x/gocv"

	"reverie/vision"
)

// stillClip writes frame n of the sample clip, repeated, as an MJPG .avi:
// the same scene with nobody moving.
func stillClip(t *testing.T, n, frames int) string {
	t.Helper()
	cfg := vision.DefaultConfig()
	src, err := vision.OpenSource(cfg, vision.SampleClip)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	m := gocv.NewMat()
	defer m.Close()
	for i := 0; i <= n; i++ {
		if err := src.Read(&m); err != nil {
			t.Fatalf("%s frame %d: %v", vision.SampleClip, i, err)
		}
	}
	path := filepath.Join(t.TempDir(), "still.avi")
	w, err := gocv.VideoWriterFile(path, "MJPG", 10, m.Cols(), m.Rows(), true)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for i := 0; i < frames; i++ {
		if err := w.Write(m); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// renderClip runs `reverie render` (OpenCV, ONNX Runtime, the pass chain)
// over a clip and returns the last frame and the mean motion.
func renderClip(t *testing.T, clip string, frames int) (*image.RGBA, float64) {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "small.yaml")
	y := "vision:\n  warmup: 0\ngenerator:\n  width: 96\n  height: 54\nscene:\n  render_width: 192\n  render_height: 108\n"
	if err := os.WriteFile(cfg, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	if log, err := reverie(t, ".", nil, "render", "-config", cfg, "-input", clip, "-frames", fmt.Sprint(frames), "-out", out); err != nil {
		t.Fatalf("render %s: %v\n%s", clip, err, log)
	}
	var motion float64
	for _, l := range readTrace(t, filepath.Join(out, "trace.jsonl")) {
		motion += float64(l.Motion) / float64(frames)
	}
	return readPNG(t, filepath.Join(out, fmt.Sprintf("frame_%05d.png", frames-1))), motion
}

// The picture answers the people: rendering people walking and rendering a
// still frame of the same scene end in measurably different pictures, with
// the same seeds and config.
func TestRenderRespondsToThePeople(t *testing.T) {
	const frames = 40
	moving, motion := renderClip(t, vision.SampleClip, frames)
	still, stillMotion := renderClip(t, stillClip(t, 100, frames), frames)
	if motion < 0.02 || stillMotion > motion/10 {
		t.Fatalf("mean motion: walking %.3f, still %.3f; the analysis does not tell them apart", motion, stillMotion)
	}
	var d float64
	for i := range moving.Pix {
		d += math.Abs(float64(moving.Pix[i]) - float64(still.Pix[i]))
	}
	d /= float64(len(moving.Pix))
	t.Logf("mean motion walking %.3f, still %.3f; last frames differ by %.1f grey levels", motion, stillMotion, d)
	if d < 8 {
		t.Errorf("frame %d of the walking and the still render differ by %.2f grey levels on average: the picture does not respond", frames-1, d)
	}
}

// An image model repaints the camera: with builtin:restyle on the camera
// (its repainting turned down to the picture itself, and the scene showing
// the generator frame as it is), each rendered frame follows its input
// frame. A still clip of vtest's frame k renders as vtest's own frame k
// does, and vtest's frame k differs from its frame 0, where the people
// stood elsewhere.
func TestRenderImageModelFollowsTheCamera(t *testing.T) {
	const k = 20
	render := func(clip string) (first, last *image.RGBA) {
		dir := t.TempDir()
		cfg := filepath.Join(dir, "restyle.yaml")
		y := `vision:
  warmup: 0
generator:
  model: builtin:restyle
  width: 96
  height: 54
scene:
  render_width: 192
  render_height: 108
  passes:
    - {pass: inject, mix: 1, motion_mix: 0, presence_mix: 0, local: 0}
    - {pass: output, vignette: 0}
  presets:
    - {name: plain, generator.strength: 0}
  preset: plain
`
		if err := os.WriteFile(cfg, []byte(y), 0o644); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, "out")
		if log, err := reverie(t, ".", nil, "render", "-config", cfg, "-input", clip, "-frames", fmt.Sprint(k+1), "-out", out); err != nil {
			t.Fatalf("render %s: %v\n%s", clip, err, log)
		}
		return readPNG(t, filepath.Join(out, "frame_00000.png")), readPNG(t, filepath.Join(out, fmt.Sprintf("frame_%05d.png", k)))
	}
	diff := func(a, b *image.RGBA) float64 {
		var d float64
		for i := range a.Pix {
			d += math.Abs(float64(a.Pix[i]) - float64(b.Pix[i]))
		}
		return d / float64(len(a.Pix))
	}
	walk0, walkK := render(vision.SampleClip)
	_, stillK := render(stillClip(t, k, k+1))
	same, moved := diff(walkK, stillK), diff(walk0, walkK)
	t.Logf("frame %d of vtest and of its still: %.2f grey levels apart; vtest's frames 0 and %d: %.2f", k, same, k, moved)
	if moved < 1 || same > moved/3 {
		t.Errorf("the render does not follow the camera: frame %d of vtest and of a still of that frame differ by %.2f grey levels, vtest's frames 0 and %d by %.2f", k, same, k, moved)
	}
}

// `render -video` writes one video file at the render size through the
// same pipeline, with the trace beside it; read back, it has a frame per
// output frame, and they differ.
func TestRenderVideoFile(t *testing.T) {
	const frames = 20
	dir := t.TempDir()
	cfg := filepath.Join(dir, "small.yaml")
	y := "generator:\n  width: 96\n  height: 54\nscene:\n  render_width: 192\n  render_height: 108\n"
	if err := os.WriteFile(cfg, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	video := filepath.Join(dir, "take.mp4")
	if log, err := reverie(t, ".", nil, "render", "-config", cfg, "-input", vision.SampleClip, "-frames", fmt.Sprint(frames), "-video", video); err != nil {
		t.Fatalf("render -video: %v\n%s", err, log)
	}
	if n := len(readTrace(t, filepath.Join(dir, "take.trace.jsonl"))); n != frames {
		t.Errorf("take.trace.jsonl has %d lines, expected %d", n, frames)
	}
	vc, err := gocv.VideoCaptureFile(video)
	if err != nil {
		t.Fatal(err)
	}
	defer vc.Close()
	m, first, diff := gocv.NewMat(), gocv.NewMat(), gocv.NewMat()
	defer m.Close()
	defer first.Close()
	defer diff.Close()
	n, changed := 0, false
	for vc.Read(&m) && !m.Empty() {
		if m.Cols() != 192 || m.Rows() != 108 {
			t.Fatalf("frame %d is %dx%d, expected the render size 192x108", n, m.Cols(), m.Rows())
		}
		if n == 0 {
			m.CopyTo(&first)
		} else {
			gocv.AbsDiff(m, first, &diff)
			if s := diff.Sum(); s.Val1+s.Val2+s.Val3 > 192*108 {
				changed = true
			}
		}
		n++
	}
	if n != frames || !changed {
		t.Errorf("%s: %d frames, changing %v; expected %d that change", video, n, changed, frames)
	}
	if log, err := reverie(t, ".", nil, "render", "-input", vision.SampleClip, "-frames", "1", "-video", filepath.Join(dir, "x.gif")); err == nil || !strings.Contains(log, "expected a file ending in .mp4, .mkv or .avi") {
		t.Errorf("-video x.gif: %v\n%s", err, log)
	}
}

package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"reverie/scene"
	"reverie/vision"
)

// The default config's neural dream on real footage, rendered in lockstep:
// structures grow out of the feedback (detail well above the soft 1–2 of
// the shader chain), the look holds, and the picture keeps moving.
func TestRenderDefaultDreams(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "dream.yaml")
	os.WriteFile(cfg, []byte("scene:\n  render_width: 640\n  render_height: 360\n"), 0o644)
	out := filepath.Join(dir, "out")
	const frames = 60
	if log, err := reverie(t, ".", nil, "render", "-config", cfg, "-input", vision.SampleClip, "-frames", fmt.Sprint(frames), "-out", out); err != nil {
		t.Fatalf("render failed: %v\n%s", err, log)
	}
	var prev []byte
	var detail float64
	for i := frames - 10; i < frames; i++ {
		img := readPNG(t, filepath.Join(out, fmt.Sprintf("frame_%05d.png", i)))
		l := scene.MeasureLook(img.Pix, 640, 360, nil)
		detail += l.Detail / 10
		if l.Luma < 20 || l.Luma > 235 || l.Contrast < 20 || l.Colourfulness < 15 {
			t.Errorf("frame %d lost its look: luma %.0f (want 20..235), contrast %.0f (≥ 20), colourfulness %.0f (≥ 15)", i, l.Luma, l.Contrast, l.Colourfulness)
		}
		if prev != nil && bytes.Equal(prev, img.Pix) {
			t.Errorf("frame %d is frame %d again: the picture froze", i, i-1)
		}
		prev = img.Pix
	}
	t.Logf("mean detail of the last 10 of %d frames: %.2f", frames, detail)
	if detail < 6 {
		t.Errorf("mean detail %.2f over the last frames; the deepdream pass should grow structure well above the shader chain's 1.5 (8 or more after warm-up)", detail)
	}
}

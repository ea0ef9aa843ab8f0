package scene

import (
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"

	"reverie/gen"
	"reverie/internal/matcount"
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

// renderClip runs the offline pipeline (OpenCV, ONNX Runtime, the pass
// chain) over a clip and returns the last frame and the mean motion.
func renderClip(t *testing.T, clip string, frames int) (*image.RGBA, float64) {
	t.Helper()
	vc := vision.DefaultConfig()
	vc.Source, vc.AtEnd = clip, "loop"
	vc.Warmup = 0
	src, err := vision.OpenSource(vc, clip)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	an := vision.NewAnalyzer(vc)
	defer an.Close()
	if _, err := gen.Init(""); err != nil {
		t.Fatal(err)
	}
	gc := gen.DefaultConfig()
	gc.Width, gc.Height = 96, 54
	model, _, err := gc.Open()
	if err != nil {
		t.Fatal(err)
	}
	runner := gen.NewRunner(model)
	defer runner.Close()
	cfg := DefaultConfig()
	cfg.RenderW, cfg.RenderH = 192, 108
	out := t.TempDir()
	off := &Offline{Source: src, Analyzer: an, Runner: runner, Frames: frames, OutDir: out}
	if err := off.Start(cfg.RenderW, cfg.RenderH); err != nil {
		t.Fatal(err)
	}
	var motion float64
	onLoop(func() {
		g, err := NewGame(cfg, model.Width(), model.Height(), NewDirector(cfg.Director, model.Manifest.Latent.Dim), off)
		if err != nil {
			t.Error(err)
			return
		}
		defer g.Dispose()
		g.UseVirtualClock(off.FrameStep())
		for i := 0; i < frames+1; i++ {
			if err := g.Update(); err != nil {
				if !IsTermination(err) {
					t.Error(err)
				}
				break
			}
			motion += float64(off.line.Motion) / float64(frames)
		}
	})
	if err := off.Close(); err != nil || off.Err != nil {
		t.Fatal(err, off.Err)
	}
	f, err := os.Open(filepath.Join(out, fmt.Sprintf("frame_%05d.png", frames-1)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img.(*image.RGBA), motion
}

// The picture answers the people: rendering people walking and rendering a
// still frame of the same scene end in measurably different pictures, with
// the same seeds and config.
func TestRenderRespondsToThePeople(t *testing.T) {
	base, counted := matcount.Count()
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
	if n, _ := matcount.Count(); counted && n != base {
		t.Errorf("%d Mats left open", n-base)
	}
}

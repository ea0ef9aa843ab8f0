package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"reverie/vision"
)

// `reverie analyze` on the sample clip prints one complete JSON object per
// frame that says people are moving, and a summary a person can read.
func TestAnalyzeVtest(t *testing.T) {
	cmd := exec.Command(binary, "analyze", "-input", vision.SampleClip, "-frames", "60")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("analyze failed: %v\n%s", err, stderr.String())
	}
	keys := []string{"frame", "t", "motion", "presence", "level", "centroid", "flow", "grid", "people", "faces", "light_change"}
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(nil, 1<<20)
	n, moving, present := 0, 0, 0
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %d is not JSON: %v: %s", n+1, err, sc.Text())
		}
		for _, k := range keys {
			if _, ok := m[k]; !ok {
				t.Fatalf("line %d lacks %q: %s", n+1, k, sc.Text())
			}
		}
		if int(m["frame"].(float64)) != n {
			t.Errorf("line %d: frame %v", n+1, m["frame"])
		}
		if got, want := m["t"].(float64), float64(n)/10; got < want-0.001 || got > want+0.001 {
			t.Errorf("line %d: t %v, want %v at vtest's 10 fps", n+1, got, want)
		}
		if g := m["grid"].([]any); len(g) != 8*6 {
			t.Errorf("line %d: grid has %d cells, want 8x6", n+1, len(g))
		}
		if m["motion"].(float64) > 0.01 {
			moving++
		}
		if m["presence"].(bool) {
			present++
		}
		n++
	}
	if n != 60 {
		t.Fatalf("%d lines, want 60", n)
	}
	if moving < 50 || present < 30 {
		t.Errorf("people walking: motion in %d, presence in %d of 60 frames", moving, present)
	}
	for _, w := range []string{"60 frames", "motion:", "presence:", "after the 2s warm-up", "busiest grid cell"} {
		if !strings.Contains(stderr.String(), w) {
			t.Errorf("summary lacks %q:\n%s", w, stderr.String())
		}
	}
}

func TestAnalyzeBadInput(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"analyze"}, "-input SRC is required"},
		{[]string{"analyze", "-input", "/nonexistent/clip.avi"}, "/nonexistent/clip.avi: no such file"},
		{[]string{"analyze", "-input", "9"}, "/dev/video9 does not exist"},
		{[]string{"analyze", "-input", vision.SampleClip, "-frames", "-2"}, "-frames -2"},
		{[]string{"analyze", "-input", vision.SampleClip, "-snapshot", "/nonexistent/dir/p.png"}, "the folder /nonexistent/dir does not exist"},
	} {
		out, err := exec.Command(binary, c.args...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), c.want) {
			t.Errorf("%v: err %v, output %q; want an error mentioning %q", c.args, err, out, c.want)
		}
	}
}

// -snapshot writes the preview a technician tunes by, without a display:
// both panels, the regions in green, the ignore area in red, the evidence
// in the mask panel and the text strip under them.
func TestAnalyzeSnapshot(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tune.yaml")
	os.WriteFile(cfg, []byte("vision:\n  regions:\n    - [[0.05, 0.1], [0.95, 0.1], [0.95, 0.95], [0.05, 0.95]]\n"+
		"  ignore:\n    - [[0.7, 0.1], [0.95, 0.1], [0.95, 0.4], [0.7, 0.4]]\n"), 0o644)
	shot := filepath.Join(dir, "preview.png")
	if out, err := exec.Command(binary, "analyze", "-input", vision.SampleClip, "-frames", "40", "-config", cfg, "-snapshot", shot).CombinedOutput(); err != nil {
		t.Fatalf("analyze -snapshot failed: %v\n%s", err, out)
	}
	fh, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	img, err := png.Decode(fh)
	if err != nil {
		t.Fatalf("%s: %v", shot, err)
	}
	// vtest is 768x576: two 640x480 panels over a 112-pixel strip.
	if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 480+112 {
		t.Fatalf("preview is %v, want 1280x592", b.Size())
	}
	px := func(x, y int) (r, g, b int) {
		cr, cg, cb, _ := img.At(x, y).RGBA()
		return int(cr >> 8), int(cg >> 8), int(cb >> 8)
	}
	// Down the left edge of the region (x 0.05), and the ignore area's
	// left edge (x 0.7, y 0.1..0.4), in both panels.
	for _, off := range []int{0, 640} {
		if r, g, b := px(off+32, 300); g < 150 || r > 120 || b > 120 {
			t.Errorf("panel at x %d: region outline is (%d,%d,%d), want green", off, r, g, b)
		}
		if r, g, b := px(off+448, 150); r < 180 || g > 100 || b > 100 {
			t.Errorf("panel at x %d: ignore outline is (%d,%d,%d), want red", off, r, g, b)
		}
	}
	white, cyan, text := 0, 0, 0
	for y := 40; y < 480; y++ {
		for x := 640; x < 1280; x++ {
			switch r, g, b := px(x, y); {
			case r > 240 && g > 240 && b > 240:
				white++
			case r < 60 && g > 150 && b > 200:
				cyan++
			}
		}
	}
	for y := 480; y < 592; y++ {
		for x := 0; x < 1280; x++ {
			if r, _, _ := px(x, y); r > 150 {
				text++
			}
		}
	}
	t.Logf("mask panel: %d white, %d cyan pixels; strip: %d bright pixels", white, cyan, text)
	if white < 200 || cyan < 200 {
		t.Errorf("the mask panel shows %d silhouette and %d changed pixels of people walking", white, cyan)
	}
	if text < 2000 {
		t.Errorf("the text strip has %d bright pixels: no legible numbers", text)
	}
}

// `reverie analyze` on a truncated copy of the sample clip says the file is
// damaged, naming it and the frame, and exits non-zero, after the lines
// and the summary of the frames before the damage. Before, it took the
// file for a short clip and exited 0.
func TestAnalyzeTruncatedFile(t *testing.T) {
	data, err := os.ReadFile(vision.SampleClip)
	if err != nil {
		t.Skipf("sample clip: %v", err)
	}
	cut := filepath.Join(t.TempDir(), "cut.avi")
	if err := os.WriteFile(cut, data[:600_000], 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "analyze", "-input", cut)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	if err == nil {
		t.Fatalf("analyze of a truncated file exited 0\n%s", stderr.String())
	}
	msg := stderr.String()
	if !strings.Contains(msg, cut) || !strings.Contains(msg, "damaged") || !strings.Contains(msg, "frame 50 of the 795") {
		t.Errorf("stderr does not say the file is damaged, naming it and the frame:\n%s", msg)
	}
	if lines := bytes.Count(stdout.Bytes(), []byte("\n")); lines < 49 {
		t.Errorf("%d lines on stdout, want one per frame before the damage", lines)
	}
}

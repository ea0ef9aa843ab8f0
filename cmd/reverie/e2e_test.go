package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"reverie/core"
	"reverie/vision"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "reverie-e2e")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "reverie")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building reverie: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func reverie(t *testing.T, dir string, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// The whole loop on real footage: vtest.avi through OpenCV, the written CPPN
// through ONNX Runtime, and the feedback chain through Ebiten.
func TestRenderVtestEndToEnd(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "small.yaml")
	os.WriteFile(cfg, []byte("scene:\n  render_width: 320\n  render_height: 180\n"), 0o644)
	out := filepath.Join(dir, "out")
	log, err := reverie(t, ".", nil, "render", "-config", cfg, "-input", vision.SampleClip, "-frames", "60", "-out", out)
	if err != nil {
		t.Fatalf("render failed: %v\n%s", err, log)
	}
	if !strings.Contains(log, "generator ready") || !strings.Contains(log, "builtin:cppn") {
		t.Errorf("log does not show the built-in model loading:\n%s", log)
	}
	lines := readTrace(t, filepath.Join(out, "trace.jsonl"))
	if len(lines) != 60 {
		t.Fatalf("trace has %d lines, want 60", len(lines))
	}
	var prev *image.RGBA
	var latentPath float64
	moving := 0
	for i, l := range lines {
		if l.Frame != i || l.InputFrame != i {
			t.Errorf("line %d: frame %d input_frame %d", i, l.Frame, l.InputFrame)
		}
		if l.GenMs <= 0 {
			t.Errorf("frame %d: gen_ms %v: the model did not run", i, l.GenMs)
		}
		if l.Motion > 0.01 {
			moving++
		}
		if i > 0 {
			latentPath += dist(l.Latent, lines[i-1].Latent)
		}
		img := readPNG(t, filepath.Join(out, fmt.Sprintf("frame_%05d.png", i)))
		if _, std := luma(img); std < 8 {
			t.Errorf("frame %d is blank: luma std %.1f", i, std)
		}
		if prev != nil {
			if d := diff(prev, img); d < 0.2 {
				t.Errorf("frame %d equals frame %d (mean abs diff %.3f)", i, i-1, d)
			}
		}
		prev = img
	}
	if moving < 40 {
		t.Errorf("only %d of 60 frames of people walking read as motion", moving)
	}
	if latentPath < 0.5 {
		t.Errorf("the latent moved only %.3f over 60 frames of people walking", latentPath)
	}
}

func TestRenderIsDeterministic(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "small.yaml")
	os.WriteFile(cfg, []byte("scene:\n  render_width: 128\n  render_height: 72\n"), 0o644)
	var traces [2][]core.TraceLine
	for i := range traces {
		out := filepath.Join(dir, fmt.Sprint("out", i))
		if log, err := reverie(t, ".", nil, "render", "-config", cfg, "-input", vision.SampleClip, "-frames", "12", "-out", out); err != nil {
			t.Fatalf("render: %v\n%s", err, log)
		}
		traces[i] = readTrace(t, filepath.Join(out, "trace.jsonl"))
	}
	for i := range traces[0] {
		if d := dist(traces[0][i].Latent, traces[1][i].Latent); d != 0 {
			t.Fatalf("frame %d: latents differ by %g between identical renders", i, d)
		}
	}
}

// Bad input is one line of error and a non-zero exit, never a panic.
func TestErrorsAreOneLine(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("vision:\n  sensitivity: lots\n"), 0o644)
	lonely := filepath.Join(dir, "reverie")
	if data, err := os.ReadFile(binary); err != nil || os.WriteFile(lonely, data, 0o755) != nil {
		t.Fatal("copying the binary")
	}
	ro := filepath.Join(dir, "ro")
	os.Mkdir(ro, 0o555)
	cases := []struct {
		name string
		bin  string
		env  []string
		args []string
		want string
	}{
		{"broken config", binary, nil, []string{"version", "-config", bad}, "vision.sensitivity"},
		{"missing config", binary, nil, []string{"version", "-config", filepath.Join(dir, "none.yaml")}, "none.yaml"},
		{"wrong flag", binary, nil, []string{"render", "-fames", "3"}, "-fames"},
		{"unknown command", binary, nil, []string{"dance"}, `"dance"`},
		{"missing input", binary, nil, []string{"render", "-input", filepath.Join(dir, "nope.avi"), "-frames", "3", "-out", dir}, "nope.avi"},
		{"unwritable output", binary, nil, []string{"render", "-input", vision.SampleClip, "-frames", "3", "-out", filepath.Join(ro, "sub")}, "ro/sub"},
		{"ORT env missing", binary, []string{"REVERIE_ORT_LIB=/nonexistent/libonnxruntime.so.1"}, []string{"version"}, "REVERIE_ORT_LIB"},
		{"ORT not installed", lonely, []string{"REVERIE_ORT_LIB=", "LD_LIBRARY_PATH="}, []string{"version"}, "make setup"},
	}
	if os.Geteuid() == 0 {
		cases = append(cases[:5], cases[6:]...) // root writes anywhere
	}
	for _, c := range cases {
		cmd := exec.Command(c.bin, c.args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), c.env...)
		stderr := &strings.Builder{}
		cmd.Stderr = stderr
		err := cmd.Run()
		if err == nil {
			t.Errorf("%s: exit 0", c.name)
			continue
		}
		var errLines []string
		for _, l := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
			if strings.HasPrefix(l, "reverie: ") {
				errLines = append(errLines, l)
			}
			if strings.Contains(l, "panic") || strings.Contains(l, "goroutine ") {
				t.Errorf("%s: panicked:\n%s", c.name, stderr)
			}
		}
		if len(errLines) != 1 || !strings.Contains(errLines[0], c.want) {
			t.Errorf("%s: want one error line mentioning %q, got:\n%s", c.name, c.want, stderr)
		}
	}
}

func readTrace(t *testing.T, path string) []core.TraceLine {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []core.TraceLine
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l core.TraceLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, l)
	}
	return out
}

func readPNG(t *testing.T, path string) *image.RGBA {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	rgba, ok := img.(*image.RGBA)
	if !ok {
		b := img.Bounds()
		rgba = image.NewRGBA(b)
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				rgba.Set(x, y, img.At(x, y))
			}
		}
	}
	return rgba
}

func luma(img *image.RGBA) (mean, std float64) {
	var s, s2 float64
	n := len(img.Pix) / 4
	for i := 0; i < n; i++ {
		p := img.Pix[4*i:]
		l := 0.299*float64(p[0]) + 0.587*float64(p[1]) + 0.114*float64(p[2])
		s += l
		s2 += l * l
	}
	mean = s / float64(n)
	return mean, math.Sqrt(math.Max(0, s2/float64(n)-mean*mean))
}

func diff(a, b *image.RGBA) float64 {
	var s float64
	for i := range a.Pix {
		s += math.Abs(float64(a.Pix[i]) - float64(b.Pix[i]))
	}
	return s / float64(len(a.Pix))
}

func dist(a, b []float32) float64 {
	var s float64
	for i := range a {
		d := float64(a[i] - b[i])
		s += d * d
	}
	return math.Sqrt(s)
}

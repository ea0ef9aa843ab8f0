package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"testing"

	"gocv.io/x/gocv"

	"reverie/audio"
	"reverie/gen"
	"reverie/internal/matcount"
	"reverie/scene"
	"reverie/vision"
)

// Ebiten's loop needs the main thread, so TestMain runs one tiny bench on it
// (real models, real footage, real Ebiten under Xvfb) and the tests read its
// report.
var (
	tiny    *Report
	tinyErr error
	matLeak int
)

func tinyConfig() Config {
	// The latency probe's window renders at a quarter of the default size:
	// the display figures have their own fixed sizes (720p, 1080p), and the
	// probe's response still crosses every stage.
	sc := scene.DefaultConfig()
	sc.RenderW, sc.RenderH = 320, 180
	return Config{
		Generator: gen.DefaultConfig(), Vision: vision.DefaultConfig(), Scene: sc, Audio: audio.DefaultSection(),
		Quick: true, Iterations: 3, Events: 2,
	}
}

func TestMain(m *testing.M) {
	before, _ := matcount.Count()
	tiny, tinyErr = Run(tinyConfig())
	after, _ := matcount.Count()
	matLeak = after - before
	os.Exit(m.Run())
}

// leaves flattens a JSON object into dotted keys.
func leaves(prefix string, v any, out map[string]any) {
	if m, ok := v.(map[string]any); ok {
		for k, x := range m {
			leaves(strings.TrimPrefix(prefix+"."+k, "."), x, out)
		}
		return
	}
	out[prefix] = v
}

// wantKeys is the report's JSON schema: docs/PERFORMANCE.md and scripts
// read these keys, so a change here is a change to them.
var wantKeys = func() []string {
	keys := []string{
		"env.cpus", "env.goarch", "env.onnxruntime", "env.kernels", "env.provider", "env.threads", "env.model", "env.render", "env.quick", "env.iterations",
		"efficiency.matmul_ms", "efficiency.peak_gflops", "efficiency.cppn_256_gflops", "efficiency.cppn_512_gflops",
		"efficiency.cppn_256_of_peak", "efficiency.cppn_512_of_peak", "efficiency.cppn_512_mflop_per_frame",
		"efficiency.cppn_plain_512_gflops", "efficiency.cppn_plain_512_of_peak",
		"efficiency.cppn_onnx_512_gflops", "efficiency.cppn_onnx_512_of_peak", "efficiency.cppn_kernels_speedup",
		"generator.cppn_plain_512.runner_ms", "generator.cppn_plain_512.bare_ms", "generator.cppn_plain_512.overhead",
		"vision.analyzer_ms", "vision.bare_ms", "vision.ratio",
		"dream.network", "dream.size", "dream.layer", "dream.step_ms", "dream.forward_ms", "dream.ratio", "dream.steps_per_s",
		"display.passes",
		"latency.events", "latency.ms", "latency.max_ms", "latency.display_frame_ms", "latency.display_frames",
		"latency.generator_frame_ms", "latency.bound_ms",
		"latency.render_scale", "latency.generator_share", "latency.generator_interval_ms",
		"latency.event_motion", "seconds",
		"sound.rate", "sound.block", "sound.period_ms", "sound.clicks", "sound.onsets", "sound.detect_ms", "sound.detect_max_ms",
		"sound.block_ms", "sound.floor_ms", "sound.latency_ms", "sound.latency_max_ms", "sound.ratio",
	}
	for _, m := range []string{"cppn", "convdecoder", "restyle"} {
		for _, s := range []string{"256", "512"} {
			for _, f := range []string{"runner_ms", "bare_ms", "overhead"} {
				keys = append(keys, fmt.Sprintf("generator.%s.%s.%s", m, s, f))
			}
			if m == "restyle" { // the image model: its picture's hand-over
				keys = append(keys, fmt.Sprintf("generator.%s.%s.handover_ms", m, s))
			}
		}
	}
	for _, n := range []string{"posenet_385x385", "posenet_769x577", "posenet_256x144", "selfie_256x256"} {
		for _, f := range []string{"network", "input", "net_ms", "bare_ms", "ratio"} {
			keys = append(keys, "networks."+n+"."+f)
		}
	}
	for _, s := range []string{"1280x720", "1920x1080"} {
		for _, f := range []string{"chain_ms", "blit_ms", "ratio", "draws"} {
			keys = append(keys, "display."+s+"."+f)
		}
	}
	for _, g := range []string{"stages_ms", "share"} {
		for _, s := range []string{"capture", "analysis", "director", "generator", "upload", "passes"} {
			keys = append(keys, "latency."+g+"."+s)
		}
	}
	sort.Strings(keys)
	return keys
}()

func TestReportHasEveryFigure(t *testing.T) {
	if tinyErr != nil {
		t.Fatal(tinyErr)
	}
	b, err := json.Marshal(tiny)
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if err := json.Unmarshal(b, &obj); err != nil {
		t.Fatal(err)
	}
	got := map[string]any{}
	leaves("", obj, got)
	var keys []string
	for k := range got {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if strings.Join(keys, " ") != strings.Join(wantKeys, " ") {
		t.Fatalf("JSON keys changed:\n got %v\nwant %v", keys, wantKeys)
	}
	for k, v := range got {
		switch x := v.(type) {
		case float64:
			if k == "env.threads" { // 0 is ONNX Runtime's choice
				continue
			}
			if !(x > 0) || math.IsInf(x, 0) {
				t.Errorf("%s = %v, expected a positive finite figure", k, x)
			}
		case string:
			if x == "" {
				t.Errorf("%s is empty", k)
			}
		case bool:
			if k == "env.quick" && !x {
				t.Errorf("env.quick is false for a quick run")
			}
		default:
			t.Errorf("%s has type %T", k, v)
		}
	}
}

func TestFiguresAreConsistent(t *testing.T) {
	if tinyErr != nil {
		t.Fatal(tinyErr)
	}
	r := tiny
	near := func(name string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-6*math.Max(1, math.Abs(want)) {
			t.Errorf("%s = %g, expected %g", name, got, want)
		}
	}
	for name, f := range map[string]GenFigure{
		"cppn 256": r.Generator.CPPN.S256, "cppn 512": r.Generator.CPPN.S512,
		"convdecoder 256": r.Generator.ConvDecoder.S256, "convdecoder 512": r.Generator.ConvDecoder.S512,
		"restyle 256": r.Generator.Restyle.S256, "restyle 512": r.Generator.Restyle.S512,
	} {
		near(name+" overhead", f.Overhead, f.RunnerMs/f.BareMs)
		// Only the image model is handed a picture before each frame.
		if image := strings.HasPrefix(name, "restyle"); (f.HandoverMs > 0) != image {
			t.Errorf("%s: hand-over %.3f ms a frame; the image model alone is handed pictures", name, f.HandoverMs)
		}
	}
	// A 512² frame has four times the pixels of a 256² one: it cannot be
	// cheaper to make.
	if r.Generator.CPPN.S512.BareMs < r.Generator.CPPN.S256.BareMs {
		t.Errorf("cppn 512² takes %.2f ms, less than 256²'s %.2f ms", r.Generator.CPPN.S512.BareMs, r.Generator.CPPN.S256.BareMs)
	}
	near("peak", r.Efficiency.PeakGFLOPS, 2*math.Pow(1024, 3)/(r.Efficiency.MatMulMs*1e6))
	near("cppn 512 of peak", r.Efficiency.CPPN512OfPeak, r.Efficiency.CPPN512GFLOPS/r.Efficiency.PeakGFLOPS)
	near("cppn on onnx 512 of peak", r.Efficiency.CPPNONNX512OfPeak, r.Efficiency.CPPNONNX512GFLOPS/r.Efficiency.PeakGFLOPS)
	// make test's set-up builds the kernels: the bench must have run on them.
	if !strings.HasSuffix(r.Env.Kernels, gen.KernelsFile) {
		t.Errorf("env.kernels = %q, expected the path of %s", r.Env.Kernels, gen.KernelsFile)
	}
	near("vision ratio", r.Vision.Ratio, r.Vision.AnalyzerMs/r.Vision.BareMs)
	for k, f := range r.Networks {
		near(k+" ratio", f.Ratio, f.NetMs/f.BareMs)
	}
	near("dream ratio", r.Dream.Ratio, r.Dream.StepMs/r.Dream.ForwardMs)
	near("dream steps/s", r.Dream.StepsPerS, 1000/r.Dream.StepMs)
	// A step runs the forward pass and then its gradient: it cannot be
	// cheaper than the forward pass alone.
	if r.Dream.Ratio < 1 {
		t.Errorf("a dream step (%.2f ms) is cheaper than the forward pass to its layer (%.2f ms)", r.Dream.StepMs, r.Dream.ForwardMs)
	}
	// PoseNet at the clip's 769×577 has three times the pixels of 385×385.
	if big, small := r.Networks["posenet_769x577"].BareMs, r.Networks["posenet_385x385"].BareMs; big < small {
		t.Errorf("posenet at 769×577 takes %.2f ms, less than at 385×385 (%.2f ms)", big, small)
	}
	near("display ratio", r.Display.HD.Ratio, r.Display.HD.ChainMs/r.Display.HD.BlitMs)
	if r.Display.Passes != len(scene.DefaultConfig().Passes) {
		t.Errorf("display.passes = %d, expected the default chain's %d", r.Display.Passes, len(scene.DefaultConfig().Passes))
	}

	sd := r.Sound
	if sd.Onsets != sd.Clicks {
		t.Errorf("sound: %d onsets for %d clicks", sd.Onsets, sd.Clicks)
	}
	near("sound latency", sd.LatencyMax, sd.DetectMaxMs+sd.BlockMs)
	near("sound ratio", sd.Ratio, sd.LatencyMax/sd.FloorMs)
	// The bound: a sound's feature within 30 ms.
	if sd.LatencyMax > 30 {
		t.Errorf("sound to feature takes up to %.1f ms; want at most 30", sd.LatencyMax)
	}

	l := r.Latency
	if l.Events != 2 {
		t.Errorf("latency.events = %d, expected the 2 asked for", l.Events)
	}
	s := l.StagesMs
	near("latency stages sum", s.Capture+s.Analysis+s.Director+s.Generator+s.Upload+s.Passes, l.Ms)
	sh := l.Share
	near("latency shares sum", sh.Capture+sh.Analysis+sh.Director+sh.Generator+sh.Upload+sh.Passes, 1)
	near("latency in display frames", l.DisplayFrames, l.Ms/l.DisplayFrameMs)
	near("latency bound", l.BoundMs, 2*l.DisplayFrameMs+l.GeneratorFrameMs)
	if l.GeneratorFrameMs <= 0 {
		t.Errorf("generator frame %g ms: the probe's runner made no frames?", l.GeneratorFrameMs)
	}
	if l.MaxMs < l.Ms {
		t.Errorf("latency.max_ms %.1f is below the mean %.1f", l.MaxMs, l.Ms)
	}
	// A response needs at least one generator frame after the event.
	if s.Generator < r.Generator.CPPN.S256.BareMs/4 {
		t.Errorf("latency generator stage %.2f ms is shorter than a quarter of a 256² frame (%.2f ms)", s.Generator, r.Generator.CPPN.S256.BareMs)
	}
}

func TestTextNamesEveryStage(t *testing.T) {
	if tinyErr != nil {
		t.Fatal(tinyErr)
	}
	var buf bytes.Buffer
	if err := tiny.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"cppn", "convdecoder", "restyle", "GFLOP/s", "trained network", "posenet", "1×577×769×3", "selfie", "dream posenet conv2d_7_pointwise", "vision 640×480", "sound to feature", "1920×1080", "capture", "analysis", "director", "generator", "upload", "passes"} {
		if !strings.Contains(buf.String(), s) {
			t.Errorf("text report lacks %q:\n%s", s, buf.String())
		}
	}
}

func TestMatsClosed(t *testing.T) {
	if matLeak != 0 {
		t.Errorf("the bench left %d gocv Mats open", matLeak)
	}
}

func TestConfigErrorsNameTheProblem(t *testing.T) {
	for _, c := range []struct {
		mut  func(*Config)
		want string
	}{
		{func(c *Config) { c.Iterations = -1 }, "iterations -1"},
		{func(c *Config) { c.Events = 5000 }, "events 5000"},
		{func(c *Config) { c.Clip = "/nonexistent/clip.avi" }, "/nonexistent/clip.avi"},
		{func(c *Config) { c.Clip = os.TempDir() }, "is a folder"},
		{func(c *Config) { c.Generator.Provider = "abacus" }, "generator.provider"},
		{func(c *Config) { c.Scene.RenderW = 1 }, "scene.render_width"},
	} {
		cfg := tinyConfig()
		c.mut(&cfg)
		_, err := Run(cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, expected one naming %q", err, c.want)
		}
	}
}

// The bare vision baseline is only fair while it makes the Analyzer's
// OpenCV calls: on the same footage both must find the same foreground.
func TestBareVisionMirrorsAnalyzer(t *testing.T) {
	frames, err := clipFrames(vision.SampleClip, 100, visionW, visionH)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll(frames)
	cfg := vision.DefaultConfig()
	an := vision.NewAnalyzer(cfg)
	defer an.Close()
	bare := newBareVision(cfg)
	defer bare.Close()
	for i, f := range frames {
		an.Analyze(f, float64(i)/30)
		bare.Step(f)
	}
	fg := an.Foreground()
	diff := gocv.NewMat()
	defer diff.Close()
	gocv.AbsDiff(fg, bare.fg, &diff)
	n := fg.Rows() * fg.Cols()
	moving, differ := gocv.CountNonZero(fg), gocv.CountNonZero(diff)
	if moving < 20 {
		t.Fatalf("the Analyzer finds %d foreground pixels of %d in people walking; expected some", moving, n)
	}
	if differ*10 > moving {
		t.Errorf("the bare baseline's foreground differs from the Analyzer's in %d of %d pixels (%d foreground): update bareVision to the Analyzer's calls", differ, n, moving)
	}
}

// Without set-up's networks the bench says which are missing and why, and
// measures the rest.
func TestNetworksMissing(t *testing.T) {
	t.Setenv("REVERIE_NETWORKS", t.TempDir())
	figs, err := measureNetworks(tinyConfig().Generator, 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"posenet", "selfie"} {
		if f := figs[name]; !strings.Contains(f.Missing, "make setup") {
			t.Errorf("%s: %+v, want a figure saying it is missing and naming `make setup`", name, f)
		}
	}
}

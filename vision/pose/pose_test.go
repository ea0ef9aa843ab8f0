package pose_test

import (
	"encoding/binary"
	"encoding/json"
	"image"
	"image/color"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gocv.io/x/gocv"

	"reverie/gen"
	"reverie/gen/networks"
	"reverie/internal/project"
	"reverie/vision/pose"
)

const (
	photos = "/usr/share/doc/opencv-doc/examples/data/"
	clip   = photos + "vtest.avi"
	stride = 16 // reverie's PoseNet
)

func TestMain(m *testing.M) {
	if _, err := gen.Init(""); err != nil {
		println(err.Error())
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// validSize is the least Stride·k+1 at or above n: the sizes PoseNet was
// trained on, where grid cell i sits on input pixel Stride·i (TF.js posenet
// rounds its input resolution to them). vtest's 768×576 becomes 769×577.
func validSize(n int) int { return (n+stride-2)/stride*stride + 1 }

// posenet runs the converted PoseNet on a BGR picture padded (edge pixels
// repeated) to the next valid size, so that keypoints are in the picture's
// own pixels, and returns its outputs. They stay valid until the network
// is closed or run again.
type posenet struct {
	net  *gen.Net
	h, w int
}

func openPoseNet(t testing.TB, h, w int) *posenet {
	t.Helper()
	path, err := networks.Find("posenet")
	if err != nil {
		t.Fatal(err)
	}
	net, _, err := gen.OpenNet(path, []int64{1, int64(h), int64(w), 3}, gen.SessionConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(net.Close)
	return &posenet{net: net, h: h, w: w}
}

func (p *posenet) run(t testing.TB, bgr gocv.Mat) pose.Outputs {
	t.Helper()
	if bgr.Rows() > p.h || bgr.Cols() > p.w {
		t.Fatalf("picture %dx%d is larger than the network's input %dx%d", bgr.Cols(), bgr.Rows(), p.w, p.h)
	}
	padded := gocv.NewMat()
	defer padded.Close()
	gocv.CopyMakeBorder(bgr, &padded, 0, p.h-bgr.Rows(), 0, p.w-bgr.Cols(), gocv.BorderReplicate, color.RGBA{})
	rgb := gocv.NewMat()
	defer rgb.Close()
	gocv.CvtColor(padded, &rgb, gocv.ColorBGRToRGB)
	in := p.net.Input()
	for i, b := range rgb.ToBytes() {
		in[i] = float32(b)/127.5 - 1 // PoseNet (MobileNet) takes -1..1
	}
	if err := p.net.Run(); err != nil {
		t.Fatal(err)
	}
	o := pose.Outputs{Stride: stride, InputH: p.h, InputW: p.w}
	for _, out := range []struct {
		name string
		dst  *[]float32
	}{
		{"heatmap", &o.Heatmap}, {"offset", &o.Offsets},
		{"displacement_fwd", &o.DisplacementFwd}, {"displacement_bwd", &o.DisplacementBwd},
	} {
		data, shape, ok := p.net.OutputByName(out.name)
		if !ok {
			t.Fatalf("posenet has no output %q (has %v)", out.name, p.net.Outputs())
		}
		*out.dst = data
		o.H, o.W = int(shape[1]), int(shape[2])
	}
	return o
}

// frame reads frame n (from 0) of the sample clip.
func frame(t testing.TB, n int) gocv.Mat {
	t.Helper()
	vc, err := gocv.VideoCaptureFile(clip)
	if err != nil {
		t.Fatalf("%s: %v (set-up installs opencv-doc)", clip, err)
	}
	defer vc.Close()
	m := gocv.NewMat()
	for i := 0; i <= n; i++ {
		if !vc.Read(&m) || m.Empty() {
			m.Close()
			t.Fatalf("%s: no frame %d", clip, i)
		}
	}
	return m
}

// photo reads an opencv-doc photo.
func photo(t testing.TB, name string) gocv.Mat {
	t.Helper()
	m := gocv.IMRead(photos+name, gocv.IMReadColor)
	if m.Empty() {
		m.Close()
		t.Fatalf("%s%s: not readable (set-up installs opencv-doc)", photos, name)
	}
	return m
}

// refPose is a pose as posenet_decode.js writes it.
type refPose struct {
	Score     float64
	Keypoints []struct {
		Part        string
		X, Y, Score float64
	}
}

// reference decodes o with @tensorflow-models/posenet's decodeMultiplePoses
// in Node.
func reference(t *testing.T, o pose.Outputs, cfg pose.Config) []refPose {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node not found: run `make setup`")
	}
	mods, ok := project.Find(filepath.Join("third_party", "tfjs", "node_modules", "@tensorflow-models", "posenet"), nil)
	if !ok {
		t.Fatal("@tensorflow-models/posenet not installed under third_party/tfjs: run `make setup`")
	}
	dir := t.TempDir()
	write := func(name string, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, v := range map[string][]float32{
		"heatmap": o.Heatmap, "offset": o.Offsets,
		"displacement_fwd": o.DisplacementFwd, "displacement_bwd": o.DisplacementBwd,
	} {
		raw := make([]byte, 4*len(v))
		for i, f := range v {
			binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(f))
		}
		write(name+".f32", raw)
	}
	c, _ := json.Marshal(map[string]any{
		"h": o.H, "w": o.W, "stride": o.Stride,
		"maxPoses": cfg.MaxPoses, "scoreThreshold": cfg.ScoreThreshold, "nmsRadius": cfg.NMSRadius,
	})
	write("case.json", c)
	cmd := exec.Command(node, "testdata/posenet_decode.js", dir)
	cmd.Env = append(os.Environ(), "NODE_PATH="+filepath.Dir(filepath.Dir(mods)))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("posenet reference decode failed: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "poses.json"))
	if err != nil {
		t.Fatal(err)
	}
	var poses []refPose
	if err := json.Unmarshal(b, &poses); err != nil {
		t.Fatal(err)
	}
	return poses
}

// TestMatchesTFJSPoseNet proves the decoder is TF.js posenet's: on PoseNet's
// own outputs for real footage and a photo, both find the same poses in the
// same order, every keypoint within 1e-3 pixels and every score within 1e-6.
func TestMatchesTFJSPoseNet(t *testing.T) {
	const posTol, scoreTol = 1e-3, 1e-6
	cases := []struct {
		name  string
		frame int // of vtest, or -1 for the photo
	}{
		{"vtest/0", 0}, {"vtest/100", 100}, {"vtest/400", 400}, {"vtest/720", walkers}, {"messi5.jpg", -1},
	}
	first := frame(t, 0)
	vtestNet := openPoseNet(t, validSize(first.Rows()), validSize(first.Cols()))
	first.Close()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var m gocv.Mat
			var net *posenet
			if tc.frame >= 0 {
				m, net = frame(t, tc.frame), vtestNet
			} else {
				m = photo(t, "messi5.jpg")
				net = openPoseNet(t, validSize(m.Rows()), validSize(m.Cols()))
			}
			defer m.Close()
			o := net.run(t, m)
			for _, cfg := range []pose.Config{pose.DefaultConfig(), {MaxPoses: 20, ScoreThreshold: 0.3, NMSRadius: 30}} {
				d, err := pose.NewDecoder(cfg)
				if err != nil {
					t.Fatal(err)
				}
				got, err := d.Decode(o)
				if err != nil {
					t.Fatal(err)
				}
				want := reference(t, o, cfg)
				if len(got) != len(want) {
					t.Fatalf("%+v: %d poses, posenet finds %d", cfg, len(got), len(want))
				}
				var dPos, dScore float64
				for i, w := range want {
					g := got[i]
					dScore = max(dScore, math.Abs(float64(g.Score)-w.Score))
					for k, wk := range w.Keypoints {
						if wk.Part != pose.Part(k).String() {
							t.Fatalf("posenet's keypoint %d is %s, ours %s", k, wk.Part, pose.Part(k))
						}
						gk := g.Keypoints[k]
						dPos = max(dPos, math.Abs(float64(gk.X)-wk.X), math.Abs(float64(gk.Y)-wk.Y))
						dScore = max(dScore, math.Abs(float64(gk.Score)-wk.Score))
						if !(math.Abs(float64(gk.X)-wk.X) <= posTol && math.Abs(float64(gk.Y)-wk.Y) <= posTol &&
							math.Abs(float64(gk.Score)-wk.Score) <= scoreTol) {
							t.Errorf("%+v: pose %d %s at (%.4f, %.4f) score %.6f, posenet says (%.4f, %.4f) score %.6f",
								cfg, i, pose.Part(k), gk.X, gk.Y, gk.Score, wk.X, wk.Y, wk.Score)
						}
					}
					if !(math.Abs(float64(g.Score)-w.Score) <= scoreTol) {
						t.Errorf("%+v: pose %d scores %.6f, posenet says %.6f", cfg, i, g.Score, w.Score)
					}
				}
				t.Logf("%dx%d, threshold %.1f, radius %.0f: %d poses (%d scoring ≥ 0.3); max |Δposition| %.2g px, max |Δscore| %.2g",
					o.InputW, o.InputH, cfg.ScoreThreshold, cfg.NMSRadius, len(got), strong(got, 0.3), dPos, dScore)
			}
		})
	}
}

// strong counts the poses scoring at least min.
func strong(poses []pose.Pose, min float32) int {
	n := 0
	for _, p := range poses {
		if p.Score >= min {
			n++
		}
	}
	return n
}

// walkers is vtest's frame 720: eight people, none occluded: seven on the
// road (two side by side in the middle, one far off at the top right) and
// one on the grass at the left. The most people of the frames sampled every
// 60, and its lower third is empty grass with a tripod, where a ghost pose
// would be plainly wrong.
const walkers, walkersSeen = 720, 8

// TestFindsEveryWalker checks the decoder separates the people of a busy
// frame (nearly all found, each once) and finds nobody in a grey picture.
func TestFindsEveryWalker(t *testing.T) {
	m := frame(t, walkers)
	defer m.Close()
	net := openPoseNet(t, validSize(m.Rows()), validSize(m.Cols()))
	d, err := pose.NewDecoder(pose.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	poses, err := d.Decode(net.run(t, m))
	if err != nil {
		t.Fatal(err)
	}
	var centres []image.Point
	for _, p := range poses {
		if p.Score < 0.3 {
			continue
		}
		c := centre(p)
		t.Logf("pose scoring %.2f centred at %v", p.Score, c)
		if c.Y > m.Rows()/2+m.Rows()/8 {
			t.Errorf("pose scoring %.2f centred at %v: on the empty grass", p.Score, c)
		}
		for _, o := range centres {
			if d := c.Sub(o); d.X*d.X+d.Y*d.Y < 20*20 {
				t.Errorf("poses centred at %v and %v: one walker found twice", c, o)
			}
		}
		centres = append(centres, c)
	}
	// One miss is allowed: the two walking side by side could merge.
	if len(centres) < walkersSeen-1 {
		t.Errorf("frame %d: %d poses score ≥ 0.3 (of %d in all), expected at least %d of its %d walkers",
			walkers, len(centres), len(poses), walkersSeen-1, walkersSeen)
	}

	grey := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(128, 128, 128, 0), m.Rows(), m.Cols(), gocv.MatTypeCV8UC3)
	defer grey.Close()
	poses, err = d.Decode(net.run(t, grey))
	if err != nil {
		t.Fatal(err)
	}
	if len(poses) != 0 {
		t.Errorf("a grey picture gave %d poses, the first scoring %.2f: expected none", len(poses), poses[0].Score)
	}
}

// centre is the mean position of a pose's keypoints that score ≥ 0.3.
func centre(p pose.Pose) image.Point {
	var x, y, n float32
	for _, k := range p.Keypoints {
		if k.Score >= 0.3 {
			x, y, n = x+k.X, y+k.Y, n+1
		}
	}
	if n == 0 {
		return image.Pt(-1, -1)
	}
	return image.Pt(int(x/n), int(y/n))
}

// TestDecodeAllocatesNothing enforces the hot-path rule: once a decoder has
// seen a size, decoding a busy frame allocates nothing.
func TestDecodeAllocatesNothing(t *testing.T) {
	m := frame(t, walkers)
	defer m.Close()
	o := openPoseNet(t, validSize(m.Rows()), validSize(m.Cols())).run(t, m)
	d, err := pose.NewDecoder(pose.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	var n int
	allocs := testing.AllocsPerRun(20, func() {
		poses, err := d.Decode(o)
		if err != nil {
			t.Fatal(err)
		}
		n = len(poses)
	})
	if n < 3 {
		t.Fatalf("%d poses: the run did not exercise decoding", n)
	}
	if allocs != 0 {
		t.Errorf("Decode allocates %.1f times per call (%d poses), expected 0", allocs, n)
	}
}

// BenchmarkDecode decodes the busy frame's outputs at the clip's size.
func BenchmarkDecode(b *testing.B) {
	m := frame(b, walkers)
	defer m.Close()
	o := openPoseNet(b, validSize(m.Rows()), validSize(m.Cols())).run(b, m)
	d, err := pose.NewDecoder(pose.DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	if _, err := d.Decode(o); err != nil { // sizes the buffers
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Decode(o); err != nil {
			b.Fatal(err)
		}
	}
}

// TestRejectsInconsistentOutputs feeds outputs that do not fit together:
// each gets an error naming what is wrong, none a panic.
func TestRejectsInconsistentOutputs(t *testing.T) {
	// A valid 33×49 input at stride 16: a 3×4 grid.
	valid := func() pose.Outputs {
		const cells = 3 * 4
		return pose.Outputs{
			Heatmap: make([]float32, cells*17), Offsets: make([]float32, cells*34),
			DisplacementFwd: make([]float32, cells*32), DisplacementBwd: make([]float32, cells*32),
			H: 3, W: 4, Stride: 16, InputH: 33, InputW: 49,
		}
	}
	cases := []struct {
		name   string
		change func(o *pose.Outputs)
		want   string
	}{
		{"heatmap one short", func(o *pose.Outputs) { o.Heatmap = o.Heatmap[1:] }, "heatmap has 203 values: expected 204"},
		{"offsets missing", func(o *pose.Outputs) { o.Offsets = nil }, "offsets has 0 values: expected 408"},
		{"forward displacements too long", func(o *pose.Outputs) { o.DisplacementFwd = make([]float32, 385) }, "displacement_fwd has 385 values"},
		{"backward displacements with heatmap's channels", func(o *pose.Outputs) { o.DisplacementBwd = make([]float32, 12*17) }, "displacement_bwd has 204 values: expected 384"},
		{"zero grid", func(o *pose.Outputs) { o.H = 0 }, "output grid 4x0"},
		{"negative grid", func(o *pose.Outputs) { o.W = -4 }, "output grid -4x3"},
		{"grid overflowing", func(o *pose.Outputs) { o.H, o.W = 1<<40, 1<<40 }, "at most 1048576 cells"},
		{"zero stride", func(o *pose.Outputs) { o.Stride = 0 }, "output stride 0"},
		{"zero input", func(o *pose.Outputs) { o.InputW = 0 }, "input size 0x33"},
		{"grid not the input's", func(o *pose.Outputs) { o.InputW = 97 }, "output grid 4x3 does not match input 97x33 at stride 16: expected 7x3"},
		{"heatmap NaN", func(o *pose.Outputs) { o.Heatmap[20] = float32(math.NaN()) }, "heatmap value 20 (cell 1, part leftEar) is NaN"},
	}
	d, err := pose.NewDecoder(pose.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		o := valid()
		tc.change(&o)
		poses, err := d.Decode(o)
		if err == nil || !strings.Contains(err.Error(), tc.want) || poses != nil {
			t.Errorf("%s: got %d poses, error %v; expected no poses and an error saying %q", tc.name, len(poses), err, tc.want)
		}
	}
	if _, err := d.Decode(valid()); err != nil {
		t.Errorf("consistent outputs: %v", err)
	}
}

// TestSurvivesWildValues decodes outputs whose offsets and displacements
// throw keypoints far off the grid, to infinity or to NaN: the decoder
// clamps its lookups and returns poses without panicking.
func TestSurvivesWildValues(t *testing.T) {
	const h, w = 3, 4
	for _, wild := range []float32{1e30, -1e30, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())} {
		o := pose.Outputs{
			Heatmap: make([]float32, h*w*17), Offsets: make([]float32, h*w*34),
			DisplacementFwd: make([]float32, h*w*32), DisplacementBwd: make([]float32, h*w*32),
			H: h, W: w, Stride: 16, InputH: 33, InputW: 49,
		}
		for i := range o.Heatmap {
			o.Heatmap[i] = 5 // every part everywhere: the most roots
		}
		for _, v := range [][]float32{o.Offsets, o.DisplacementFwd, o.DisplacementBwd} {
			for i := range v {
				v[i] = wild
			}
		}
		d, err := pose.NewDecoder(pose.DefaultConfig())
		if err != nil {
			t.Fatal(err)
		}
		poses, err := d.Decode(o)
		if err != nil || len(poses) == 0 {
			t.Errorf("offsets %g: %d poses, error %v; expected poses at wild places, no error", wild, len(poses), err)
		}
	}
}

// TestConfigValidate checks each option's range is enforced with its key.
func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		change func(c *pose.Config)
		key    string
	}{
		{func(c *pose.Config) { c.MaxPoses = 0 }, "max_poses"},
		{func(c *pose.Config) { c.ScoreThreshold = 1.5 }, "score_threshold"},
		{func(c *pose.Config) { c.ScoreThreshold = math.NaN() }, "score_threshold"},
		{func(c *pose.Config) { c.NMSRadius = 0 }, "nms_radius"},
	} {
		c := pose.DefaultConfig()
		tc.change(&c)
		_, err := pose.NewDecoder(c)
		if err == nil || !strings.HasPrefix(err.Error(), tc.key+": ") {
			t.Errorf("%+v: error %v, expected one about %s", c, err, tc.key)
		}
	}
	if c := pose.DefaultConfig(); c.Validate() != nil {
		t.Errorf("defaults %+v do not validate: %v", c, c.Validate())
	}
}

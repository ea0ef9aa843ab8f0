package pose_test

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image/color"
	"math"
	"os"
	"os/exec"
	"path/filepath"
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
		{"vtest/0", 0}, {"vtest/100", 100}, {"vtest/400", 400}, {"messi5.jpg", -1},
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

// keep fmt for the exploration helpers below.
var _ = fmt.Sprint

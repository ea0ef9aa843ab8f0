package networks_test

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"

	"reverie/gen"
	"reverie/gen/networks"
	"reverie/internal/project"
	"reverie/internal/sample"
)

const clip = sample.Photos + "vtest.avi"

func TestMain(m *testing.M) {
	if _, err := gen.Init(""); err != nil {
		println(err.Error())
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// installed returns the network's ONNX file, failing the test with set-up's
// instructions when it is missing.
func installed(t *testing.T, name string) string {
	t.Helper()
	p, err := networks.Find(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// photo loads an opencv-doc photo.
func photo(t *testing.T, name string) image.Image {
	t.Helper()
	img, err := sample.Photo(name)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// frame reads frame n of the sample clip.
func frame(t *testing.T, n int) image.Image {
	t.Helper()
	vc, err := gocv.VideoCaptureFile(clip)
	if err != nil {
		t.Fatal(err)
	}
	defer vc.Close()
	m := gocv.NewMat()
	defer m.Close()
	for i := 0; i <= n; i++ {
		if !vc.Read(&m) || m.Empty() {
			t.Fatalf("%s: no frame %d", clip, i)
		}
	}
	rgb := gocv.NewMat()
	defer rgb.Close()
	gocv.CvtColor(m, &rgb, gocv.ColorBGRToRGB)
	img, err := rgb.ToImage()
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// tensor samples img to h×w and maps 0..255 to lo..hi, NHWC.
func tensor(img image.Image, h, w int, lo, hi float32) []float32 {
	return sample.NHWC(img, h, w, lo, hi)
}

// reference runs the original TF.js model in Node with @tensorflow/tfjs on
// its pure-JavaScript CPU backend, and returns its outputs by TF name.
func reference(t *testing.T, n *networks.Network, input []float32, shape []int64) map[string][]float32 {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node not found: run `make setup`")
	}
	mods, ok := project.Find(filepath.Join("third_party", "tfjs", "node_modules", "@tensorflow", "tfjs"), nil)
	if !ok {
		t.Fatal("@tensorflow/tfjs not installed under third_party/tfjs: run `make setup`")
	}
	dir := t.TempDir()
	raw := make([]byte, 4*len(input))
	for i, v := range input {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	if err := os.WriteFile(filepath.Join(dir, "input.f32"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	shapeJSON, _ := json.Marshal(shape)
	model := filepath.Join(networks.Dir(), filepath.Base(n.Source))
	cmd := exec.Command(node, "testdata/tfjs_run.js", model, filepath.Join(dir, "input.f32"), string(shapeJSON), dir)
	cmd.Env = append(os.Environ(), "NODE_PATH="+filepath.Dir(filepath.Dir(mods)))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tfjs reference run failed: %v\n%s", err, out)
	}
	var meta []struct {
		Name  string
		Shape []int64
	}
	b, err := os.ReadFile(filepath.Join(dir, "outputs.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		t.Fatal(err)
	}
	res := map[string][]float32{}
	for i, m := range meta {
		b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("%d.f32", i)))
		if err != nil {
			t.Fatal(err)
		}
		v := make([]float32, len(b)/4)
		for j := range v {
			v[j] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*j:]))
		}
		res[m.Name] = v
	}
	return res
}

// TestEquivalentToTFJS proves each converted network computes what its
// TF.js original computes, on real photos and footage: every output within
// 1e-3 of its range.
func TestEquivalentToTFJS(t *testing.T) {
	cases := []struct {
		net   string
		input string
		h, w  int64
	}{
		{"posenet", "messi5.jpg", 385, 385},
		{"posenet", "vtest", 289, 385}, // not the declared size: the camera's aspect
		{"selfie", "messi5.jpg", 256, 256},
		{"selfie", "vtest", 256, 256},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s/%s/%dx%d", tc.net, tc.input, tc.w, tc.h), func(t *testing.T) {
			t.Parallel()
			n, _ := networks.Lookup(tc.net)
			path := installed(t, tc.net)
			var img image.Image
			if tc.input == "vtest" {
				img = frame(t, 100)
			} else {
				img = photo(t, tc.input)
			}
			shape := []int64{1, tc.h, tc.w, 3}
			input := tensor(img, int(tc.h), int(tc.w), n.Range[0], n.Range[1])

			net, _, err := gen.OpenNet(path, shape, gen.SessionConfig{})
			if err != nil {
				t.Fatal(err)
			}
			defer net.Close()
			copy(net.Input(), input)
			if err := net.Run(); err != nil {
				t.Fatal(err)
			}
			want := reference(t, n, input, shape)
			if len(want) != len(n.Outputs) {
				t.Fatalf("tfjs gave %d outputs, the catalog names %d", len(want), len(n.Outputs))
			}
			for tfName, onnxName := range n.Outputs {
				got, gshape, ok := net.OutputByName(onnxName)
				if !ok {
					t.Fatalf("converted model has no output %q (has %v)", onnxName, net.Outputs())
				}
				ref := want[tfName]
				if len(ref) != len(got) {
					t.Fatalf("%s: %d values %v, tfjs gave %d", onnxName, len(got), gshape, len(ref))
				}
				lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
				for _, v := range ref {
					lo, hi = min(lo, v), max(hi, v)
				}
				tol := 1e-3 * (hi - lo)
				var worst float32
				at := 0
				for i := range ref {
					if d := float32(math.Abs(float64(got[i] - ref[i]))); d > worst {
						worst, at = d, i
					}
				}
				t.Logf("%s %v: range [%.3g, %.3g], max |onnx - tfjs| %.3g (tolerance %.3g)", onnxName, gshape, lo, hi, worst, tol)
				if !(worst <= tol) || hi-lo <= 0 {
					t.Errorf("%s: value %d is %g, tfjs says %g: off by %g, over the tolerance %g (1e-3 of the range [%g, %g])",
						onnxName, at, got[at], ref[at], worst, tol, lo, hi)
				}
			}
		})
	}
}

// TestNetworksSeePeople checks the converted networks are the trained ones:
// PoseNet's keypoints are confident on a photo of a person and not on a
// plain grey picture, and Selfie Segmentation covers the person, not the grey.
func TestNetworksSeePeople(t *testing.T) {
	grey := image.NewUniform(color.Gray{128})
	person := photo(t, "messi5.jpg")
	// confidence is the mean over keypoints of the best heatmap score.
	confidence := func(img image.Image) float64 {
		t.Helper()
		n, _ := networks.Lookup("posenet")
		net, _, err := gen.OpenNet(installed(t, "posenet"), []int64{1, 257, 385, 3}, gen.SessionConfig{})
		if err != nil {
			t.Fatal(err)
		}
		defer net.Close()
		copy(net.Input(), tensor(boundsOf(img), 257, 385, n.Range[0], n.Range[1]))
		if err := net.Run(); err != nil {
			t.Fatal(err)
		}
		heat, shape, _ := net.OutputByName("heatmap")
		k := int(shape[3])
		best := make([]float64, k)
		for i, v := range heat {
			best[i%k] = max(best[i%k], 1/(1+math.Exp(-float64(v))))
		}
		sum := 0.0
		for _, b := range best {
			sum += b
		}
		return sum / float64(k)
	}
	coverage := func(img image.Image) float64 {
		t.Helper()
		n, _ := networks.Lookup("selfie")
		net, _, err := gen.OpenNet(installed(t, "selfie"), n.Shape, gen.SessionConfig{})
		if err != nil {
			t.Fatal(err)
		}
		defer net.Close()
		copy(net.Input(), tensor(boundsOf(img), 256, 256, n.Range[0], n.Range[1]))
		if err := net.Run(); err != nil {
			t.Fatal(err)
		}
		mask, _, _ := net.OutputByName("mask")
		on := 0
		for _, v := range mask {
			if v > 0.5 {
				on++
			}
		}
		return float64(on) / float64(len(mask))
	}
	pc, gc := confidence(person), confidence(grey)
	t.Logf("posenet keypoint confidence: person %.2f, grey %.2f", pc, gc)
	if pc < 0.5 || gc > 0.3 {
		t.Errorf("posenet: mean keypoint confidence %.2f on a person (want ≥ 0.5) and %.2f on grey (want ≤ 0.3): not the trained network", pc, gc)
	}
	ps, gs := coverage(person), coverage(grey)
	t.Logf("selfie mask coverage: person %.3f, grey %.3f", ps, gs)
	if ps < 0.05 || gs > 0.01 {
		t.Errorf("selfie: mask covers %.3f of a person photo (want ≥ 0.05) and %.3f of grey (want ≤ 0.01): not the trained network", ps, gs)
	}
}

// boundsOf gives an unbounded image (image.Uniform) a size to sample.
func boundsOf(img image.Image) image.Image {
	if img.Bounds().Dx() <= 1<<20 {
		return img
	}
	m := image.NewRGBA(image.Rect(0, 0, 64, 64))
	draw.Draw(m, m.Bounds(), img, image.Point{}, draw.Src)
	return m
}

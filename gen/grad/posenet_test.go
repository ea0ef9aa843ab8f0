package grad

import (
	"fmt"
	"image"
	"math"
	"math/rand"
	"os"
	"testing"

	"reverie/gen/networks"
	"reverie/gen/onnxpb"
	"reverie/internal/sample"
)

// The trained PoseNet (MobileNetV1 from TF.js, converted by gen/tfjs), the
// network the live DeepDream differentiates. Set-up installs it; these tests
// fail, not skip, without it, and say how to get it.

const posenetShallow = "MobilenetV1/MobilenetV1/Conv2d_3_pointwise/Relu6"

// photoName is a real photograph from Debian's opencv-doc: a person, so the
// deep layers respond as they do to a gallery's audience.
const photoName = "messi5.jpg"

func loadPoseNet(tb testing.TB) []byte {
	tb.Helper()
	p, err := networks.Find("posenet")
	if err != nil {
		tb.Fatal(err)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// photo returns the photograph scaled (bilinear) to h×w, NHWC, with 0..255
// mapped to PoseNet's [-1, 1].
func photo(tb testing.TB, h, w int) []float32 {
	tb.Helper()
	img, err := sample.Photo(photoName)
	if err != nil {
		tb.Fatal(err)
	}
	return scaled(img, h, w)
}

func scaled(img image.Image, h, w int) []float32 { return sample.NHWC(img, h, w, -1, 1) }

// pruned is model cut down to the layer as its only output (with the first
// input's dims fixed to shape when not nil): the forward pass the finite
// differences run, and the bare forward the benchmarks compare a step with.
func pruned(tb testing.TB, model []byte, layer string, shape []int64) []byte {
	tb.Helper()
	m, err := onnxpb.Read(model)
	if err != nil {
		tb.Fatal(err)
	}
	g := onnxpb.NewGraph(m.Graph.Name)
	g.SetOpsets(m.IRVersion, m.Opsets...)
	for i, vi := range m.Graph.Inputs {
		if i == 0 && shape != nil {
			g.InputInfo(vi.Name, vi.ElemType, shape, nil)
			continue
		}
		g.InputInfo(vi.Name, vi.ElemType, vi.Dims, vi.DimParams)
	}
	for _, t := range m.Graph.Initializers {
		g.Initializer(t.Name, t.DataType, t.Dims, t.Raw)
	}
	needed := map[string]bool{layer: true}
	keep := make([]bool, len(m.Graph.Nodes))
	for i := len(m.Graph.Nodes) - 1; i >= 0; i-- {
		for _, o := range m.Graph.Nodes[i].Outputs {
			keep[i] = keep[i] || needed[o]
		}
		if keep[i] {
			for _, in := range m.Graph.Nodes[i].Inputs {
				needed[in] = true
			}
		}
	}
	for i, n := range m.Graph.Nodes {
		if !keep[i] {
			continue
		}
		var attrs []onnxpb.Attr
		for _, a := range n.Attrs {
			attrs = append(attrs, a.Attr())
		}
		g.Node(n.Name, n.Domain, n.OpType, n.Inputs, n.Outputs, attrs...)
	}
	g.OutputInfo(layer, onnxpb.Float, nil, nil)
	return g.Model(m.ProducerName, m.ProducerVersion)
}

// PoseNet's float32 forward pass is noisier than the small test networks', and
// a perturbation of one pixel moves many Relu6 units at once, so the checks
// here use a smaller step and a looser relative tolerance than fdStep/relTol.
const (
	poseStep   = 4e-3
	poseRelTol = 5e-2
	poseAbsTol = 1e-2
	poseNoise  = 1e-4 // float32 rounding in one-sided differences of the objective
)

// The image gradient of PoseNet's mean square activation at a layer agrees
// with central differences of the forward model, on a real photograph at
// 48×64, both with the input's size left dynamic and fixed by Options.Shape
// (which takes Build's static-crop path for the stride-2 convolutions).
func TestPoseNetGradient(t *testing.T) {
	model := loadPoseNet(t)
	const h, w = 48, 64
	dims := []int64{1, h, w, 3}
	img := photo(t, h, w)
	for _, layer := range []string{posenetLayer, posenetShallow} {
		fwd := newSession(t, pruned(t, model, layer, nil), []string{"image"}, []string{layer})
		objective := func(v []float32) float64 {
			out, shapes := fwd.run(t, tensorIn{dims, v})
			return meanSquare(out[0], shapes[0], nil, 0)
		}
		for _, static := range []bool{false, true} {
			name := fmt.Sprintf("%s/static=%v", layer, static)
			t.Run(name, func(t *testing.T) {
				opts := Options{Layer: layer}
				if static {
					opts.Shape = dims
				}
				gm, err := Build(model, opts)
				if err != nil {
					t.Fatal(err)
				}
				s := newSession(t, gm, []string{"image"}, []string{ObjectiveName, GradientName})
				out, _ := s.run(t, tensorIn{dims, img})
				f0 := objective(img)
				if got := float64(out[0][0]); math.Abs(got-f0) > 1e-4*math.Abs(f0) {
					t.Errorf("objective %g, forward model gives %g", got, f0)
				}
				checkAgainstFD(t, img, out[1], objective, 64)
			})
		}
	}
}

// checkAgainstFD compares g with central differences of objective at
// samples random elements of img. A deep Relu6 network is piecewise smooth
// with kinks packed closely (every pixel feeds thousands of units, and any of
// them crossing 0 or 6 bends the objective), so central differences at h and
// h/2 can agree across a kink. Here an element counts only where the
// one-sided differences at h and h/2 on both sides all agree, i.e. no kink
// lies within h; then g must match the central difference. At most half the
// elements may be skipped, and at least a quarter of samples must be checked.
func checkAgainstFD(t *testing.T, img, g []float32, objective func([]float32) float64, samples int) {
	t.Helper()
	r := rand.New(rand.NewSource(11))
	at := func(i int, h float32) float64 {
		v := append([]float32(nil), img...)
		v[i] = img[i] + h
		return objective(v)
	}
	f0 := objective(img)
	var checks []fdCheck
	scale, skipped := 0.0, 0
	idx := r.Perm(len(img))[:samples]
	for _, i := range idx {
		h := float64(poseStep)
		fp, fm := at(i, poseStep), at(i, -poseStep)
		fp2, fm2 := at(i, poseStep/2), at(i, -poseStep/2)
		central := (fp - fm) / (2 * h)
		scale = math.Max(scale, math.Abs(central))
		sided := []float64{(fp - f0) / h, (f0 - fm) / h, (fp2 - f0) / (h / 2), (f0 - fm2) / (h / 2)}
		lo, hi := sided[0], sided[0]
		for _, d := range sided {
			lo, hi = math.Min(lo, d), math.Max(hi, d)
		}
		if hi-lo > poseRelTol*math.Max(math.Abs(lo), math.Abs(hi))+poseNoise {
			skipped++
			continue
		}
		checks = append(checks, fdCheck{i, central, float64(g[i])})
	}
	if skipped > len(idx)/2 || len(checks) < samples/4 {
		t.Errorf("%d of %d elements look like kinks, %d left to check", skipped, len(idx), len(checks))
	}
	if scale == 0 {
		t.Fatal("every finite difference is zero")
	}
	if bad := disagreeing(t, checks, poseRelTol, poseAbsTol*scale); bad > 0 {
		t.Errorf("%d of %d elements disagree (%d kinks skipped)", bad, len(checks), skipped)
	}
	t.Logf("%d elements agree, %d kinks skipped, max |fd| %.3g", len(checks), skipped, scale)
}

// Gradient ascent as the dream runs it (Step at 256×144 to Conv2d_7, fed its
// own output) raises the objective at every step from a real photograph.
func TestPoseNetAscent(t *testing.T) {
	model := loadPoseNet(t)
	dims := []int64{1, benchH, benchW, 3}
	step, err := Build(model, Options{Layer: posenetLayer, Output: Step, Shape: dims})
	if err != nil {
		t.Fatal(err)
	}
	s := newSession(t, step, []string{"image", StepName}, []string{ObjectiveName, SteppedName})
	img := photo(t, benchH, benchW)
	var objs []float64
	for range 11 {
		out, _ := s.run(t, tensorIn{dims, img}, tensorIn{[]int64{1}, []float32{0.01}})
		objs = append(objs, float64(out[0][0]))
		img = out[1]
	}
	t.Logf("objective over 10 steps: %.5g", objs)
	for i := 1; i < len(objs); i++ {
		if !(objs[i] > objs[i-1]) {
			t.Errorf("step %d: objective %g, not above the previous %g", i, objs[i], objs[i-1])
		}
	}
	if objs[10] < 1.2*objs[0] {
		t.Errorf("10 steps raised the objective from %g only to %g (want at least 20%%)", objs[0], objs[10])
	}
}

package grad

import (
	"math/rand"
	"strings"
	"testing"

	"reverie/gen/onnxpb"
)

const dyn = onnxpb.Dynamic

// conv adds a Conv with random weights (and a bias) to the test network.
func (n *net) conv(x string, cin, cout, k int64, a ...onnxpb.Attr) string {
	return n.convG(x, cin, cout, k, 1, a...)
}

func (n *net) convG(x string, cin, cout, k, group int64, a ...onnxpb.Attr) string {
	w := n.weights(1/float32(k), cout, cin/group, k, k)
	bias := n.weights(0.1, cout)
	a = append(a, onnxpb.AttrInt("group", group), onnxpb.AttrInts("kernel_shape", k, k))
	return n.g.Op("Conv", []string{x, w, bias}, a...)
}

func TestGradientOps(t *testing.T) {
	same := onnxpb.AttrString("auto_pad", "SAME_UPPER")
	s2 := onnxpb.AttrInts("strides", 2, 2)
	cases := []gradCase{
		{name: "Conv 3x3 pads 1", decl: []int64{1, 2, 6, 5}, build: func(n *net, x string) string {
			return n.conv(x, 2, 3, 3, onnxpb.AttrInts("pads", 1, 1, 1, 1))
		}},
		{name: "Conv stride 2 SAME_UPPER odd size", decl: []int64{1, 2, 9, 7}, build: func(n *net, x string) string {
			return n.conv(x, 2, 3, 3, same, s2)
		}},
		{name: "Conv stride 2 SAME_LOWER even size", decl: []int64{1, 2, 8, 6}, build: func(n *net, x string) string {
			return n.conv(x, 2, 3, 3, onnxpb.AttrString("auto_pad", "SAME_LOWER"), s2)
		}},
		{name: "Conv stride 2 SAME_UPPER dynamic size", decl: []int64{1, 2, dyn, dyn}, run: []int64{1, 2, 11, 8}, build: func(n *net, x string) string {
			return n.conv(n.conv(x, 2, 3, 3, same, s2), 3, 2, 3, same)
		}},
		{name: "Conv stride 2 VALID odd", decl: []int64{1, 1, 9, 8}, build: func(n *net, x string) string {
			return n.conv(x, 1, 2, 3, onnxpb.AttrString("auto_pad", "VALID"), s2)
		}},
		{name: "Conv stride 3 asymmetric pads", decl: []int64{1, 2, 10, 9}, build: func(n *net, x string) string {
			return n.conv(x, 2, 2, 3, onnxpb.AttrInts("pads", 0, 1, 2, 1), onnxpb.AttrInts("strides", 3, 2))
		}},
		{name: "Conv dilation 2", decl: []int64{1, 2, 9, 9}, build: func(n *net, x string) string {
			return n.conv(x, 2, 3, 3, onnxpb.AttrInts("dilations", 2, 2), onnxpb.AttrInts("pads", 2, 1, 1, 2))
		}},
		{name: "Conv dilation 2 stride 2", decl: []int64{1, 2, 9, 8}, build: func(n *net, x string) string {
			return n.conv(x, 2, 3, 3, onnxpb.AttrInts("dilations", 2, 2), onnxpb.AttrInts("pads", 1, 2, 2, 1), s2)
		}},
		{name: "Conv depthwise", decl: []int64{1, 4, 7, 6}, build: func(n *net, x string) string {
			return n.convG(x, 4, 4, 3, 4, same)
		}},
		{name: "Conv depthwise stride 2 SAME_UPPER", decl: []int64{1, 4, 7, 9}, build: func(n *net, x string) string {
			return n.convG(x, 4, 4, 3, 4, same, s2)
		}},
		{name: "Conv grouped", decl: []int64{1, 4, 6, 6}, build: func(n *net, x string) string {
			return n.convG(x, 4, 6, 3, 2, onnxpb.AttrInts("pads", 1, 1, 1, 1))
		}},
		{name: "Conv pointwise", decl: []int64{1, 5, 4, 3}, build: func(n *net, x string) string {
			return n.conv(x, 5, 3, 1)
		}},
		{name: "ConvTranspose stride 2", decl: []int64{1, 3, 4, 5}, build: func(n *net, x string) string {
			w := n.weights(0.5, 3, 2, 3, 3)
			return n.g.Op("ConvTranspose", []string{x, w}, s2, onnxpb.AttrInts("pads", 1, 1, 1, 1), onnxpb.AttrInts("output_padding", 1, 0))
		}},
		{name: "Clip inputs (MobileNet block)", decl: []int64{1, 3, 9, 7}, build: func(n *net, x string) string {
			y := n.g.Op("Clip", []string{n.conv(x, 3, 4, 3, same, s2), n.g.Scalar(0), n.g.Scalar(0.6)})
			y = n.g.Op("Clip", []string{n.convG(y, 4, 4, 3, 4, same), n.g.Scalar(0), n.g.Scalar(0.6)})
			return n.g.Op("Clip", []string{n.conv(y, 4, 5, 1), n.g.Scalar(-0.2), n.g.Scalar(0.3)})
		}},
		{name: "Clip max only", decl: []int64{1, 2, 5, 5}, build: func(n *net, x string) string {
			return n.g.Op("Clip", []string{n.conv(x, 2, 2, 3, same), "", n.g.Scalar(0.2)})
		}},
		{name: "Relu", decl: []int64{1, 2, 6, 6}, build: func(n *net, x string) string {
			return n.conv(n.g.Op("Relu", []string{n.conv(x, 2, 3, 3, same)}), 3, 2, 1)
		}},
		{name: "LeakyRelu", decl: []int64{1, 2, 6, 6}, build: func(n *net, x string) string {
			return n.conv(n.g.Op("LeakyRelu", []string{n.conv(x, 2, 3, 3, same)}, onnxpb.AttrFloat("alpha", 0.2)), 3, 2, 1)
		}},
		{name: "PRelu", decl: []int64{1, 3, 5, 5}, build: func(n *net, x string) string {
			return n.conv(n.g.Op("PRelu", []string{n.conv(x, 3, 3, 3, same), n.weights(0.5, 3, 1, 1)}), 3, 2, 1)
		}},
		{name: "Sigmoid", decl: []int64{1, 2, 5, 5}, build: func(n *net, x string) string {
			return n.g.Op("Sigmoid", []string{n.conv(x, 2, 3, 3, same)})
		}},
		{name: "Tanh", decl: []int64{1, 2, 5, 5}, build: func(n *net, x string) string {
			return n.g.Op("Tanh", []string{n.conv(x, 2, 3, 3, same)})
		}},
		{name: "HardSigmoid", decl: []int64{1, 2, 5, 5}, build: func(n *net, x string) string {
			return n.g.Op("HardSigmoid", []string{n.g.Op("Mul", []string{n.conv(x, 2, 3, 3, same), n.g.Scalar(4)})}, onnxpb.AttrFloat("alpha", 0.25))
		}},
		{name: "HardSwish", decl: []int64{1, 2, 5, 5}, build: func(n *net, x string) string {
			return n.g.Op("HardSwish", []string{n.g.Op("Mul", []string{n.conv(x, 2, 3, 3, same), n.g.Scalar(6)})})
		}},
		{name: "Add Sub broadcast constants", decl: []int64{1, 3, 4, 5}, build: func(n *net, x string) string {
			y := n.g.Op("Add", []string{x, n.weights(1, 3, 1, 1)})
			y = n.g.Op("Sub", []string{n.weights(1, 5), y})
			return n.g.Op("Mul", []string{y, y})
		}},
		{name: "Mul Div broadcast on the path", decl: []int64{1, 3, 4, 5}, build: func(n *net, x string) string {
			pooled := n.g.Op("GlobalAveragePool", []string{x})
			gate := n.g.Op("Add", []string{n.g.Op("Sigmoid", []string{n.conv(pooled, 3, 3, 1)}), n.g.Scalar(0.5)})
			y := n.g.Op("Mul", []string{x, gate})
			return n.g.Op("Div", []string{y, gate})
		}},
		{name: "Mul Div broadcast dynamic size", decl: []int64{1, 3, dyn, dyn}, run: []int64{1, 3, 5, 4}, build: func(n *net, x string) string {
			gate := n.g.Op("Add", []string{n.g.Op("Sigmoid", []string{n.g.Op("GlobalAveragePool", []string{x})}), n.g.Scalar(0.5)})
			y := n.g.Op("Div", []string{n.weights(1, 1, 3, 1, 1), gate})
			return n.g.Op("Mul", []string{n.g.Op("Div", []string{x, gate}), y})
		}},
		{name: "Div by the path", decl: []int64{1, 2, 3, 3}, build: func(n *net, x string) string {
			return n.g.Op("Div", []string{n.weights(1, 2, 1, 1), n.g.Op("Add", []string{n.g.Op("Sigmoid", []string{x}), n.g.Scalar(1)})})
		}},
		{name: "Concat and fan-out", decl: []int64{1, 2, 5, 5}, build: func(n *net, x string) string {
			a := n.conv(x, 2, 3, 3, same)
			c := n.g.Op("Concat", []string{a, n.g.Op("Tanh", []string{x}), n.weights(1, 1, 1, 5, 5)}, onnxpb.AttrInt("axis", 1))
			return n.conv(c, 6, 2, 1)
		}},
		{name: "Split one output used", decl: []int64{1, 4, 4, 4}, build: func(n *net, x string) string {
			n.g.Node("split", "", "Split", []string{x, n.g.Ints(1, 3)}, []string{"s0", "s1"}, onnxpb.AttrInt("axis", 1))
			return n.conv("s1", 3, 2, 3, same)
		}},
		{name: "Split both outputs", decl: []int64{1, 4, 4, 4}, build: func(n *net, x string) string {
			n.g.Node("split", "", "Split", []string{x, n.g.Ints(2, 2)}, []string{"s0", "s1"}, onnxpb.AttrInt("axis", 2))
			return n.g.Op("Mul", []string{"s0", n.g.Op("Tanh", []string{"s1"})})
		}},
		{name: "Transpose NHWC", decl: []int64{1, 6, 5, 3}, build: func(n *net, x string) string {
			return n.conv(n.g.Op("Transpose", []string{x}, onnxpb.AttrInts("perm", 0, 3, 1, 2)), 3, 2, 3, same, s2)
		}},
		{name: "Reshape Flatten", decl: []int64{1, 2, 4, 4}, build: func(n *net, x string) string {
			y := n.g.Op("Reshape", []string{n.conv(x, 2, 2, 3, same), n.g.Ints(1, 4, 2, 4)})
			return n.g.Op("Tanh", []string{n.g.Op("Flatten", []string{y})})
		}},
		{name: "Pad", decl: []int64{1, 2, 4, 5}, build: func(n *net, x string) string {
			y := n.g.Op("Pad", []string{x, n.g.Ints(0, 0, 1, 2, 0, 0, 2, 0), n.g.Scalar(0.5)})
			return n.conv(y, 2, 2, 3)
		}},
		{name: "AveragePool", decl: []int64{1, 2, 7, 6}, build: func(n *net, x string) string {
			y := n.g.Op("AveragePool", []string{n.conv(x, 2, 2, 1)}, onnxpb.AttrInts("kernel_shape", 3, 3), s2, onnxpb.AttrInts("pads", 1, 1, 1, 1))
			return n.g.Op("Mul", []string{y, y})
		}},
		{name: "AveragePool count_include_pad SAME", decl: []int64{1, 2, 7, 6}, build: func(n *net, x string) string {
			return n.g.Op("AveragePool", []string{n.conv(x, 2, 2, 1)}, onnxpb.AttrInts("kernel_shape", 2, 3), same, onnxpb.AttrInt("count_include_pad", 1))
		}},
		{name: "MaxPool overlapping", decl: []int64{2, 2, 7, 6}, build: func(n *net, x string) string {
			return n.g.Op("MaxPool", []string{n.conv(x, 2, 2, 1)}, onnxpb.AttrInts("kernel_shape", 3, 3), s2, onnxpb.AttrInts("pads", 1, 1, 1, 1))
		}},
		{name: "GlobalAveragePool", decl: []int64{1, 3, 5, 4}, build: func(n *net, x string) string {
			return n.g.Op("GlobalAveragePool", []string{n.conv(x, 3, 3, 3, same)})
		}},
		{name: "BatchNormalization", decl: []int64{1, 3, 4, 4}, build: func(n *net, x string) string {
			v := n.g.Const("", []int64{3}, []float32{0.5, 2, 1})
			return n.g.Op("BatchNormalization", []string{n.conv(x, 3, 3, 3, same), n.weights(1, 3), n.weights(1, 3), n.weights(1, 3), v},
				onnxpb.AttrFloat("epsilon", 1e-3))
		}},
		{name: "Resize linear scales", decl: []int64{1, 2, 5, 4}, build: func(n *net, x string) string {
			return n.g.Op("Resize", []string{n.conv(x, 2, 2, 3, same), "", n.g.Const("", []int64{4}, []float32{1, 1, 2, 1.5})}, onnxpb.AttrString("mode", "linear"))
		}},
		{name: "Resize linear sizes align_corners dynamic", decl: []int64{1, 2, dyn, dyn}, run: []int64{1, 2, 6, 5}, build: func(n *net, x string) string {
			return n.g.Op("Resize", []string{x, "", "", n.g.Ints(1, 2, 9, 11)}, onnxpb.AttrString("mode", "linear"),
				onnxpb.AttrString("coordinate_transformation_mode", "align_corners"))
		}},
		{name: "LRN odd", decl: []int64{1, 5, 3, 3}, build: func(n *net, x string) string {
			return n.g.Op("LRN", []string{n.conv(x, 5, 5, 1)}, onnxpb.AttrInt("size", 3), onnxpb.AttrFloat("alpha", 0.5), onnxpb.AttrFloat("beta", 0.75), onnxpb.AttrFloat("bias", 1))
		}},
		{name: "LRN size 5", decl: []int64{1, 6, 2, 3}, build: func(n *net, x string) string {
			// ONNX Runtime refuses even sizes.
			return n.g.Op("LRN", []string{x}, onnxpb.AttrInt("size", 5), onnxpb.AttrFloat("alpha", 0.8), onnxpb.AttrFloat("beta", 0.6), onnxpb.AttrFloat("bias", 2))
		}},
		{name: "Identity fan-out", decl: []int64{1, 2, 4, 4}, build: func(n *net, x string) string {
			i := n.g.Op("Identity", []string{x})
			return n.g.Op("Add", []string{n.conv(i, 2, 2, 3, same), n.g.Op("Mul", []string{i, x})})
		}},
		{name: "channels axis 1", decl: []int64{1, 2, 5, 5}, channels: []int64{0, 3}, axis: 1, build: func(n *net, x string) string {
			return n.conv(x, 2, 4, 3, same)
		}},
		{name: "channels axis -1 NHWC", decl: []int64{1, 5, 5, 2}, channels: []int64{2}, axis: -1, build: func(n *net, x string) string {
			return n.g.Op("Transpose", []string{n.conv(n.g.Op("Transpose", []string{x}, onnxpb.AttrInts("perm", 0, 3, 1, 2)), 2, 4, 3, same)},
				onnxpb.AttrInts("perm", 0, 2, 3, 1))
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkGradient(t, c) })
		// Options.Shape takes other paths: static SAME pads, transposed
		// convolutions cropped by their own pads, a constant 2/N.
		c.static = true
		t.Run(c.name+"/static", func(t *testing.T) { checkGradient(t, c) })
	}
}

// The Step output is x + step·g/(mean|g| + 1e-8), with g the Gradient output.
func TestStep(t *testing.T) {
	g := onnxpb.NewGraph("step")
	n := &net{g: g, r: rand.New(rand.NewSource(3))}
	x := g.Input("x", onnxpb.Float, 1, 3, dyn, dyn)
	layer := g.Op("Clip", []string{n.conv(x, 3, 4, 3, onnxpb.AttrString("auto_pad", "SAME_UPPER"), onnxpb.AttrInts("strides", 2, 2)), g.Scalar(0), g.Scalar(6)})
	g.OutputInfo(layer, onnxpb.Float, nil, nil)
	model := g.Model("test", "1")
	gradModel, err := Build(model, Options{Layer: layer})
	if err != nil {
		t.Fatal(err)
	}
	stepModel, err := Build(model, Options{Layer: layer, Output: Step})
	if err != nil {
		t.Fatal(err)
	}
	dims := []int64{1, 3, 7, 9}
	img := make([]float32, 3*7*9)
	for i := range img {
		img[i] = 2*n.r.Float32() - 1
	}
	const step = 0.3
	gs := newSession(t, gradModel, []string{"x"}, []string{ObjectiveName, GradientName})
	gout, _ := gs.run(t, tensorIn{dims, img})
	ss := newSession(t, stepModel, []string{"x", StepName}, []string{ObjectiveName, SteppedName})
	sout, shapes := ss.run(t, tensorIn{dims, img}, tensorIn{[]int64{1}, []float32{step}})
	if len(sout[1]) != len(img) || len(shapes[1]) != 4 || shapes[1][3] != 9 {
		t.Fatalf("stepped shape %v", shapes[1])
	}
	if sout[0][0] != gout[0][0] {
		t.Errorf("objective %g in Step, %g in Gradient", sout[0][0], gout[0][0])
	}
	mean := 0.0
	for _, v := range gout[1] {
		if v < 0 {
			v = -v
		}
		mean += float64(v)
	}
	mean /= float64(len(img))
	if mean == 0 {
		t.Fatal("the gradient is zero")
	}
	moved := 0
	for i, v := range img {
		want := float64(v) + step*float64(gout[1][i])/(mean+stepEpsilon)
		if d := float64(sout[1][i]) - want; d > 1e-5 || d < -1e-5 {
			t.Errorf("element %d: stepped %g, want %g", i, sout[1][i], want)
			break
		}
		if sout[1][i] != v {
			moved++
		}
	}
	if moved == 0 {
		t.Error("the step moved nothing")
	}
}

func TestErrors(t *testing.T) {
	g := onnxpb.NewGraph("errors")
	x := g.Input("x", onnxpb.Float, 1, 4, 3, 3)
	y := g.Op("Relu", []string{x})
	g.Node("foo", "", "Gather", []string{y, g.Ints(0, 2)}, []string{"gathered"}, onnxpb.AttrInt("axis", 1))
	g.OpTo("X", "Tanh", []string{"gathered"})
	g.OutputInfo("X", onnxpb.Float, nil, nil)
	model := g.Model("test", "1")
	for _, tc := range []struct {
		opts Options
		want []string
	}{
		{Options{Layer: "X"}, []string{`grad: node "foo" (op Gather) on the path to layer "X" cannot be differentiated`}},
		{Options{Layer: "nope"}, []string{`layer "nope" is not in the graph`, `"X"`, `"gathered"`}},
		{Options{Layer: y, Input: "image"}, []string{`no input "image"`, "x"}},
		{Options{Layer: y, Channels: []int64{1}}, []string{"ChannelAxis"}},
		{Options{Layer: y, Channels: []int64{7}, ChannelAxis: 1}, []string{"channel 7 is out of range", "4 channels"}},
		{Options{Layer: y, Shape: []int64{1, 4, 3}}, []string{"Options.Shape [1 4 3] has rank 3", `input "x" has rank 4`}},
		{Options{Layer: y, Shape: []int64{1, 4, 0, 3}}, []string{"dimension 2 is not positive"}},
		{Options{Layer: y, Shape: []int64{1, 5, 3, 3}}, []string{"dimension 1 is fixed at 4"}},
	} {
		_, err := Build(model, tc.opts)
		if err == nil {
			t.Errorf("%+v: no error", tc.opts)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%+v: error %q does not contain %q", tc.opts, err, w)
			}
		}
	}
	if _, err := Build([]byte("garbage"), Options{Layer: "X"}); err == nil {
		t.Error("garbage model: no error")
	}
}

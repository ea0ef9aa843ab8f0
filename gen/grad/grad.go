// Package grad differentiates ONNX graphs in reverse mode. Build takes a model
// and a layer and writes one ONNX graph that runs the model up to that layer
// and back again, returning the gradient of the layer's activation energy
// with respect to the input image (or the image after one normalised gradient
// step): what DeepDream needs, from a runtime that only runs inference.
package grad

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"reverie/gen/onnxpb"
)

// Output chooses what the built graph returns beside the objective.
type Output int

const (
	// Gradient returns d objective / d image, shaped as the image input.
	Gradient Output = iota
	// Step returns image + step * g / (mean|g| + 1e-8), taking step as a
	// [1]-shaped float input named StepName.
	Step
)

// Names of the built graph's inputs and outputs besides the image input.
const (
	ObjectiveName = "objective" // [1] float: the mean square of the layer (or channels)
	GradientName  = "gradient"  // Output Gradient: same shape as the image
	SteppedName   = "stepped"   // Output Step: same shape as the image
	StepName      = "step"      // Output Step: [1] float input, the step size
)

// stepEpsilon keeps the normalisation finite where the gradient vanishes.
const stepEpsilon = 1e-8

// Options says what to differentiate.
type Options struct {
	// Input is the image input's name; "" means the model's first input.
	Input string
	// Layer is the tensor whose energy is the objective: any node output.
	Layer string
	// Channels, when not empty, restricts the objective to these indices
	// along ChannelAxis. Empty means every element of the layer.
	Channels []int64
	// ChannelAxis is the axis Channels index: 1 for NCHW (what conv nets use
	// inside), -1 for NHWC. Required with Channels: 0 (the batch) is refused.
	ChannelAxis int
	// Output selects Gradient or Step.
	Output Output
	// Shape, when not nil, fixes the image input's dimensions in the built
	// graph (for PoseNet at 256×144: 1, 144, 256, 3), which then runs at that
	// size only. With every size known, Build computes SAME padding itself
	// and crops each transposed convolution by its own pads, so the graph has
	// no Slice and no shape arithmetic, and ONNX Runtime plans every buffer
	// ahead. Nil keeps the model's own (possibly dynamic) dimensions.
	Shape []int64
}

// minOpset is the oldest ONNX opset Build rewrites: ReduceSum takes its axes
// as an input from 13 on, and the built graph keeps the model's opset.
const minOpset = 13

// Build reads model and returns the gradient graph described by opts, as a
// serialised ModelProto for ONNX Runtime. Its inputs are the image input, any
// other input the layer depends on, and (Output Step) StepName; its outputs
// are ObjectiveName and GradientName or SteppedName.
func Build(model []byte, opts Options) ([]byte, error) {
	m, err := onnxpb.Read(model)
	if err != nil {
		return nil, fmt.Errorf("grad: %w", err)
	}
	b, err := newBuilder(m, opts)
	if err != nil {
		return nil, err
	}
	if err := b.build(); err != nil {
		return nil, err
	}
	return b.g.Model("reverie-grad", "1"), nil
}

// builder holds one Build's state.
type builder struct {
	m      *onnxpb.Model
	opts   Options
	opset  int64
	input  string
	layer  string
	g      *onnxpb.Graph
	nodes  []*onnxpb.Node // the pruned forward graph, in model order
	consts map[string]*onnxpb.Tensor
	inits  map[string]*onnxpb.Tensor
	inputs map[string]*onnxpb.ValueInfo
	shapes map[string][]int64 // nil: rank unknown; -1: dim unknown
	diff   map[string]bool    // depends differentiably on the image
	used   map[string]bool    // every name in the model and the built graph
	grads  map[string][]string
	cache  map[string]string // emitted helper values, by a key of what they are
	next   int
}

func newBuilder(m *onnxpb.Model, opts Options) (*builder, error) {
	b := &builder{m: m, opts: opts, opset: m.Opset(""),
		consts: map[string]*onnxpb.Tensor{}, inits: map[string]*onnxpb.Tensor{},
		inputs: map[string]*onnxpb.ValueInfo{}, shapes: map[string][]int64{},
		diff: map[string]bool{}, used: map[string]bool{}, grads: map[string][]string{},
		cache: map[string]string{}}
	if b.opset < minOpset {
		return nil, fmt.Errorf("grad: the model imports ONNX opset %d; differentiating needs opset %d or newer (re-export the model with a newer opset)", b.opset, minOpset)
	}
	gr := &m.Graph
	for i := range gr.Initializers {
		t := &gr.Initializers[i]
		b.inits[t.Name] = t
		b.consts[t.Name] = t
		b.used[t.Name] = true
		b.shapes[t.Name] = append([]int64{}, t.Dims...)
	}
	for i := range gr.Inputs {
		vi := &gr.Inputs[i]
		b.used[vi.Name] = true
		if _, isInit := b.inits[vi.Name]; isInit {
			continue // old exporters list initializers as inputs too
		}
		b.inputs[vi.Name] = vi
		if b.input == "" && opts.Input == "" {
			b.input = vi.Name
		}
		if vi.HasShape {
			b.shapes[vi.Name] = append([]int64{}, vi.Dims...)
		}
	}
	if opts.Input != "" {
		if _, ok := b.inputs[opts.Input]; !ok {
			var names []string
			for n := range b.inputs {
				names = append(names, n)
			}
			sort.Strings(names)
			return nil, fmt.Errorf("grad: the model has no input %q (its inputs: %s)", opts.Input, strings.Join(names, ", "))
		}
		b.input = opts.Input
	}
	if b.input == "" {
		return nil, errors.New("grad: the model has no inputs")
	}
	for _, n := range gr.Nodes {
		for _, s := range append(append([]string{}, n.Inputs...), n.Outputs...) {
			b.used[s] = true
		}
	}
	for i := range gr.Nodes {
		n := &gr.Nodes[i]
		if n.OpType == "Constant" && n.Domain == "" && len(n.Outputs) == 1 {
			if a, ok := n.Attr("value"); ok && a.T != nil {
				b.consts[n.Outputs[0]] = a.T
			}
		}
	}
	if opts.Shape != nil {
		vi := b.inputs[b.input]
		if vi.HasShape && len(vi.Dims) != len(opts.Shape) {
			return nil, fmt.Errorf("grad: Options.Shape %v has rank %d; input %q has rank %d %v", opts.Shape, len(opts.Shape), b.input, len(vi.Dims), vi.Dims)
		}
		for i, d := range opts.Shape {
			if d <= 0 {
				return nil, fmt.Errorf("grad: Options.Shape %v: dimension %d is not positive", opts.Shape, i)
			}
			if vi.HasShape && vi.Dims[i] >= 0 && vi.Dims[i] != d {
				return nil, fmt.Errorf("grad: Options.Shape %v: dimension %d is fixed at %d by input %q", opts.Shape, i, vi.Dims[i], b.input)
			}
		}
		b.shapes[b.input] = append([]int64{}, opts.Shape...)
	}
	b.layer = opts.Layer
	if len(opts.Channels) > 0 && opts.ChannelAxis == 0 {
		return nil, errors.New("grad: Options.Channels needs ChannelAxis (1 for NCHW, -1 for NHWC); axis 0 is the batch")
	}
	return b, nil
}

// name returns a fresh value name that collides with nothing in the model.
func (b *builder) name(prefix string) string {
	for {
		b.next++
		s := fmt.Sprintf("grad/%s_%d", prefix, b.next)
		if !b.used[s] {
			b.used[s] = true
			return s
		}
	}
}

// op emits a backward node with one output.
func (b *builder) op(opType string, inputs []string, attrs ...onnxpb.Attr) string {
	out := b.name(opType)
	b.g.Node(out, "", opType, inputs, []string{out}, attrs...)
	return out
}

// opN emits a backward node with n outputs.
func (b *builder) opN(opType string, inputs []string, n int, attrs ...onnxpb.Attr) []string {
	outs := make([]string, n)
	for i := range outs {
		outs[i] = b.name(opType)
	}
	b.g.Node(outs[0], "", opType, inputs, outs, attrs...)
	return outs
}

// ints is a 1-D int64 constant, shared between uses.
func (b *builder) ints(v ...int64) string {
	key := fmt.Sprint("ints", v)
	if s, ok := b.cache[key]; ok {
		return s
	}
	raw := make([]byte, 0, 8*len(v))
	for _, x := range v {
		raw = binary.LittleEndian.AppendUint64(raw, uint64(x))
	}
	s := b.name("ints")
	b.g.Initializer(s, onnxpb.Int64, []int64{int64(len(v))}, raw)
	b.cache[key] = s
	return s
}

// floats is a float32 constant of the given shape, shared when scalar-like.
func (b *builder) floats(dims []int64, v ...float32) string {
	key := ""
	if len(v) <= 8 {
		key = fmt.Sprint("floats", dims, v)
		if s, ok := b.cache[key]; ok {
			return s
		}
	}
	raw := make([]byte, 0, 4*len(v))
	for _, x := range v {
		raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(x))
	}
	s := b.name("const")
	b.g.Initializer(s, onnxpb.Float, dims, raw)
	if key != "" {
		b.cache[key] = s
	}
	return s
}

// scalar is a [1]-shaped float constant; [1] broadcasts against anything.
func (b *builder) scalar(v float32) string { return b.floats([]int64{1}, v) }

// shape is Shape(x), emitted once per tensor.
func (b *builder) shape(x string) string {
	key := "shape " + x
	if s, ok := b.cache[key]; ok {
		return s
	}
	s := b.op("Shape", []string{x})
	b.cache[key] = s
	return s
}

// shapeSlice is Shape(x)[from:to] as a 1-D int64 tensor.
func (b *builder) shapeSlice(x string, from, to int) string {
	key := fmt.Sprintf("shape %s %d:%d", x, from, to)
	if s, ok := b.cache[key]; ok {
		return s
	}
	s := b.op("Slice", []string{b.shape(x), b.ints(int64(from)), b.ints(int64(to)), b.ints(0)})
	b.cache[key] = s
	return s
}

func floatTensor(v float32) onnxpb.Tensor {
	return onnxpb.Tensor{DataType: onnxpb.Float, Dims: []int64{1}, Raw: binary.LittleEndian.AppendUint32(nil, math.Float32bits(v))}
}

// zerosLike is a float tensor of zeros shaped as x.
func (b *builder) zerosLike(x string) string {
	return b.op("ConstantOfShape", []string{b.shape(x)}, onnxpb.AttrTensor("value", floatTensor(0)))
}

// constInts is a constant integer tensor's values.
func (b *builder) constInts(name string) ([]int64, bool) {
	t, ok := b.consts[name]
	if !ok || name == "" {
		return nil, false
	}
	v, err := t.Int64s()
	return v, err == nil
}

// constFloats is a constant float tensor's values.
func (b *builder) constFloats(name string) ([]float32, bool) {
	t, ok := b.consts[name]
	if !ok || name == "" {
		return nil, false
	}
	v, err := t.Floats()
	return v, err == nil
}

// nodeErr is an error about one node on the path to the layer.
func (b *builder) nodeErr(n *onnxpb.Node, format string, args ...any) error {
	return fmt.Errorf("grad: node %q (op %s) on the path to layer %q: %s", nodeName(n), n.OpType, b.layer, fmt.Sprintf(format, args...))
}

func nodeName(n *onnxpb.Node) string {
	if n.Name != "" {
		return n.Name
	}
	if len(n.Outputs) > 0 {
		return n.Outputs[0]
	}
	return "?"
}

func (b *builder) build() error {
	gr := &b.m.Graph
	producer := map[string]int{}
	for i, n := range gr.Nodes {
		for _, o := range n.Outputs {
			if o != "" {
				producer[o] = i
			}
		}
	}
	if b.layer == b.input {
		return fmt.Errorf("grad: layer %q is the image input itself; choose a layer inside the network", b.layer)
	}
	if _, ok := producer[b.layer]; !ok {
		return fmt.Errorf("grad: layer %q is not in the graph; layers look like: %s", b.layer, strings.Join(b.sampleLayers(producer), ", "))
	}

	// Keep only what the layer depends on.
	keep := make([]bool, len(gr.Nodes))
	stack := []string{b.layer}
	seen := map[string]bool{b.layer: true}
	for len(stack) > 0 {
		t := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		i, ok := producer[t]
		if !ok || keep[i] {
			continue
		}
		keep[i] = true
		for _, in := range gr.Nodes[i].Inputs {
			if in != "" && !seen[in] {
				seen[in] = true
				stack = append(stack, in)
			}
		}
	}
	for i := range gr.Nodes {
		if keep[i] {
			b.nodes = append(b.nodes, &gr.Nodes[i])
		}
	}

	// Which values carry a gradient back to the image, checked in model
	// order (ONNX requires nodes sorted topologically).
	b.diff[b.input] = true
	for _, n := range b.nodes {
		pos, known := diffInputs(n)
		for i, in := range n.Inputs {
			if in == "" || !b.diff[in] {
				continue
			}
			if !known {
				return fmt.Errorf("grad: node %q (op %s) on the path to layer %q cannot be differentiated", nodeName(n), n.OpType, b.layer)
			}
			if !contains(pos, i) {
				return b.nodeErr(n, "its input %d (%q) depends on the image, but only its data input can be differentiated", i, in)
			}
			if !noGradient[n.OpType] {
				for _, o := range n.Outputs {
					b.diff[o] = true
				}
			}
		}
	}
	if !b.diff[b.layer] {
		return fmt.Errorf("grad: layer %q does not depend on the image input %q", b.layer, b.input)
	}
	for _, n := range b.nodes {
		b.infer(n)
	}

	b.g = onnxpb.NewGraph("grad")
	var opsets []onnxpb.OpsetID
	for _, o := range b.m.Opsets {
		opsets = append(opsets, o)
	}
	ir := b.m.IRVersion
	if ir < onnxpb.IRVersion {
		ir = onnxpb.IRVersion
	}
	b.g.SetOpsets(ir, opsets...)
	for _, kv := range b.m.Metadata {
		b.g.Metadata(kv[0], kv[1])
	}
	for u := range b.used {
		b.g.Reserve(u)
	}
	// Inputs and initializers the pruned graph reads.
	reads := map[string]bool{b.input: true}
	for _, n := range b.nodes {
		for _, in := range n.Inputs {
			reads[in] = true
		}
	}
	for _, vi := range gr.Inputs {
		if _, isInit := b.inits[vi.Name]; reads[vi.Name] && !isInit {
			if vi.Name == b.input && b.opts.Shape != nil {
				b.g.InputInfo(vi.Name, vi.ElemType, b.opts.Shape, nil)
				continue
			}
			b.g.InputInfo(vi.Name, vi.ElemType, dimsOrNil(vi), vi.DimParams)
		}
	}
	if b.opts.Output == Step {
		b.g.Input(StepName, onnxpb.Float, 1)
	}
	for _, t := range gr.Initializers {
		if reads[t.Name] {
			b.g.Initializer(t.Name, t.DataType, t.Dims, t.Raw)
		}
	}

	// MaxPool's backward needs the argmax indices from the forward pass.
	indices := map[*onnxpb.Node]string{}
	for _, n := range b.nodes {
		if n.OpType == "MaxPool" && b.diff[n.Input(0)] {
			if len(n.Outputs) > 1 && n.Outputs[1] != "" {
				indices[n] = n.Outputs[1]
			} else {
				indices[n] = b.name("MaxPool_indices")
			}
		}
	}
	for _, n := range b.nodes {
		attrs := make([]onnxpb.Attr, len(n.Attrs))
		for i, a := range n.Attrs {
			attrs[i] = a.Attr()
		}
		outs := n.Outputs
		if idx, ok := indices[n]; ok && (len(outs) < 2 || outs[1] == "") {
			outs = []string{outs[0], idx}
		}
		b.g.Node(n.Name, n.Domain, n.OpType, n.Inputs, outs, attrs...)
	}

	objective, gy, scale, err := b.objective()
	if err != nil {
		return err
	}
	b.grads[b.layer] = []string{gy}
	for i := len(b.nodes) - 1; i >= 0; i-- {
		n := b.nodes[i]
		gys := make([]string, len(n.Outputs))
		has := false
		for j, o := range n.Outputs {
			if gys[j] = b.grad(o); gys[j] != "" {
				has = true
			}
		}
		if !has {
			continue
		}
		if err := b.backward(n, gys, indices[n]); err != nil {
			return err
		}
	}
	gx := b.grad(b.input)
	if gx == "" {
		return fmt.Errorf("grad: no gradient reaches the image input %q from layer %q", b.input, b.layer)
	}
	// Every backward op is linear in the gradient, so the objective's
	// constant factor scale is applied once here, at the image.
	in := b.inputs[b.input]
	b.g.Node(ObjectiveName, "", "Identity", []string{objective}, []string{ObjectiveName})
	b.g.Output(ObjectiveName, onnxpb.Float, 1)
	switch b.opts.Output {
	case Gradient:
		b.g.Node(GradientName, "", "Mul", []string{gx, scale}, []string{GradientName})
		b.g.OutputInfo(GradientName, onnxpb.Float, b.inputDims(in), in.DimParams)
	case Step:
		// g·c/(mean|g·c| + ε) = g/(mean|g| + ε/c): the factor c moves onto
		// ε, a [1] tensor, and the image-sized Mul by c is saved.
		mean := b.op("ReduceMean", []string{b.op("Abs", []string{gx})}, onnxpb.AttrInt("keepdims", 0))
		eps := b.op("Div", []string{b.scalar(stepEpsilon), scale})
		step := b.op("Div", []string{StepName, b.op("Add", []string{mean, eps})})
		b.g.Node(SteppedName, "", "Add", []string{b.input, b.op("Mul", []string{gx, step})}, []string{SteppedName})
		b.g.OutputInfo(SteppedName, onnxpb.Float, b.inputDims(in), in.DimParams)
	default:
		return fmt.Errorf("grad: unknown Options.Output %d", b.opts.Output)
	}
	return nil
}

// inputDims is the image input's dims as the built graph declares them.
func (b *builder) inputDims(vi *onnxpb.ValueInfo) []int64 {
	if b.opts.Shape != nil {
		return b.opts.Shape
	}
	return dimsOrNil(*vi)
}

func dimsOrNil(vi onnxpb.ValueInfo) []int64 {
	if !vi.HasShape {
		return nil
	}
	return vi.Dims
}

// sampleLayers names a few node outputs that depend on the image, spread
// over the network, for an error message.
func (b *builder) sampleLayers(producer map[string]int) []string {
	dep := map[string]bool{b.input: true}
	var names []string
	for _, n := range b.m.Graph.Nodes {
		for _, in := range n.Inputs {
			if dep[in] {
				for _, o := range n.Outputs {
					dep[o] = true
				}
				if len(n.Outputs) > 0 && n.Outputs[0] != "" {
					names = append(names, fmt.Sprintf("%q", n.Outputs[0]))
				}
				break
			}
		}
	}
	if len(names) <= 6 {
		return names
	}
	out := make([]string, 0, 6)
	for i := 0; i < 6; i++ {
		out = append(out, names[i*(len(names)-1)/5])
	}
	return out
}

// grad is the summed gradient of a value, "" when none reaches it.
func (b *builder) grad(t string) string {
	gs := b.grads[t]
	switch len(gs) {
	case 0:
		return ""
	case 1:
		return gs[0]
	}
	s := b.op("Sum", gs)
	b.grads[t] = []string{s}
	return s
}

func (b *builder) addGrad(t, g string) {
	if t != "" && g != "" && b.diff[t] {
		b.grads[t] = append(b.grads[t], g)
	}
}

// objective emits the mean square of the layer (or of its chosen channels),
// the gradient to start the backward pass from, and the factor that turns
// the gradient at the image into the objective's. The backward pass starts
// from the layer itself (y, not 2y/N), which needs no op of its own; the
// factor 2/N is applied once at the image (Gradient) or folded into ε (Step).
func (b *builder) objective() (obj, gy, scale string, err error) {
	y := b.layer
	if len(b.opts.Channels) == 0 {
		obj = b.op("ReduceMean", []string{b.op("Mul", []string{y, y})}, onnxpb.AttrInt("keepdims", 0))
		return b.op("Reshape", []string{obj, b.ints(1)}), y, b.twoOverSize(y, ""), nil
	}
	axis := b.opts.ChannelAxis
	rank := len(b.shapes[y])
	if axis > 0 {
		if b.shapes[y] == nil {
			return "", "", "", fmt.Errorf("grad: the rank of layer %q is unknown, so ChannelAxis %d cannot be placed; use a negative axis", y, axis)
		}
		if axis >= rank {
			return "", "", "", fmt.Errorf("grad: ChannelAxis %d is out of range for layer %q of rank %d", axis, y, rank)
		}
	}
	chans := dedupe(b.opts.Channels)
	if s := b.shapes[y]; s != nil {
		ax := axis
		if ax < 0 {
			ax += rank
		}
		if ax < 0 || ax >= rank {
			return "", "", "", fmt.Errorf("grad: ChannelAxis %d is out of range for layer %q of rank %d", axis, y, rank)
		}
		if c := s[ax]; c > 0 {
			for _, ch := range chans {
				if ch < 0 || ch >= c {
					return "", "", "", fmt.Errorf("grad: channel %d is out of range: layer %q has %d channels on axis %d", ch, y, c, axis)
				}
			}
		}
	}
	idx := b.ints(chans...)
	sel := b.op("Gather", []string{y, idx}, onnxpb.AttrInt("axis", int64(axis)))
	obj = b.op("ReduceMean", []string{b.op("Mul", []string{sel, sel})}, onnxpb.AttrInt("keepdims", 0))
	// A 0/1 mask over the channel axis, laid out to broadcast from the right.
	ones := make([]float32, len(chans))
	for i := range ones {
		ones[i] = 1
	}
	c := b.op("Gather", []string{b.shape(y), b.ints(int64(axis))})
	mask := b.op("ScatterElements", []string{b.op("ConstantOfShape", []string{c}, onnxpb.AttrTensor("value", floatTensor(0))), idx, b.floats([]int64{int64(len(ones))}, ones...)})
	trailing := -axis - 1
	if axis > 0 {
		trailing = rank - 1 - axis
	}
	dims := []int64{-1}
	for i := 0; i < trailing; i++ {
		dims = append(dims, 1)
	}
	mask = b.op("Reshape", []string{mask, b.ints(dims...)})
	return b.op("Reshape", []string{obj, b.ints(1)}), b.op("Mul", []string{y, mask}), b.twoOverSize(y, sel), nil
}

// twoOverSize is 2/N, N the number of elements the mean square averages:
// those of y, or of sel when only some channels count. A constant when y's
// shape is static.
func (b *builder) twoOverSize(y, sel string) string {
	if n, ok := b.staticSize(y); ok {
		if sel != "" {
			if s := b.shapes[y]; s != nil {
				ax := b.opts.ChannelAxis
				if ax < 0 {
					ax += len(s)
				}
				n = n / s[ax] * int64(len(dedupe(b.opts.Channels)))
			}
		}
		return b.scalar(float32(2 / float64(n)))
	}
	v := y
	if sel != "" {
		v = sel
	}
	return b.op("Div", []string{b.scalar(2), b.op("Cast", []string{b.op("Size", []string{v})}, onnxpb.AttrInt("to", int64(onnxpb.Float)))})
}

// staticSize is the element count of x when its shape is fully known.
func (b *builder) staticSize(x string) (int64, bool) {
	s := b.shapes[x]
	if s == nil {
		return 0, false
	}
	n := int64(1)
	for _, d := range s {
		if d < 0 {
			return 0, false
		}
		n *= d
	}
	return n, true
}

func dedupe(v []int64) []int64 {
	seen := map[int64]bool{}
	var out []int64
	for _, x := range v {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

func contains(v []int, x int) bool {
	for _, y := range v {
		if y == x {
			return true
		}
	}
	return false
}

package tfjs

import (
	"fmt"
	"strings"

	"reverie/gen/onnxpb"
)

// elementwise maps TF's unary and binary element-wise ops to ONNX.
var (
	unaryOps = map[string]string{
		"Relu": "Relu", "Sigmoid": "Sigmoid", "Tanh": "Tanh", "Elu": "Elu", "Neg": "Neg",
		"Exp": "Exp", "Abs": "Abs", "Sqrt": "Sqrt", "Reciprocal": "Reciprocal",
	}
	binaryOps = map[string]string{
		"Add": "Add", "AddV2": "Add", "BiasAdd": "Add", "Sub": "Sub", "Mul": "Mul",
		"RealDiv": "Div", "Div": "Div", "Maximum": "Max", "Minimum": "Min",
	}
)

func (c *converter) convert(n *Node) error {
	if n.Op == "Const" {
		t, ok := c.m.Weights[n.Name]
		if !ok {
			return c.errorf("the weights manifest has no value for this constant")
		}
		c.vals[n.Name] = &value{rank: len(t.Shape), konst: t}
		return nil
	}
	ins := make([]*value, 0, len(n.Input))
	for _, in := range n.Input {
		if strings.HasPrefix(in, "^") {
			continue
		}
		v, err := c.lookup(in)
		if err != nil {
			return c.errorf("input %q: %v", in, err)
		}
		ins = append(ins, v)
	}
	need := func(k int) error {
		if len(ins) < k {
			return c.errorf("expected %d inputs, got %d", k, len(ins))
		}
		return nil
	}
	if err := need(1); err != nil {
		return err
	}
	switch {
	case n.Op == "Identity":
		c.vals[n.Name] = ins[0]
		return nil
	case unaryOps[n.Op] != "":
		return c.activation(n.Op, ins[0], n.Name, nil)
	case n.Op == "Relu6" || n.Op == "LeakyRelu":
		return c.activation(n.Op, ins[0], n.Name, nil)
	case binaryOps[n.Op] != "":
		if err := need(2); err != nil {
			return err
		}
		a, b := c.operands(ins[0], ins[1])
		c.g.OpTo(n.Name, binaryOps[n.Op], []string{a, b})
		c.vals[n.Name] = &value{name: n.Name, rank: max(ins[0].rank, ins[1].rank), nchw: ins[0].nchw || ins[1].nchw}
		return nil
	case n.Op == "AddN":
		names := make([]string, len(ins))
		nchw := false
		for _, v := range ins {
			nchw = nchw || v.nchw
		}
		for i, v := range ins {
			if v.konst != nil {
				return c.errorf("constant operands of AddN are not supported")
			}
			if v.nchw != nchw {
				return c.errorf("operands in different layouts")
			}
			names[i] = v.name
		}
		c.g.OpTo(n.Name, "Sum", names)
		c.vals[n.Name] = &value{name: n.Name, rank: ins[0].rank, nchw: nchw}
		return nil
	case n.Op == "Conv2D" || n.Op == "_FusedConv2D":
		return c.conv(n, ins, false)
	case n.Op == "DepthwiseConv2dNative" || n.Op == "FusedDepthwiseConv2dNative":
		return c.conv(n, ins, true)
	case n.Op == "Conv2DBackpropInput":
		return c.convTranspose(n, ins)
	case n.Op == "AvgPool" || n.Op == "MaxPool":
		return c.pool(n, ins[0])
	case n.Op == "ResizeBilinear":
		return c.resize(n, ins)
	case n.Op == "ConcatV2":
		return c.concat(n, ins)
	}
	return fmt.Errorf("tfjs model %s: node %q: op %s is not supported by reverie's converter (supported: %s)", c.m.Path, n.Name, n.Op, strings.Join(Supported(), ", "))
}

// Supported lists the TF ops Convert handles.
func Supported() []string {
	ops := []string{"Const", "Placeholder", "Identity", "Relu6", "LeakyRelu", "AddN", "Conv2D", "_FusedConv2D",
		"DepthwiseConv2dNative", "FusedDepthwiseConv2dNative", "Conv2DBackpropInput", "AvgPool", "MaxPool",
		"ResizeBilinear", "ConcatV2"}
	for k := range unaryOps {
		ops = append(ops, k)
	}
	for k := range binaryOps {
		ops = append(ops, k)
	}
	sortStrings(ops)
	return ops
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// operands returns the ONNX names of a binary op's inputs, bringing a
// constant into the NCHW layout of its activation partner.
func (c *converter) operands(a, b *value) (string, string) {
	nchw := a.nchw || b.nchw
	return c.operand(a, nchw), c.operand(b, nchw)
}

func (c *converter) operand(v *value, nchw bool) string {
	if v.konst == nil || !nchw || v.konst.Len() == 1 || len(v.konst.Shape) > 4 {
		return c.emit(v)
	}
	// NumPy broadcasting aligns shapes at the right: pad to NHWC, then permute.
	s := append(make([]int64, 4-len(v.konst.Shape)), v.konst.Shape...)
	for i := range s[:4-len(v.konst.Shape)] {
		s[i] = 1
	}
	t := &Tensor{Name: v.konst.Name, DType: v.konst.DType, Shape: s, Floats: v.konst.Floats, Ints: v.konst.Ints}
	return c.constant(t, "nchw", []int64{s[0], s[3], s[1], s[2]}, []int{0, 3, 1, 2})
}

// scalar writes a rank-0 float constant once (Clip wants rank-0 bounds).
func (c *converter) scalar(v float32) string {
	key := fmt.Sprintf("scalar %g", v)
	if name, ok := c.consts[key]; ok {
		return name
	}
	name := c.g.Const(fmt.Sprintf("const/%g", v), []int64{}, []float32{v})
	c.consts[key] = name
	return name
}

// activation writes one activation of x into out.
func (c *converter) activation(op string, x *value, out string, alpha *value) error {
	in := c.emit(x)
	switch op {
	case "Relu6":
		c.g.OpTo(out, "Clip", []string{in, c.scalar(0), c.scalar(6)})
	case "LeakyRelu":
		a := float32(0.2) // TF's default
		if f := c.node.Attr["alpha"].F; f != nil {
			a = float32(*f)
		}
		if f := c.node.Attr["leakyrelu_alpha"].F; f != nil {
			a = float32(*f)
		}
		c.g.OpTo(out, "LeakyRelu", []string{in}, onnxpb.AttrFloat("alpha", a))
	case "Prelu":
		if alpha == nil {
			return c.errorf("Prelu needs its alpha input")
		}
		c.g.OpTo(out, "PRelu", []string{in, c.operand(alpha, x.nchw)})
	default:
		onnx := unaryOps[op]
		if onnx == "" {
			return c.errorf("fused activation %s is not supported (supported: Relu, Relu6, LeakyRelu, Prelu, Sigmoid, Tanh, Elu)", op)
		}
		c.g.OpTo(out, onnx, []string{in})
	}
	c.vals[c.node.Name] = &value{name: out, rank: x.rank, nchw: x.nchw}
	return nil
}

// spatial reads an NHWC four-element attribute (strides, dilations, ksize)
// as its H and W values.
func (c *converter) spatial(key string, def int64) ([]int64, error) {
	v := c.node.Attr[key].ints()
	if v == nil {
		return []int64{def, def}, nil
	}
	if len(v) != 4 || v[0] != 1 || v[3] != 1 {
		return nil, c.errorf("%s %v: expected [1, h, w, 1]", key, v)
	}
	if v[1] < 1 || v[2] < 1 {
		return nil, c.errorf("%s %v: expected positive sizes", key, v)
	}
	return []int64{v[1], v[2]}, nil
}

// window reads a convolution's strides and dilations.
func (c *converter) window() (strides, dil []int64, err error) {
	if strides, err = c.spatial("strides", 1); err != nil {
		return nil, nil, err
	}
	dil, err = c.spatial("dilations", 1)
	return strides, dil, err
}

func (c *converter) layout() error {
	if df := c.node.Attr["data_format"].str(); df != "" && df != "NHWC" {
		return c.errorf("data_format %s: only NHWC is supported", df)
	}
	return nil
}

// padding returns the ONNX attributes for TF's padding attribute.
func (c *converter) padding() ([]onnxpb.Attr, error) {
	switch p := c.node.Attr["padding"].str(); p {
	case "SAME":
		// TF puts the odd pixel of SAME padding after: ONNX's SAME_UPPER.
		return []onnxpb.Attr{onnxpb.AttrString("auto_pad", "SAME_UPPER")}, nil
	case "VALID":
		return []onnxpb.Attr{onnxpb.AttrString("auto_pad", "VALID")}, nil
	case "EXPLICIT":
		e := c.node.Attr["explicit_paddings"].ints()
		if len(e) != 8 {
			return nil, c.errorf("explicit_paddings %v: expected 8 values", e)
		}
		return []onnxpb.Attr{onnxpb.AttrInts("pads", e[2], e[4], e[3], e[5])}, nil
	default:
		return nil, c.errorf("padding %q: expected SAME, VALID or EXPLICIT", p)
	}
}

func (c *converter) activationInput(v *value) error {
	if v.konst != nil || !v.nchw || v.rank != 4 {
		return c.errorf("expected a 4-D image tensor as its input")
	}
	return nil
}

func (c *converter) conv(n *Node, ins []*value, depthwise bool) error {
	if len(ins) < 2 {
		return c.errorf("expected an input and a filter")
	}
	if err := c.layout(); err != nil {
		return err
	}
	x, f := ins[0], ins[1]
	if err := c.activationInput(x); err != nil {
		return err
	}
	if f.konst == nil || len(f.konst.Shape) != 4 || f.konst.DType != "float32" {
		return c.errorf("expected a constant float [h, w, in, out] filter")
	}
	kh, kw, ci, co := f.konst.Shape[0], f.konst.Shape[1], f.konst.Shape[2], f.konst.Shape[3]
	strides, dil, err := c.window()
	if err != nil {
		return err
	}
	attrs, err := c.padding()
	if err != nil {
		return err
	}
	attrs = append(attrs, onnxpb.AttrInts("strides", strides...), onnxpb.AttrInts("dilations", dil...),
		onnxpb.AttrInts("kernel_shape", kh, kw))
	var w string
	if depthwise {
		// TF's output channel c*mult+q reads input channel c: ONNX groups.
		w = c.constant(f.konst, "OIHW", []int64{ci * co, 1, kh, kw}, []int{2, 3, 0, 1})
		attrs = append(attrs, onnxpb.AttrInt("group", ci))
		co *= ci
	} else {
		w = c.constant(f.konst, "OIHW", []int64{co, ci, kh, kw}, []int{3, 2, 0, 1})
	}
	inputs := []string{x.name, w}

	fused := n.Attr["fused_ops"].strs()
	if strings.HasPrefix(n.Op, "_Fused") || strings.HasPrefix(n.Op, "Fused") {
		if len(fused) == 0 || fused[0] != "BiasAdd" {
			return c.errorf("fused_ops %v: expected BiasAdd first", fused)
		}
		if len(ins) < 3 || ins[2].konst == nil || ins[2].konst.Len() != int(co) {
			return c.errorf("expected a constant bias of %d values", co)
		}
		b := ins[2].konst
		inputs = append(inputs, c.constant(b, "bias", []int64{co}, nil))
		fused = fused[1:]
	} else if len(fused) > 0 {
		return c.errorf("fused_ops on an unfused op")
	}
	if len(fused) > 1 {
		return c.errorf("fused_ops %v: expected at most one activation after BiasAdd", n.Attr["fused_ops"].strs())
	}
	out := n.Name
	if len(fused) == 1 {
		out = n.Name + "/conv"
	}
	c.g.OpTo(out, "Conv", inputs, attrs...)
	conv := &value{name: out, rank: 4, nchw: true}
	c.vals[n.Name] = conv
	if len(fused) == 1 {
		var alpha *value
		if fused[0] == "Prelu" {
			if len(ins) < 4 {
				return c.errorf("fused Prelu needs its alpha input")
			}
			alpha = ins[3]
		}
		return c.activation(fused[0], conv, n.Name, alpha)
	}
	return nil
}

// convTranspose converts Conv2DBackpropInput (TF's transposed convolution).
func (c *converter) convTranspose(n *Node, ins []*value) error {
	if len(ins) != 3 {
		return c.errorf("expected output sizes, a filter and an input")
	}
	if err := c.layout(); err != nil {
		return err
	}
	sizes, f, x := ins[0], ins[1], ins[2]
	if err := c.activationInput(x); err != nil {
		return err
	}
	if sizes.konst == nil || sizes.konst.DType != "int32" || len(sizes.konst.Ints) != 4 {
		return c.errorf("expected constant output sizes [n, h, w, c]")
	}
	if f.konst == nil || len(f.konst.Shape) != 4 || f.konst.DType != "float32" {
		return c.errorf("expected a constant float [h, w, out, in] filter")
	}
	kh, kw, co, ci := f.konst.Shape[0], f.konst.Shape[1], f.konst.Shape[2], f.konst.Shape[3]
	strides, dil, err := c.window()
	if err != nil {
		return err
	}
	outHW := []int64{int64(sizes.konst.Ints[1]), int64(sizes.konst.Ints[2])}
	k := []int64{kh, kw}
	var begin, end, outPad [2]int64
	pad := c.node.Attr["padding"].str()
	for i := range 2 {
		keff := (k[i]-1)*dil[i] + 1
		o, s := outHW[i], strides[i]
		var in, total int64
		switch pad {
		case "SAME":
			in = (o + s - 1) / s
			total = max((in-1)*s+keff-o, 0)
		case "VALID":
			in = (o-keff)/s + 1
		default:
			return c.errorf("padding %q: expected SAME or VALID", pad)
		}
		begin[i], end[i] = total/2, total-total/2
		outPad[i] = o - (s*(in-1) + keff - begin[i] - end[i])
		if outPad[i] < 0 || outPad[i] >= max(s, dil[i]) {
			return c.errorf("output size %v cannot come from this filter and stride", outHW)
		}
	}
	w := c.constant(f.konst, "IOHW", []int64{ci, co, kh, kw}, []int{3, 2, 0, 1})
	c.g.OpTo(n.Name, "ConvTranspose", []string{x.name, w},
		onnxpb.AttrInts("strides", strides...), onnxpb.AttrInts("dilations", dil...),
		onnxpb.AttrInts("kernel_shape", kh, kw),
		onnxpb.AttrInts("pads", begin[0], begin[1], end[0], end[1]),
		onnxpb.AttrInts("output_padding", outPad[0], outPad[1]))
	c.vals[n.Name] = &value{name: n.Name, rank: 4, nchw: true}
	return nil
}

func (c *converter) pool(n *Node, x *value) error {
	if err := c.layout(); err != nil {
		return err
	}
	if err := c.activationInput(x); err != nil {
		return err
	}
	k, err := c.spatial("ksize", 1)
	if err != nil {
		return err
	}
	s, err := c.spatial("strides", 1)
	if err != nil {
		return err
	}
	attrs, err := c.padding()
	if err != nil {
		return err
	}
	attrs = append(attrs, onnxpb.AttrInts("kernel_shape", k...), onnxpb.AttrInts("strides", s...))
	op := "AveragePool" // TF leaves padding out of the average, as ONNX's default does
	if n.Op == "MaxPool" {
		op = "MaxPool"
	}
	c.g.OpTo(n.Name, op, []string{x.name}, attrs...)
	c.vals[n.Name] = &value{name: n.Name, rank: 4, nchw: true}
	return nil
}

func (c *converter) resize(n *Node, ins []*value) error {
	if len(ins) != 2 || ins[1].konst == nil || ins[1].konst.DType != "int32" || len(ins[1].konst.Ints) != 2 {
		return c.errorf("expected an image and constant sizes [h, w]")
	}
	x := ins[0]
	if err := c.activationInput(x); err != nil {
		return err
	}
	mode := "asymmetric"
	if b := n.Attr["half_pixel_centers"].B; b != nil && *b {
		mode = "half_pixel"
	}
	if b := n.Attr["align_corners"].B; b != nil && *b {
		mode = "align_corners"
	}
	size := ins[1].konst.Ints
	nc := c.g.Op("Slice", []string{c.g.Op("Shape", []string{x.name}), c.g.Ints(0), c.g.Ints(2)})
	sizes := c.g.Op("Concat", []string{nc, c.g.Ints(int64(size[0]), int64(size[1]))}, onnxpb.AttrInt("axis", 0))
	c.g.OpTo(n.Name, "Resize", []string{x.name, "", "", sizes},
		onnxpb.AttrString("mode", "linear"), onnxpb.AttrString("coordinate_transformation_mode", mode))
	c.vals[n.Name] = &value{name: n.Name, rank: 4, nchw: true}
	return nil
}

func (c *converter) concat(n *Node, ins []*value) error {
	if len(ins) < 2 {
		return c.errorf("expected inputs and an axis")
	}
	ax := ins[len(ins)-1]
	if ax.konst == nil || ax.konst.DType != "int32" || len(ax.konst.Ints) != 1 {
		return c.errorf("expected a constant axis")
	}
	parts := ins[:len(ins)-1]
	rank := parts[0].rank
	axis := int64(ax.konst.Ints[0])
	if axis < 0 {
		axis += int64(rank)
	}
	if axis < 0 || axis >= int64(rank) || (parts[0].nchw && rank != 4) {
		return c.errorf("axis %d: expected an axis of the %d-D inputs", ax.konst.Ints[0], rank)
	}
	nchw := false
	for _, p := range parts {
		nchw = nchw || p.nchw
	}
	names := make([]string, len(parts))
	for i, p := range parts {
		if p.konst == nil && p.nchw != nchw {
			return c.errorf("operands in different layouts")
		}
		names[i] = c.operand(p, nchw)
	}
	if nchw {
		axis = []int64{0, 2, 3, 1}[axis]
	}
	c.g.OpTo(n.Name, "Concat", names, onnxpb.AttrInt("axis", axis))
	c.vals[n.Name] = &value{name: n.Name, rank: rank, nchw: nchw}
	return nil
}

package grad

import (
	"fmt"

	"reverie/gen/onnxpb"
)

// noGradient ops read the image but carry no gradient back: their outputs
// are shapes, sizes or booleans.
var noGradient = map[string]bool{"Shape": true, "Size": true, "Greater": true, "Less": true,
	"Equal": true, "GreaterOrEqual": true, "LessOrEqual": true, "ArgMax": true, "ArgMin": true,
	"NonZero": true, "ConstantOfShape": true, "EyeLike": true, "Not": true, "And": true, "Or": true}

// diffInputs lists the input positions a gradient flows into, and whether
// the op is differentiable at all.
func diffInputs(n *onnxpb.Node) ([]int, bool) {
	if n.Domain != "" && n.Domain != "ai.onnx" {
		return nil, false
	}
	if noGradient[n.OpType] {
		return []int{0, 1, 2, 3}, true
	}
	switch n.OpType {
	case "Add", "Sub", "Mul", "Div":
		return []int{0, 1}, true
	case "Concat", "Sum":
		all := make([]int, len(n.Inputs))
		for i := range all {
			all[i] = i
		}
		return all, true
	case "Identity", "Relu", "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Neg",
		"Clip", "PRelu", "Conv", "ConvTranspose", "Transpose", "Reshape", "Flatten", "Squeeze",
		"Unsqueeze", "Pad", "AveragePool", "MaxPool", "GlobalAveragePool", "BatchNormalization",
		"Resize", "LRN", "Split":
		return []int{0}, true
	}
	return nil, false
}

// backward emits the gradients of n's differentiable inputs from the
// gradients of its outputs (gys[i] is "" where none reaches output i).
func (b *builder) backward(n *onnxpb.Node, gys []string, indices string) error {
	x := n.Input(0)
	gy := gys[0]
	var y string
	if len(n.Outputs) > 0 {
		y = n.Outputs[0]
	}
	if noGradient[n.OpType] {
		return nil
	}
	if n.OpType != "Split" && gy == "" {
		return nil
	}
	switch n.OpType {
	case "Identity":
		b.addGrad(x, gy)
	case "Neg":
		b.addGrad(x, b.op("Neg", []string{gy}))
	case "Relu":
		b.addGrad(x, b.masked(gy, b.op("Greater", []string{y, b.scalar(0)})))
	case "LeakyRelu":
		alpha := n.GetFloat("alpha", 0.01)
		b.addGrad(x, b.op("Where", []string{b.op("Greater", []string{x, b.scalar(0)}), gy, b.op("Mul", []string{gy, b.scalar(alpha)})}))
	case "PRelu":
		b.addGrad(x, b.op("Where", []string{b.op("Greater", []string{x, b.scalar(0)}), gy, b.op("Mul", []string{gy, n.Input(1)})}))
	case "Sigmoid":
		b.addGrad(x, b.op("Mul", []string{gy, b.op("Mul", []string{y, b.op("Sub", []string{b.scalar(1), y})})}))
	case "Tanh":
		b.addGrad(x, b.op("Mul", []string{gy, b.op("Sub", []string{b.scalar(1), b.op("Mul", []string{y, y})})}))
	case "HardSigmoid":
		alpha := n.GetFloat("alpha", 0.2)
		inside := b.op("And", []string{b.op("Greater", []string{y, b.scalar(0)}), b.op("Less", []string{y, b.scalar(1)})})
		b.addGrad(x, b.masked(b.op("Mul", []string{gy, b.scalar(alpha)}), inside))
	case "HardSwish":
		// y = x·clip(x/6 + 1/2, 0, 1): slope 0 below -3, 1 above 3, x/3 + 1/2 between.
		mid := b.op("Add", []string{b.op("Mul", []string{x, b.scalar(1.0 / 3)}), b.scalar(0.5)})
		d := b.op("Where", []string{b.op("Less", []string{x, b.scalar(-3)}), b.scalar(0),
			b.op("Where", []string{b.op("Greater", []string{x, b.scalar(3)}), b.scalar(1), mid})})
		b.addGrad(x, b.op("Mul", []string{gy, d}))
	case "Clip":
		return b.clip(n, gy)
	case "Add", "Sub", "Mul", "Div", "Sum":
		return b.elementwise(n, gy)
	case "Concat":
		return b.concat(n, gy)
	case "Split":
		return b.split(n, gys)
	case "Transpose":
		perm := n.GetInts("perm")
		if perm == nil {
			// No perm reverses the axes, which is its own inverse.
			b.addGrad(x, b.op("Transpose", []string{gy}))
			return nil
		}
		inv := make([]int64, len(perm))
		for i, p := range perm {
			if p < 0 || int(p) >= len(perm) {
				return b.nodeErr(n, "perm %v is not a permutation", perm)
			}
			inv[p] = int64(i)
		}
		b.addGrad(x, b.op("Transpose", []string{gy}, onnxpb.AttrInts("perm", inv...)))
	case "Reshape", "Flatten", "Squeeze", "Unsqueeze":
		b.addGrad(x, b.op("Reshape", []string{gy, b.shape(x)}))
	case "Pad":
		return b.pad(n, gy)
	case "Conv":
		return b.conv(n, gy)
	case "ConvTranspose":
		return b.convTranspose(n, gy)
	case "AveragePool":
		return b.averagePool(n, gy)
	case "MaxPool":
		return b.maxPool(n, gy, indices)
	case "GlobalAveragePool":
		// Each input element contributes 1/(spatial size) to its channel's mean.
		count := b.op("Div", []string{b.op("Cast", []string{b.op("Size", []string{x})}, onnxpb.AttrInt("to", int64(onnxpb.Float))),
			b.op("Cast", []string{b.op("Size", []string{y})}, onnxpb.AttrInt("to", int64(onnxpb.Float)))})
		b.addGrad(x, b.op("Expand", []string{b.op("Div", []string{gy, count}), b.shape(x)}))
	case "BatchNormalization":
		return b.batchNorm(n, gy)
	case "Resize":
		return b.resize(n, gy)
	case "LRN":
		return b.lrn(n, gy)
	default:
		return fmt.Errorf("grad: node %q (op %s) on the path to layer %q cannot be differentiated", nodeName(n), n.OpType, b.layer)
	}
	return nil
}

// clip passes the gradient where the input lay strictly inside [min, max].
// The mask is read from the output alone, so ONNX Runtime can still fuse a
// Conv with the Clip that follows it (Conv's own output is never read).
func (b *builder) clip(n *onnxpb.Node, gy string) error {
	x, y := n.Input(0), n.Outputs[0]
	lo, hi := n.Input(1), n.Input(2)
	if a, ok := n.Attr("min"); ok {
		lo = b.scalar(a.F)
	}
	if a, ok := n.Attr("max"); ok {
		hi = b.scalar(a.F)
	}
	var mask string
	if lo != "" {
		mask = b.op("Greater", []string{y, lo})
	}
	if hi != "" {
		m := b.op("Less", []string{y, hi})
		if mask == "" {
			mask = m
		} else {
			mask = b.op("And", []string{mask, m})
		}
	}
	if mask == "" {
		b.addGrad(x, gy)
		return nil
	}
	b.addGrad(x, b.masked(gy, mask))
	return nil
}

// masked is gy where mask holds and 0 elsewhere. Mul by a cast mask ran
// faster in ONNX Runtime 1.30 than Where with a broadcast zero.
func (b *builder) masked(gy, mask string) string {
	return b.op("Mul", []string{gy, b.op("Cast", []string{mask}, onnxpb.AttrInt("to", int64(onnxpb.Float)))})
}

func (b *builder) elementwise(n *onnxpb.Node, gy string) error {
	y := n.Outputs[0]
	for i, in := range n.Inputs {
		if !b.diff[in] {
			continue
		}
		var g string
		switch {
		case n.OpType == "Add" || n.OpType == "Sum":
			g = gy
		case n.OpType == "Sub" && i == 0:
			g = gy
		case n.OpType == "Sub":
			g = b.op("Neg", []string{gy})
		case n.OpType == "Mul":
			g = b.op("Mul", []string{gy, n.Inputs[1-i]})
		case n.OpType == "Div" && i == 0:
			g = b.op("Div", []string{gy, n.Inputs[1]})
		default: // d(a/b)/db = -(a/b)/b
			g = b.op("Neg", []string{b.op("Div", []string{b.op("Mul", []string{gy, y}), n.Inputs[1]})})
		}
		r, err := b.unbroadcast(n, g, in, y)
		if err != nil {
			return err
		}
		b.addGrad(in, r)
	}
	return nil
}

// unbroadcast sums a gradient shaped like out back to operand x's shape,
// over the axes numpy broadcasting stretched.
func (b *builder) unbroadcast(n *onnxpb.Node, g, x, out string) (string, error) {
	xs, os := b.shapes[x], b.shapes[out]
	if xs != nil && os != nil {
		if len(xs) > len(os) {
			return "", b.nodeErr(n, "operand %q has a higher rank than the output", x)
		}
		lead := len(os) - len(xs)
		var axes []int64
		static := true
		for i := 0; i < len(os); i++ {
			if i < lead {
				axes = append(axes, int64(i))
				continue
			}
			xd, od := xs[i-lead], os[i]
			switch {
			case xd == od && xd >= 0, xd > 1:
				// not stretched
			case xd == 1 && od != 1 && od >= 0:
				axes = append(axes, int64(i))
			case xd == 1 && od == 1:
			default:
				if b.otherOperandsFit(n, x, i-len(os)) {
					continue
				}
				static = false
			}
		}
		if static {
			if len(axes) == 0 {
				return g, nil
			}
			r := b.op("ReduceSum", []string{g, b.ints(axes...)}, onnxpb.AttrInt("keepdims", 1))
			if lead > 0 {
				r = b.op("Reshape", []string{r, b.shape(x)})
			}
			return r, nil
		}
		// Dynamic: the stretched axes are where x's (padded) shape is 1 and
		// the output's is not.
		sx := b.shape(x)
		if lead > 0 {
			ones := make([]int64, lead)
			for i := range ones {
				ones[i] = 1
			}
			sx = b.op("Concat", []string{b.ints(ones...), sx}, onnxpb.AttrInt("axis", 0))
		}
		one := b.ints(1)
		stretched := b.op("And", []string{b.op("Equal", []string{sx, one}), b.op("Not", []string{b.op("Equal", []string{b.shape(g), one})})})
		axesT := b.op("Reshape", []string{b.op("NonZero", []string{stretched}), b.ints(-1)})
		r := b.op("ReduceSum", []string{g, axesT}, onnxpb.AttrInt("keepdims", 1), onnxpb.AttrInt("noop_with_empty_axes", 1))
		return b.op("Reshape", []string{r, b.shape(x)}), nil
	}
	return "", b.nodeErr(n, "the rank of %q or of the output is unknown, so broadcasting cannot be undone", x)
}

// otherOperandsFit says whether every other operand is 1 (or absent) at
// axis (counted from the end), so x is not stretched there whatever its size.
func (b *builder) otherOperandsFit(n *onnxpb.Node, x string, axis int) bool {
	for _, in := range n.Inputs {
		if in == x {
			continue
		}
		s := b.shapes[in]
		if s == nil {
			return false
		}
		if i := len(s) + axis; i >= 0 && s[i] != 1 {
			return false
		}
	}
	return true
}

func (b *builder) concat(n *onnxpb.Node, gy string) error {
	axis := n.GetInt("axis", 0)
	sizes := make([]string, len(n.Inputs))
	for i, in := range n.Inputs {
		sizes[i] = b.op("Gather", []string{b.shape(in), b.ints(axis)})
	}
	split := b.op("Concat", sizes, onnxpb.AttrInt("axis", 0))
	parts := b.opN("Split", []string{gy, split}, len(n.Inputs), onnxpb.AttrInt("axis", axis))
	for i, in := range n.Inputs {
		b.addGrad(in, parts[i])
	}
	return nil
}

func (b *builder) split(n *onnxpb.Node, gys []string) error {
	parts := make([]string, len(gys))
	for i, g := range gys {
		if g == "" {
			g = b.zerosLike(n.Outputs[i])
		}
		parts[i] = g
	}
	b.addGrad(n.Input(0), b.op("Concat", parts, onnxpb.AttrInt("axis", n.GetInt("axis", 0))))
	return nil
}

// pad crops the gradient back to the unpadded region.
func (b *builder) pad(n *onnxpb.Node, gy string) error {
	x := n.Input(0)
	if mode := n.GetString("mode", "constant"); mode != "constant" {
		return b.nodeErr(n, "pad mode %q is not supported, only constant", mode)
	}
	if n.Input(3) != "" {
		return b.nodeErr(n, "the axes input is not supported")
	}
	pads, ok := b.constInts(n.Input(1))
	if !ok {
		return b.nodeErr(n, "its pads %q are not a constant", n.Input(1))
	}
	r := len(pads) / 2
	begin := make([]int64, r)
	axes := make([]int64, r)
	for i := 0; i < r; i++ {
		if pads[i] < 0 || pads[r+i] < 0 {
			return b.nodeErr(n, "negative pads %v are not supported", pads)
		}
		begin[i], axes[i] = pads[i], int64(i)
	}
	starts := b.ints(begin...)
	ends := b.op("Add", []string{starts, b.shape(x)})
	b.addGrad(x, b.op("Slice", []string{gy, starts, ends, b.ints(axes...)}))
	return nil
}

func (b *builder) batchNorm(n *onnxpb.Node, gy string) error {
	if n.GetInt("training_mode", 0) != 0 {
		return b.nodeErr(n, "training mode is not supported")
	}
	x := n.Input(0)
	rank := len(b.shapes[x])
	if b.shapes[x] == nil {
		return b.nodeErr(n, "the rank of its input is unknown")
	}
	eps := n.GetFloat("epsilon", 1e-5)
	// y = (x - mean)·scale/sqrt(var + eps) + bias: the slope per channel.
	f := b.op("Div", []string{n.Input(1), b.op("Sqrt", []string{b.op("Add", []string{n.Input(4), b.scalar(eps)})})})
	dims := []int64{-1}
	for i := 2; i < rank; i++ {
		dims = append(dims, 1)
	}
	f = b.op("Reshape", []string{f, b.ints(dims...)})
	b.addGrad(x, b.op("Mul", []string{gy, f}))
	return nil
}

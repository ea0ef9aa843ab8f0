package grad

import "reverie/gen/onnxpb"

// infer records the static shapes of n's outputs, as far as they can be
// known without running the graph: ranks nearly always, sizes where they do
// not depend on a dynamic input dimension (-1 marks those). Only the rules
// that undo broadcasting and place axes read them; the model's own
// value_info fills in what these rules do not cover.
func (b *builder) infer(n *onnxpb.Node) {
	set := func(i int, s []int64) {
		if i < len(n.Outputs) && n.Outputs[i] != "" && s != nil {
			if _, have := b.shapes[n.Outputs[i]]; !have {
				b.shapes[n.Outputs[i]] = s
			}
		}
	}
	for _, vi := range b.m.Graph.ValueInfo {
		for _, o := range n.Outputs {
			if vi.Name == o && vi.HasShape {
				b.shapes[o] = append([]int64{}, vi.Dims...)
			}
		}
	}
	in := func(i int) []int64 { return b.shapes[n.Input(i)] }
	x := in(0)
	unknown := func(r int) []int64 {
		s := make([]int64, r)
		for i := range s {
			s[i] = -1
		}
		return s
	}
	switch n.OpType {
	case "Identity", "Relu", "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Neg", "Clip",
		"PRelu", "BatchNormalization", "LRN", "Abs", "Exp", "Log", "Sqrt", "Softmax", "Elu", "Selu", "Cast", "Erf":
		if x != nil {
			set(0, append([]int64{}, x...))
		}
	case "Add", "Sub", "Mul", "Div", "Pow", "Sum", "Max", "Min", "Where":
		var out []int64
		for i := range n.Inputs {
			s := in(i)
			if s == nil {
				return
			}
			out = broadcast(out, s)
		}
		set(0, out)
	case "Conv", "ConvTranspose", "AveragePool", "MaxPool":
		if x == nil {
			return
		}
		s := unknown(len(x))
		s[0] = x[0]
		switch n.OpType {
		case "Conv":
			if w := in(1); len(w) > 0 {
				s[1] = w[0]
				if len(w) == len(x) {
					b.convSizes(n, x, w[2:], s)
				}
			}
		case "ConvTranspose":
			if w := in(1); len(w) > 1 && w[1] > 0 {
				s[1] = w[1] * n.GetInt("group", 1)
			}
		default:
			s[1] = x[1]
		}
		set(0, s)
		if n.OpType == "MaxPool" {
			set(1, append([]int64{}, s...))
		}
	case "GlobalAveragePool", "GlobalMaxPool":
		if x != nil && len(x) >= 2 {
			s := []int64{x[0], x[1]}
			for len(s) < len(x) {
				s = append(s, 1)
			}
			set(0, s)
		}
	case "Transpose":
		if x == nil {
			return
		}
		perm := n.GetInts("perm")
		s := make([]int64, len(x))
		for i := range s {
			p := int64(len(x) - 1 - i)
			if perm != nil {
				if i >= len(perm) || perm[i] < 0 || int(perm[i]) >= len(x) {
					return
				}
				p = perm[i]
			}
			s[i] = x[p]
		}
		set(0, s)
	case "Reshape":
		shape, ok := b.constInts(n.Input(1))
		if !ok {
			if s := in(1); len(s) == 1 && s[0] >= 0 {
				set(0, unknown(int(s[0])))
			}
			return
		}
		s := make([]int64, len(shape))
		for i, d := range shape {
			switch {
			case d == 0 && x != nil && i < len(x) && n.GetInt("allowzero", 0) == 0:
				s[i] = x[i]
			case d > 0:
				s[i] = d
			default:
				s[i] = -1
			}
		}
		set(0, s)
	case "Flatten":
		set(0, []int64{-1, -1})
	case "Concat", "Split", "Pad", "Resize":
		if x == nil {
			return
		}
		for i := range n.Outputs {
			s := unknown(len(x))
			axis := n.GetInt("axis", 0)
			if axis < 0 {
				axis += int64(len(x))
			}
			for j := range s {
				if n.OpType == "Resize" && j < 2 {
					s[j] = x[j]
				}
				if (n.OpType == "Concat" || n.OpType == "Split") && int64(j) != axis {
					s[j] = x[j]
				}
			}
			set(i, s)
		}
	case "Unsqueeze", "Squeeze":
		axes, ok := b.constInts(n.Input(1))
		if x == nil || !ok {
			return
		}
		r := len(x) - len(axes)
		if n.OpType == "Unsqueeze" {
			r = len(x) + len(axes)
		}
		if r >= 0 {
			set(0, unknown(r))
		}
	case "Shape":
		if x != nil {
			set(0, []int64{int64(len(x))})
		}
	}
}

// convSizes fills in a Conv's output spatial sizes where its input's are
// static (Options.Shape): Build then knows SAME padding and crops exactly.
func (b *builder) convSizes(n *onnxpb.Node, x, kernel, out []int64) {
	if k := n.GetInts("kernel_shape"); k != nil {
		kernel = k
	}
	w, err := b.window(n, kernel)
	if err != nil || len(x) != len(kernel)+2 {
		return
	}
	for i := range kernel {
		size := x[2+i]
		if size < 0 {
			continue
		}
		dk := w.dilations[i]*(kernel[i]-1) + 1
		switch {
		case w.auto == "SAME_UPPER" || w.auto == "SAME_LOWER":
			out[2+i] = (size + w.strides[i] - 1) / w.strides[i]
		case w.begin != nil:
			if o := (size+w.begin[i]+w.end[i]-dk)/w.strides[i] + 1; o > 0 {
				out[2+i] = o
			}
		}
	}
}

// broadcast is numpy broadcasting of two static shapes (-1: unknown).
func broadcast(a, c []int64) []int64 {
	if a == nil {
		return append([]int64{}, c...)
	}
	if len(a) < len(c) {
		a, c = c, a
	}
	out := append([]int64{}, a...)
	off := len(a) - len(c)
	for i, d := range c {
		o := out[off+i]
		switch {
		case o == 1:
			out[off+i] = d
		case d == 1:
		case o == d:
		case o < 0 && d > 1, d < 0 && o > 1:
			out[off+i] = max(o, d)
		default:
			out[off+i] = -1
		}
	}
	return out
}

package grad

import (
	"encoding/binary"
	"math"

	"reverie/gen/onnxpb"
)

// window is a convolution's or pool's geometry over its spatial axes.
type window struct {
	kernel, strides, dilations []int64
	begin, end                 []int64 // explicit pads; nil when they depend on the input size
	auto                       string
}

func (b *builder) window(n *onnxpb.Node, kernel []int64) (window, error) {
	k := len(kernel)
	w := window{kernel: kernel, auto: n.GetString("auto_pad", "NOTSET")}
	fill := func(name string) []int64 {
		v := n.GetInts(name)
		if v == nil {
			v = make([]int64, k)
			for i := range v {
				v[i] = 1
			}
		}
		return v
	}
	w.strides, w.dilations = fill("strides"), fill("dilations")
	if len(w.strides) != k || len(w.dilations) != k {
		return w, b.nodeErr(n, "strides %v or dilations %v do not match kernel %v", w.strides, w.dilations, kernel)
	}
	stride1 := true
	for _, s := range w.strides {
		if s <= 0 {
			return w, b.nodeErr(n, "stride %v is not positive", w.strides)
		}
		stride1 = stride1 && s == 1
	}
	switch w.auto {
	case "NOTSET", "":
		pads := n.GetInts("pads")
		if pads == nil {
			pads = make([]int64, 2*k)
		}
		if len(pads) != 2*k {
			return w, b.nodeErr(n, "pads %v do not match kernel %v", pads, kernel)
		}
		w.begin, w.end = pads[:k], pads[k:]
	case "VALID":
		w.begin, w.end = make([]int64, k), make([]int64, k)
	case "SAME_UPPER", "SAME_LOWER":
		if xs := b.shapes[n.Input(0)]; !stride1 && len(xs) == k+2 {
			// Static input sizes (Options.Shape) fix the padding too.
			w.begin, w.end = make([]int64, k), make([]int64, k)
			for i := range kernel {
				size := xs[2+i]
				if size < 0 {
					w.begin, w.end = nil, nil
					break
				}
				out := (size + w.strides[i] - 1) / w.strides[i]
				total := max(0, (out-1)*w.strides[i]+w.dilations[i]*(kernel[i]-1)+1-size)
				small := total / 2
				if w.auto == "SAME_UPPER" {
					w.begin[i], w.end[i] = small, total-small
				} else {
					w.begin[i], w.end[i] = total-small, small
				}
			}
		}
		if stride1 {
			// With stride 1 the total padding is d·(k-1) whatever the size.
			w.begin, w.end = make([]int64, k), make([]int64, k)
			for i := range kernel {
				total := w.dilations[i] * (kernel[i] - 1)
				small := total / 2
				if w.auto == "SAME_UPPER" {
					w.begin[i], w.end[i] = small, total-small
				} else {
					w.begin[i], w.end[i] = total-small, small
				}
			}
		}
	default:
		return w, b.nodeErr(n, "auto_pad %q is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER", w.auto)
	}
	return w, nil
}

// begins is the padding before each spatial axis as a 1-D int64 tensor,
// computed in the graph when SAME padding depends on the input's size.
func (b *builder) begins(x string, w window) string {
	if w.begin != nil {
		return b.ints(w.begin...)
	}
	k := len(w.kernel)
	size := b.shapeSlice(x, 2, 2+k)
	s := b.ints(w.strides...)
	sm1 := make([]int64, k)
	dk := make([]int64, k)
	ones := make([]int64, k)
	twos := make([]int64, k)
	for i := range sm1 {
		sm1[i] = w.strides[i] - 1
		dk[i] = w.dilations[i]*(w.kernel[i]-1) + 1
		ones[i], twos[i] = 1, 2
	}
	out := b.op("Div", []string{b.op("Add", []string{size, b.ints(sm1...)}), s})
	need := b.op("Add", []string{b.op("Mul", []string{b.op("Sub", []string{out, b.ints(ones...)}), s}), b.ints(dk...)})
	total := b.op("Max", []string{b.op("Sub", []string{need, size}), b.ints(make([]int64, k)...)})
	half := b.op("Div", []string{total, b.ints(twos...)})
	if w.auto == "SAME_UPPER" {
		return half
	}
	return b.op("Sub", []string{total, half})
}

// conv emits the data gradient of a Conv: the same weights applied
// transposed. Weights are constants here, and no weight gradient is built.
func (b *builder) conv(n *onnxpb.Node, gy string) error {
	x, w := n.Input(0), n.Input(1)
	ws, kernel, err := b.weights(n)
	if err != nil {
		return err
	}
	win, err := b.window(n, kernel)
	if err != nil {
		return err
	}
	b.addGrad(x, b.convData(n, gy, x, w, b.consts[w], ws, n.GetInt("group", 1), win))
	return nil
}

// weights is the shape of a Conv's or ConvTranspose's weights (its second
// input) and its kernel: the kernel_shape attribute, or the weights' spatial
// dimensions without it.
func (b *builder) weights(n *onnxpb.Node) (ws, kernel []int64, err error) {
	w := n.Input(1)
	ws = b.shapes[w]
	if len(ws) < 3 {
		return nil, nil, b.nodeErr(n, "the shape of its weights %q is unknown", w)
	}
	kernel = n.GetInts("kernel_shape")
	if kernel == nil {
		kernel = ws[2:]
	}
	return ws, kernel, nil
}

// convData is the gradient of Conv(x, w) with respect to x. A stride-1 Conv
// with constant weights goes back through a Conv with the weights flipped
// and transposed (ONNX Runtime's Conv kernels, depthwise included, are much
// faster than its ConvTranspose); the rest go through ConvTranspose with the
// widest output, cropped to x's size in the graph, so any H and W work.
func (b *builder) convData(n *onnxpb.Node, gy, x, w string, wt *onnxpb.Tensor, ws []int64, group int64, win window) string {
	k := len(win.kernel)
	stride1 := true
	for _, s := range win.strides {
		stride1 = stride1 && s == 1
	}
	if stride1 && wt != nil && wt.DataType == onnxpb.Float && win.begin != nil {
		pads := make([]int64, 2*k)
		ok := true
		for i := 0; i < k; i++ {
			span := win.dilations[i] * (win.kernel[i] - 1)
			pads[i], pads[k+i] = span-win.begin[i], span-win.end[i]
			ok = ok && pads[i] >= 0 && pads[k+i] >= 0
		}
		if ok {
			if fw, dims := flipTranspose(wt, group); fw != nil {
				name := b.name("flipped_weight")
				b.g.Initializer(name, onnxpb.Float, dims, fw)
				return b.op("Conv", []string{gy, name}, onnxpb.AttrInts("pads", pads...),
					onnxpb.AttrInts("dilations", win.dilations...), onnxpb.AttrInt("group", group),
					onnxpb.AttrInts("kernel_shape", win.kernel...))
			}
		}
	}
	if win.begin != nil {
		// Static sizes: the ConvTranspose's own pads crop it to x exactly,
		// with no Slice after it.
		xs, ys := b.shapes[x], b.shapes[n.Outputs[0]]
		if len(xs) == k+2 && len(ys) == k+2 {
			pb, pe, op := make([]int64, k), make([]int64, k), make([]int64, k)
			ok := true
			for i := 0; i < k; i++ {
				size, m := xs[2+i], ys[2+i]
				dk := win.dilations[i]*(win.kernel[i]-1) + 1
				total := win.strides[i]*(m-1) + dk - win.begin[i] - size
				pb[i] = win.begin[i]
				if total >= 0 {
					pe[i] = total
				} else {
					op[i] = -total
				}
				ok = ok && size > 0 && m > 0 && op[i] < win.strides[i]
			}
			if ok {
				return b.op("ConvTranspose", []string{gy, w}, onnxpb.AttrInts("strides", win.strides...),
					onnxpb.AttrInts("dilations", win.dilations...), onnxpb.AttrInt("group", group),
					onnxpb.AttrInts("kernel_shape", win.kernel...), onnxpb.AttrInts("output_padding", op...),
					onnxpb.AttrInts("pads", append(pb, pe...)...))
			}
		}
	}
	outPad := make([]int64, k)
	for i, s := range win.strides {
		outPad[i] = s - 1
	}
	full := b.op("ConvTranspose", []string{gy, w}, onnxpb.AttrInts("strides", win.strides...),
		onnxpb.AttrInts("dilations", win.dilations...), onnxpb.AttrInt("group", group),
		onnxpb.AttrInts("kernel_shape", win.kernel...), onnxpb.AttrInts("output_padding", outPad...),
		onnxpb.AttrInts("pads", make([]int64, 2*k)...))
	starts := b.begins(x, win)
	ends := b.op("Add", []string{starts, b.shapeSlice(x, 2, 2+k)})
	axes := make([]int64, k)
	for i := range axes {
		axes[i] = int64(2 + i)
	}
	return b.op("Slice", []string{full, starts, ends, b.ints(axes...)})
}

// flipTranspose turns Conv weights [M, C/g, k…] into the weights of the
// Conv that computes the data gradient: [C, M/g, k…], each kernel rotated by
// 180°, output and input channels swapped within each group.
func flipTranspose(t *onnxpb.Tensor, group int64) ([]byte, []int64) {
	d := t.Dims
	if len(d) < 3 || group <= 0 || d[0]%group != 0 {
		return nil, nil
	}
	v, err := t.Floats()
	if err != nil {
		return nil, nil
	}
	m, cg := d[0], d[1]
	mg := m / group
	ksize := int64(1)
	for _, x := range d[2:] {
		ksize *= x
	}
	out := make([]byte, 4*len(v))
	for g := int64(0); g < group; g++ {
		for o := int64(0); o < mg; o++ {
			for i := int64(0); i < cg; i++ {
				src := ((g*mg+o)*cg + i) * ksize
				dst := ((g*cg+i)*mg + o) * ksize
				for p := int64(0); p < ksize; p++ {
					// Reversing the flattened kernel rotates every spatial axis.
					binary.LittleEndian.PutUint32(out[4*(dst+ksize-1-p):], math.Float32bits(v[src+p]))
				}
			}
		}
	}
	dims := append([]int64{cg * group, mg}, d[2:]...)
	return out, dims
}

// convTranspose's data gradient is a Conv with the same weights.
func (b *builder) convTranspose(n *onnxpb.Node, gy string) error {
	x, w := n.Input(0), n.Input(1)
	if n.GetInts("output_shape") != nil {
		return b.nodeErr(n, "the output_shape attribute is not supported; give pads and output_padding")
	}
	_, kernel, err := b.weights(n)
	if err != nil {
		return err
	}
	k := len(kernel)
	pads := n.GetInts("pads")
	switch a := n.GetString("auto_pad", "NOTSET"); a {
	case "NOTSET", "":
	case "VALID":
		pads = nil
	default:
		return b.nodeErr(n, "auto_pad %q is not supported; give explicit pads", a)
	}
	if pads == nil {
		pads = make([]int64, 2*k)
	}
	attrs := []onnxpb.Attr{onnxpb.AttrInts("pads", pads...), onnxpb.AttrInt("group", n.GetInt("group", 1)),
		onnxpb.AttrInts("kernel_shape", kernel...)}
	if s := n.GetInts("strides"); s != nil {
		attrs = append(attrs, onnxpb.AttrInts("strides", s...))
	}
	if d := n.GetInts("dilations"); d != nil {
		attrs = append(attrs, onnxpb.AttrInts("dilations", d...))
	}
	b.addGrad(x, b.op("Conv", []string{gy, w}, attrs...))
	return nil
}

// averagePool is a depthwise Conv with a constant kernel, rescaled where
// padding shortens a window and count_include_pad is 0.
func (b *builder) averagePool(n *onnxpb.Node, gy string) error {
	x := n.Input(0)
	if n.GetInt("ceil_mode", 0) != 0 {
		return b.nodeErr(n, "ceil_mode 1 is not supported")
	}
	kernel := n.GetInts("kernel_shape")
	xs := b.shapes[x]
	if kernel == nil || len(xs) != len(kernel)+2 || xs[1] <= 0 {
		return b.nodeErr(n, "its kernel_shape or its input's channel count is unknown")
	}
	win, err := b.window(n, kernel)
	if err != nil {
		return err
	}
	c, kk := xs[1], int64(1)
	for _, v := range kernel {
		kk *= v
	}
	vals := make([]byte, 4*c*kk)
	for i := int64(0); i < c*kk; i++ {
		binary.LittleEndian.PutUint32(vals[4*i:], math.Float32bits(1/float32(kk)))
	}
	wdims := append([]int64{c, 1}, kernel...)
	wname := b.name("pool_weight")
	b.g.Initializer(wname, onnxpb.Float, wdims, vals)
	padded := win.auto == "SAME_UPPER" || win.auto == "SAME_LOWER"
	for i := range win.begin {
		padded = padded || win.begin[i] != 0 || win.end[i] != 0
	}
	if padded && n.GetInt("count_include_pad", 0) == 0 {
		// Windows that overlap padding average fewer elements: y = conv(x)/r,
		// with r the padded average of ones.
		var attrs []onnxpb.Attr
		for _, a := range n.Attrs {
			if a.Name != "count_include_pad" {
				attrs = append(attrs, a.Attr())
			}
		}
		attrs = append(attrs, onnxpb.AttrInt("count_include_pad", 1))
		ones := b.op("ConstantOfShape", []string{b.shape(x)}, onnxpb.AttrTensor("value", floatTensor(1)))
		gy = b.op("Div", []string{gy, b.op("AveragePool", []string{ones}, attrs...)})
	}
	wt := &onnxpb.Tensor{Name: wname, DataType: onnxpb.Float, Dims: wdims, Raw: vals}
	b.addGrad(x, b.convData(n, gy, x, wname, wt, wdims, c, win))
	return nil
}

// maxPool sends each output's gradient to the input element that won,
// using the argmax indices the forward MaxPool now also returns.
func (b *builder) maxPool(n *onnxpb.Node, gy, indices string) error {
	x := n.Input(0)
	if n.GetInt("storage_order", 0) != 0 {
		return b.nodeErr(n, "storage_order 1 is not supported")
	}
	var attrs []onnxpb.Attr
	if b.opset >= 16 {
		// Overlapping windows can pick the same element: sum, not overwrite.
		attrs = append(attrs, onnxpb.AttrString("reduction", "add"))
	} else {
		k, s := n.GetInts("kernel_shape"), n.GetInts("strides")
		for i := range k {
			if i >= len(s) || s[i] < k[i] {
				return b.nodeErr(n, "overlapping windows need ScatterElements' reduction, which needs opset 16 (the model has %d)", b.opset)
			}
		}
	}
	size := b.op("Reshape", []string{b.op("Size", []string{x}), b.ints(1)})
	zeros := b.op("ConstantOfShape", []string{size}, onnxpb.AttrTensor("value", floatTensor(0)))
	flat := b.ints(-1)
	scattered := b.op("ScatterElements", []string{zeros, b.op("Reshape", []string{indices, flat}), b.op("Reshape", []string{gy, flat})},
		append(attrs, onnxpb.AttrInt("axis", 0))...)
	b.addGrad(x, b.op("Reshape", []string{scattered, b.shape(x)}))
	return nil
}

// resize: every Resize mode is linear in its input and separable over the
// axes, so resizing an identity matrix along one axis yields that axis's
// interpolation matrix A (out × in), and the gradient is Aᵀ·gy along H and
// gy·A along W. The matrices are built in the graph, so any size works.
func (b *builder) resize(n *onnxpb.Node, gy string) error {
	x := n.Input(0)
	if len(b.shapes[x]) != 4 {
		return b.nodeErr(n, "only 4-D (NCHW) inputs are supported")
	}
	if n.GetString("coordinate_transformation_mode", "half_pixel") == "tf_crop_and_resize" {
		return b.nodeErr(n, "coordinate_transformation_mode tf_crop_and_resize is not supported")
	}
	if _, ok := n.Attr("axes"); ok {
		return b.nodeErr(n, "the axes attribute is not supported")
	}
	if p := n.GetString("keep_aspect_ratio_policy", "stretch"); p != "stretch" {
		return b.nodeErr(n, "keep_aspect_ratio_policy %q is not supported", p)
	}
	scales, sizes := n.Input(2), n.Input(3)
	if v, ok := b.constFloats(scales); ok && len(v) == 0 {
		scales = ""
	}
	if scales == "" && sizes == "" {
		return b.nodeErr(n, "it has neither scales nor sizes")
	}
	if v, ok := b.constFloats(scales); ok && len(v) == 4 && (v[0] != 1 || v[1] != 1) {
		return b.nodeErr(n, "resizing the batch or channel axis (scales %v) is not supported", v)
	}
	var attrs []onnxpb.Attr
	for _, a := range n.Attrs {
		attrs = append(attrs, a.Attr())
	}
	matrix := func(axis int64) string {
		in := b.op("Gather", []string{b.shape(x), b.ints(axis)})
		eye := b.op("EyeLike", []string{b.op("ConstantOfShape", []string{b.op("Concat", []string{in, in}, onnxpb.AttrInt("axis", 0))},
			onnxpb.AttrTensor("value", floatTensor(0)))})
		if scales != "" {
			sc := b.op("Concat", []string{b.op("Gather", []string{scales, b.ints(axis)}), b.scalar(1)}, onnxpb.AttrInt("axis", 0))
			return b.op("Resize", []string{eye, "", sc}, attrs...)
		}
		sz := b.op("Concat", []string{b.op("Gather", []string{sizes, b.ints(axis)}), in}, onnxpb.AttrInt("axis", 0))
		return b.op("Resize", []string{eye, "", "", sz}, attrs...)
	}
	ah, aw := matrix(2), matrix(3)
	gx := b.op("MatMul", []string{b.op("MatMul", []string{b.op("Transpose", []string{ah}), gy}), aw})
	b.addGrad(x, gx)
	return nil
}

// lrn: y = x·d^-β with d = bias + α·mean of x² over a window of channels.
// Its gradient is gy·d^-β - 2αβ·x·Wᵀ(gy·x·d^(-β-1)), where Wᵀ averages over
// the mirrored window. Channel windows are AveragePools over [N,1,C,HW].
func (b *builder) lrn(n *onnxpb.Node, gy string) error {
	x := n.Input(0)
	size := n.GetInt("size", 0)
	if size <= 0 {
		return b.nodeErr(n, "size %d is not positive", size)
	}
	alpha, beta, bias := n.GetFloat("alpha", 1e-4), n.GetFloat("beta", 0.75), n.GetFloat("bias", 1)
	lo, hi := (size-1)/2, size-1-(size-1)/2
	sx := b.shape(x)
	flatShape := b.op("Concat", []string{b.op("Gather", []string{sx, b.ints(0)}), b.ints(1), b.op("Gather", []string{sx, b.ints(1)}), b.ints(-1)},
		onnxpb.AttrInt("axis", 0))
	window := func(v string, before, after int64) string {
		p := b.op("AveragePool", []string{b.op("Reshape", []string{v, flatShape})}, onnxpb.AttrInts("kernel_shape", size, 1),
			onnxpb.AttrInts("pads", before, 0, after, 0), onnxpb.AttrInt("count_include_pad", 1))
		return b.op("Reshape", []string{p, sx})
	}
	d := b.op("Add", []string{b.scalar(bias), b.op("Mul", []string{b.scalar(alpha), window(b.op("Mul", []string{x, x}), lo, hi)})})
	direct := b.op("Mul", []string{gy, b.op("Pow", []string{d, b.scalar(-beta)})})
	inner := b.op("Mul", []string{b.op("Mul", []string{gy, x}), b.op("Pow", []string{d, b.scalar(-beta - 1)})})
	cross := b.op("Mul", []string{b.op("Mul", []string{x, window(inner, hi, lo)}), b.scalar(2 * alpha * beta)})
	b.addGrad(x, b.op("Sub", []string{direct, cross}))
	return nil
}

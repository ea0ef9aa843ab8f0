package tfjs

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"reverie/gen/onnxpb"
)

// Options shape the ONNX model Convert writes.
type Options struct {
	// DynamicSize makes the input's height and width dynamic, for fully
	// convolutional networks run at the camera's own resolution.
	DynamicSize bool
	// Rename gives graph inputs and outputs friendlier names: a TF tensor
	// name ("MobilenetV1/heatmap_2/BiasAdd:0" or a placeholder's name) to the
	// ONNX name.
	Rename map[string]string
	// Metadata is added to the model's metadata_props.
	Metadata map[string]string
}

//go:embed model.go convert.go ops.go
var source embed.FS

// Fingerprint identifies this converter's code: set-up rebuilds a converted
// network when it changes.
func Fingerprint() string {
	h := sha256.New()
	names, _ := fs.Glob(source, "*.go")
	sort.Strings(names)
	for _, n := range names {
		b, _ := source.ReadFile(n)
		h.Write([]byte(n))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// value is a converted TF tensor: its ONNX name, rank, and whether a 4-D
// activation is held NCHW (ONNX's layout for Conv and pooling) instead of
// TF's NHWC.
type value struct {
	name  string
	rank  int // -1: unknown
	nchw  bool
	konst *Tensor
}

type converter struct {
	m      *Model
	g      *onnxpb.Graph
	vals   map[string]*value // TF tensor ("node" or "node:1") → value
	consts map[string]string // constant emitted in a given form → ONNX name
	node   *Node
}

// Convert writes m as an ONNX model (opset onnxpb.Opset). Inputs and outputs
// keep TF's NHWC layout; inside, 4-D activations are NCHW.
func Convert(m *Model, opt Options) ([]byte, error) {
	c := &converter{m: m, g: onnxpb.NewGraph(graphName(m.Path)), vals: map[string]*value{}, consts: map[string]string{}}
	order, err := c.order()
	if err != nil {
		return nil, err
	}
	rename := func(tf string) string {
		if n, ok := opt.Rename[tf]; ok {
			return n
		}
		return tf
	}
	for _, n := range order {
		c.node = n
		if n.Op == "Placeholder" {
			if err := c.placeholder(n, rename(n.Name), opt.DynamicSize); err != nil {
				return nil, err
			}
			continue
		}
		if err := c.convert(n); err != nil {
			return nil, err
		}
	}
	for _, o := range m.Outputs {
		v, err := c.lookup(o.Name)
		if err != nil {
			return nil, err
		}
		shape := o.Shape
		if opt.DynamicSize && len(shape) == 4 {
			shape = []int64{shape[0], onnxpb.Dynamic, onnxpb.Dynamic, shape[3]}
		}
		for i, d := range shape {
			if d < 0 && !(opt.DynamicSize && (i == 1 || i == 2)) {
				shape[i] = onnxpb.Dynamic
			}
		}
		src := c.emit(v)
		if v.nchw {
			src = c.g.Op("Transpose", []string{src}, onnxpb.AttrInts("perm", 0, 2, 3, 1))
		}
		out := rename(o.Name)
		c.g.OpTo(out, "Identity", []string{src})
		c.g.Output(out, onnxpb.Float, shape...)
	}
	keys := make([]string, 0, len(opt.Metadata))
	for k := range opt.Metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		c.g.Metadata(k, opt.Metadata[k])
	}
	c.g.Metadata("converter", "reverie gen/tfjs "+Fingerprint())
	if m.Generated != "" {
		c.g.Metadata("source_graph", m.Generated)
	}
	return c.g.Model("reverie-tfjs", Fingerprint()), nil
}

func graphName(path string) string {
	base := path[strings.LastIndexAny(path, `/\`)+1:]
	return strings.TrimSuffix(base, ".json")
}

// order returns the nodes the outputs depend on, inputs first, in a stable
// order (the file's own order where it allows).
func (c *converter) order() ([]*Node, error) {
	byName := map[string]*Node{}
	index := map[string]int{}
	for i := range c.m.Nodes {
		n := &c.m.Nodes[i]
		if _, dup := byName[n.Name]; dup {
			return nil, fmt.Errorf("tfjs model %s: two nodes are named %q", c.m.Path, n.Name)
		}
		byName[n.Name] = n
		index[n.Name] = i
	}
	state := map[string]int{} // 1 visiting, 2 done
	var out []*Node
	var visit func(name, from string) error
	visit = func(name, from string) error {
		n, ok := byName[name]
		if !ok {
			return fmt.Errorf("tfjs model %s: node %q reads %q, which the graph does not have", c.m.Path, from, name)
		}
		switch state[name] {
		case 1:
			return fmt.Errorf("tfjs model %s: the graph has a cycle through node %q", c.m.Path, name)
		case 2:
			return nil
		}
		state[name] = 1
		for _, in := range n.Input {
			if strings.HasPrefix(in, "^") { // control dependency: no data
				continue
			}
			if err := visit(nodeName(in), name); err != nil {
				return err
			}
		}
		state[name] = 2
		out = append(out, n)
		return nil
	}
	for _, o := range c.m.Outputs {
		if err := visit(nodeName(o.Name), "the signature's outputs"); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// nodeName strips the output index: "conv:0" → "conv".
func nodeName(tensor string) string {
	if i := strings.LastIndexByte(tensor, ':'); i >= 0 {
		if _, err := strconv.Atoi(tensor[i+1:]); err == nil {
			return tensor[:i]
		}
	}
	return tensor
}

func (c *converter) lookup(tensor string) (*value, error) {
	key := tensor
	if strings.HasSuffix(key, ":0") {
		key = strings.TrimSuffix(key, ":0")
	}
	if v, ok := c.vals[key]; ok {
		return v, nil
	}
	return nil, fmt.Errorf("tfjs model %s: tensor %q has no value", c.m.Path, tensor)
}

func (c *converter) errorf(format string, a ...any) error {
	return fmt.Errorf("tfjs model %s: node %q (op %s): %s", c.m.Path, c.node.Name, c.node.Op, fmt.Sprintf(format, a...))
}

func (c *converter) placeholder(n *Node, name string, dynamic bool) error {
	dt := n.Attr["dtype"].Type
	if dt != "DT_FLOAT" {
		return c.errorf("input dtype %s: only float inputs are supported", dt)
	}
	dims := n.Attr["shape"].Shape.dims()
	if dims == nil {
		return c.errorf("the input has no declared shape")
	}
	if len(dims) > 0 && dims[0] < 0 {
		dims[0] = 1
	}
	if dynamic && len(dims) == 4 {
		dims[1], dims[2] = onnxpb.Dynamic, onnxpb.Dynamic
	}
	for i, d := range dims {
		if d < 0 {
			dims[i] = onnxpb.Dynamic
		}
	}
	c.g.Input(name, onnxpb.Float, dims...)
	if len(dims) == 4 {
		c.g.OpTo(n.Name+"/NCHW", "Transpose", []string{name}, onnxpb.AttrInts("perm", 0, 3, 1, 2))
		c.vals[n.Name] = &value{name: n.Name + "/NCHW", rank: 4, nchw: true}
		return nil
	}
	c.vals[n.Name] = &value{name: name, rank: len(dims)}
	return nil
}

// emit returns v's ONNX name, writing a constant on first use in its plain
// (TF) layout.
func (c *converter) emit(v *value) string {
	if v.konst == nil {
		return v.name
	}
	return c.constant(v.konst, "plain", v.konst.Shape, nil)
}

// constant writes t (reshaped to dims, permuted by perm when given) once per
// form and returns its ONNX name.
func (c *converter) constant(t *Tensor, form string, dims []int64, perm []int) string {
	key := t.Name + "#" + form
	if name, ok := c.consts[key]; ok {
		return name
	}
	name := t.Name
	if form != "plain" {
		name = t.Name + "/" + form
	}
	if t.DType == "int32" {
		v := make([]int64, len(t.Ints))
		for i, x := range t.Ints {
			v[i] = int64(x)
		}
		name = c.g.Ints(v...)
	} else {
		data := t.Floats
		if perm != nil {
			data = permute(t.Floats, t.Shape, perm)
		}
		c.g.Const(name, dims, data)
	}
	c.consts[key] = name
	return name
}

// permute reorders a row-major tensor's axes: out axis i is in axis perm[i].
func permute(data []float32, shape []int64, perm []int) []float32 {
	r := len(shape)
	out := make([]float32, len(data))
	outShape := make([]int64, r)
	for i, p := range perm {
		outShape[i] = shape[p]
	}
	inStride := make([]int, r)
	s := 1
	for i := r - 1; i >= 0; i-- {
		inStride[i] = s
		s *= int(shape[i])
	}
	idx := make([]int, r)
	for o := range out {
		src := 0
		for i := range idx {
			src += idx[i] * inStride[perm[i]]
		}
		out[o] = data[src]
		for i := r - 1; i >= 0; i-- {
			idx[i]++
			if idx[i] < int(outShape[i]) {
				break
			}
			idx[i] = 0
		}
	}
	return out
}

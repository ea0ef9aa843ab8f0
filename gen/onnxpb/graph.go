package onnxpb

import (
	"encoding/binary"
	"fmt"
	"math"
)

// DataType is an ONNX TensorProto.DataType.
type DataType int32

// The element types reverie writes or reads.
const (
	Float   DataType = 1
	Uint8   DataType = 2
	Int64   DataType = 7
	Float16 DataType = 10
)

// Dynamic marks a dimension whose size is chosen at run time.
const Dynamic int64 = -1

// IRVersion and Opset are what the built-in models declare. ONNX Runtime 1.30
// reads both.
const (
	IRVersion = 8
	Opset     = 17
)

// Attr is one node attribute.
type Attr struct {
	name string
	m    buf
}

// attribute types from AttributeProto.AttributeType
const (
	attrFloat  = 1
	attrInt    = 2
	attrString = 3
	attrFloats = 6
	attrInts   = 7
)

func newAttr(name string, typ int64, write func(*buf)) Attr {
	var m buf
	m.string(1, name)
	write(&m)
	m.int(20, typ)
	return Attr{name: name, m: m}
}

// AttrInt is an integer attribute.
func AttrInt(name string, v int64) Attr {
	return newAttr(name, attrInt, func(b *buf) { b.int(3, v) })
}

// AttrFloat is a float attribute.
func AttrFloat(name string, v float32) Attr {
	return newAttr(name, attrFloat, func(b *buf) { b.float(2, v) })
}

// AttrString is a string attribute.
func AttrString(name, v string) Attr {
	return newAttr(name, attrString, func(b *buf) { b.string(4, v) })
}

// AttrInts is a list-of-integers attribute.
func AttrInts(name string, v ...int64) Attr {
	return newAttr(name, attrInts, func(b *buf) { b.packedInts(8, v) })
}

// AttrFloats is a list-of-floats attribute.
func AttrFloats(name string, v ...float32) Attr {
	return newAttr(name, attrFloats, func(b *buf) { b.packedFloats(7, v) })
}

// Graph builds one ONNX graph node by node. Names are generated for
// intermediate values, so callers chain Op calls like expressions.
type Graph struct {
	name      string
	nodes     []buf
	inits     []buf
	inputs    []buf
	outputs   []buf
	metadata  [][2]string
	next      int
	reserved  map[string]bool
	opsets    []OpsetID
	irVersion int64
	MACs      int64 // multiply-adds, counted by the builders that know them
}

// NewGraph starts an empty graph.
func NewGraph(name string) *Graph { return &Graph{name: name} }

func (g *Graph) fresh(prefix string) string {
	for {
		g.next++
		name := fmt.Sprintf("%s_%d", prefix, g.next)
		if !g.reserved[name] {
			return name
		}
	}
}

func valueInfo(name string, dt DataType, dims []int64) buf {
	return typedValue(name, dt, dims, true, func(i int, d int64) string {
		if d == Dynamic {
			return fmt.Sprintf("d%d", i)
		}
		return ""
	})
}

// typedValue is the ValueInfoProto of a tensor name of type dt: dimension i
// is named param(i, dims[i]) when that is not empty, and is dims[i]
// otherwise. Without withShape the shape is left out: the rank is unknown.
func typedValue(name string, dt DataType, dims []int64, withShape bool, param func(i int, d int64) string) buf {
	var shape buf
	for i, d := range dims {
		var dim buf
		if p := param(i, d); p != "" {
			dim.string(2, p)
		} else {
			dim.int(1, d)
		}
		shape.message(1, dim)
	}
	var tensor buf
	tensor.int(1, int64(dt))
	if withShape {
		tensor.message(2, shape)
	}
	var typ buf
	typ.message(1, tensor)
	var vi buf
	vi.string(1, name)
	vi.message(2, typ)
	return vi
}

// Input declares a graph input and returns its name.
func (g *Graph) Input(name string, dt DataType, dims ...int64) string {
	g.inputs = append(g.inputs, valueInfo(name, dt, dims))
	return name
}

// Output declares value as a graph output.
func (g *Graph) Output(name string, dt DataType, dims ...int64) {
	g.outputs = append(g.outputs, valueInfo(name, dt, dims))
}

// Metadata adds a key/value pair to the model's metadata_props.
func (g *Graph) Metadata(key, value string) {
	g.metadata = append(g.metadata, [2]string{key, value})
}

func (g *Graph) initializer(name string, dt DataType, dims []int64, raw []byte) string {
	if name == "" {
		name = g.fresh("const")
	}
	var t buf
	t.packedInts(1, dims)
	t.int(2, int64(dt))
	t.string(8, name)
	t.bytes(9, raw)
	g.inits = append(g.inits, t)
	return name
}

// Const adds a float32 initializer of the given shape. An empty name gets a
// generated one.
func (g *Graph) Const(name string, dims []int64, data []float32) string {
	n := int64(1)
	for _, d := range dims {
		n *= d
	}
	if n != int64(len(data)) {
		panic(fmt.Sprintf("onnxpb: constant %q has %d values for shape %v", name, len(data), dims))
	}
	raw := make([]byte, 0, 4*len(data))
	for _, v := range data {
		raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(v))
	}
	return g.initializer(name, Float, dims, raw)
}

// Scalar adds a float32 scalar-shaped ([1]) initializer.
func (g *Graph) Scalar(v float32) string { return g.Const("", []int64{1}, []float32{v}) }

// Ints adds a 1-D int64 initializer, as Reshape's shape or Slice's bounds need.
func (g *Graph) Ints(v ...int64) string {
	raw := make([]byte, 0, 8*len(v))
	for _, x := range v {
		raw = binary.LittleEndian.AppendUint64(raw, uint64(x))
	}
	return g.initializer("", Int64, []int64{int64(len(v))}, raw)
}

// Op adds a node with one output and returns the output's name.
func (g *Graph) Op(opType string, inputs []string, attrs ...Attr) string {
	out := g.fresh(opType)
	g.OpTo(out, opType, inputs, attrs...)
	return out
}

// OpTo adds a node whose single output has the given name.
func (g *Graph) OpTo(out, opType string, inputs []string, attrs ...Attr) {
	var n buf
	for _, in := range inputs {
		n.string(1, in)
	}
	n.string(2, out)
	n.string(3, out+"_node")
	n.string(4, opType)
	for _, a := range attrs {
		n.message(5, a.m)
	}
	g.nodes = append(g.nodes, n)
}

// Model serialises the graph as a complete ModelProto.
func (g *Graph) Model(producer, version string) []byte {
	var graph buf
	for _, n := range g.nodes {
		graph.message(1, n)
	}
	graph.string(2, g.name)
	for _, t := range g.inits {
		graph.message(5, t)
	}
	for _, in := range g.inputs {
		graph.message(11, in)
	}
	for _, out := range g.outputs {
		graph.message(12, out)
	}
	ir, opsets := int64(IRVersion), g.opsets
	if len(opsets) == 0 {
		opsets = []OpsetID{{"", Opset}}
	}
	if g.irVersion > 0 {
		ir = g.irVersion
	}
	var m buf
	m.int(1, ir)
	m.string(2, producer)
	m.string(3, version)
	m.message(7, graph)
	for _, o := range opsets {
		var opset buf
		opset.string(1, o.Domain)
		opset.int(2, o.Version)
		m.message(8, opset)
	}
	for _, kv := range g.metadata {
		var p buf
		p.string(1, kv[0])
		p.string(2, kv[1])
		m.message(14, p)
	}
	return m
}

// The functions below let a reader of an existing model re-emit its graph
// (see Read): nodes with several outputs or a domain, initializers from raw
// bytes, tensor attributes, and the model's own opsets.

const attrTensor = 4

// AttrTensor is a tensor attribute (Constant's value, ConstantOfShape's value).
func AttrTensor(name string, t Tensor) Attr {
	return newAttr(name, attrTensor, func(b *buf) { b.message(5, tensorProto(t.Name, t.DataType, t.Dims, t.Raw)) })
}

func tensorProto(name string, dt DataType, dims []int64, raw []byte) buf {
	var t buf
	if len(dims) > 0 {
		t.packedInts(1, dims)
	}
	t.int(2, int64(dt))
	if name != "" {
		t.string(8, name)
	}
	t.bytes(9, raw)
	return t
}

// Initializer adds an initializer of any element type from its little-endian
// bytes. An empty name gets a generated one. The caller owns the size check.
func (g *Graph) Initializer(name string, dt DataType, dims []int64, raw []byte) string {
	return g.initializer(name, dt, dims, raw)
}

// Node adds a node with any number of outputs, an explicit node name and a
// domain ("" for the default ONNX domain).
func (g *Graph) Node(name, domain, opType string, inputs, outputs []string, attrs ...Attr) {
	var n buf
	for _, in := range inputs {
		n.string(1, in)
	}
	for _, out := range outputs {
		n.string(2, out)
	}
	if name != "" {
		n.string(3, name)
	}
	n.string(4, opType)
	for _, a := range attrs {
		n.message(5, a.m)
	}
	if domain != "" {
		n.string(7, domain)
	}
	g.nodes = append(g.nodes, n)
}

// DomainOp adds a node of another domain's operator (a custom kernel)
// with one output, returns the output's name, and imports the domain at
// version, as Import does.
func (g *Graph) DomainOp(domain string, version int64, opType string, inputs []string, attrs ...Attr) string {
	g.Import(domain, version)
	out := g.fresh(opType)
	g.Node(out+"_node", domain, opType, inputs, []string{out}, attrs...)
	return out
}

// Import adds an opset import for domain at version, beside the default
// ONNX domain's (or the ones SetOpsets set); a domain already imported
// keeps its version.
func (g *Graph) Import(domain string, version int64) {
	if len(g.opsets) == 0 {
		g.opsets = []OpsetID{{"", Opset}}
	}
	for _, o := range g.opsets {
		if o.Domain == domain {
			return
		}
	}
	g.opsets = append(g.opsets, OpsetID{domain, version})
}

// Reserve keeps generated names (Op, Const, Scalar, Ints) clear of names an
// existing graph already uses.
func (g *Graph) Reserve(names ...string) {
	if g.reserved == nil {
		g.reserved = make(map[string]bool)
	}
	for _, n := range names {
		g.reserved[n] = true
	}
}

// SetOpsets replaces the default opset import (ai.onnx at Opset) and the IR
// version, so a rewritten model keeps the versions its nodes were written for.
func (g *Graph) SetOpsets(irVersion int64, opsets ...OpsetID) {
	g.irVersion = irVersion
	g.opsets = opsets
}

// InputInfo declares a graph input with named dynamic dimensions: params[i],
// when not empty, names dimension i (dims[i] is then ignored).
func (g *Graph) InputInfo(name string, dt DataType, dims []int64, params []string) string {
	g.inputs = append(g.inputs, valueInfoNamed(name, dt, dims, params))
	return name
}

// OutputInfo declares a graph output with named dynamic dimensions, as InputInfo.
func (g *Graph) OutputInfo(name string, dt DataType, dims []int64, params []string) {
	g.outputs = append(g.outputs, valueInfoNamed(name, dt, dims, params))
}

func valueInfoNamed(name string, dt DataType, dims []int64, params []string) buf {
	return typedValue(name, dt, dims, dims != nil, func(i int, d int64) string {
		switch {
		case i < len(params) && params[i] != "":
			return params[i]
		case d < 0:
			return fmt.Sprintf("%s_d%d", name, i)
		}
		return ""
	})
}

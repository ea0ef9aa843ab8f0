package onnxpb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Model is a decoded ModelProto: the parts reverie reads to inspect or rewrite
// a graph. Subgraph attributes (If, Loop) are kept as encoded bytes.
type Model struct {
	IRVersion       int64
	ProducerName    string
	ProducerVersion string
	Opsets          []OpsetID
	Graph           GraphDef
	Metadata        [][2]string
}

// OpsetID is one opset import. The default ONNX domain is "".
type OpsetID struct {
	Domain  string
	Version int64
}

// Opset is the version imported for domain, or 0 when the model imports none.
func (m *Model) Opset(domain string) int64 {
	for _, o := range m.Opsets {
		if o.Domain == domain || (domain == "" && o.Domain == "ai.onnx") {
			return o.Version
		}
	}
	return 0
}

// GraphDef is a decoded GraphProto.
type GraphDef struct {
	Name         string
	Nodes        []Node
	Initializers []Tensor
	Inputs       []ValueInfo
	Outputs      []ValueInfo
	ValueInfo    []ValueInfo
}

// Node is a decoded NodeProto.
type Node struct {
	Name    string
	OpType  string
	Domain  string
	Inputs  []string // "" marks an omitted optional input
	Outputs []string
	Attrs   []Attribute
}

// AttrType is an AttributeProto.AttributeType.
type AttrType int32

// The attribute types; the rest (graphs, sparse tensors, type protos) are kept
// encoded and re-emitted unchanged.
const (
	AttrTypeFloat   AttrType = 1
	AttrTypeInt     AttrType = 2
	AttrTypeString  AttrType = 3
	AttrTypeTensor  AttrType = 4
	AttrTypeGraph   AttrType = 5
	AttrTypeFloats  AttrType = 6
	AttrTypeInts    AttrType = 7
	AttrTypeStrings AttrType = 8
)

// Attribute is a decoded AttributeProto.
type Attribute struct {
	Name    string
	Type    AttrType
	F       float32
	I       int64
	S       string
	T       *Tensor
	Floats  []float32
	Ints    []int64
	Strings []string
	raw     []byte // the encoded AttributeProto, for exact re-emission
}

// Attr returns the attribute in the form the Graph builder writes. An
// attribute that was read from a file is re-emitted byte for byte.
func (a Attribute) Attr() Attr {
	if a.raw != nil {
		return Attr{name: a.Name, m: append(buf(nil), a.raw...)}
	}
	switch a.Type {
	case AttrTypeFloat:
		return AttrFloat(a.Name, a.F)
	case AttrTypeInt:
		return AttrInt(a.Name, a.I)
	case AttrTypeString:
		return AttrString(a.Name, a.S)
	case AttrTypeFloats:
		return AttrFloats(a.Name, a.Floats...)
	case AttrTypeInts:
		return AttrInts(a.Name, a.Ints...)
	case AttrTypeTensor:
		if a.T != nil {
			return AttrTensor(a.Name, *a.T)
		}
	case AttrTypeStrings:
		return newAttr(a.Name, int64(AttrTypeStrings), func(b *buf) {
			for _, s := range a.Strings {
				b.string(9, s)
			}
		})
	}
	return newAttr(a.Name, int64(a.Type), func(*buf) {})
}

// Attr finds an attribute by name.
func (n *Node) Attr(name string) (*Attribute, bool) {
	for i := range n.Attrs {
		if n.Attrs[i].Name == name {
			return &n.Attrs[i], true
		}
	}
	return nil, false
}

// GetInt is an int attribute's value, or def when the node has none.
func (n *Node) GetInt(name string, def int64) int64 {
	if a, ok := n.Attr(name); ok {
		return a.I
	}
	return def
}

// GetFloat is a float attribute's value, or def when the node has none.
func (n *Node) GetFloat(name string, def float32) float32 {
	if a, ok := n.Attr(name); ok {
		return a.F
	}
	return def
}

// GetString is a string attribute's value, or def when the node has none.
func (n *Node) GetString(name, def string) string {
	if a, ok := n.Attr(name); ok {
		return a.S
	}
	return def
}

// GetInts is an ints attribute's value, or nil when the node has none.
func (n *Node) GetInts(name string) []int64 {
	if a, ok := n.Attr(name); ok {
		return a.Ints
	}
	return nil
}

// Input is the node's i-th input name, or "" when it is omitted.
func (n *Node) Input(i int) string {
	if i < len(n.Inputs) {
		return n.Inputs[i]
	}
	return ""
}

// Tensor is a decoded TensorProto. Whatever field the file used (raw_data,
// float_data, int32_data, int64_data, …), Raw holds the values little-endian,
// as raw_data would.
type Tensor struct {
	Name     string
	DataType DataType
	Dims     []int64
	Raw      []byte
}

// Len is the number of elements.
func (t *Tensor) Len() int64 {
	n := int64(1)
	for _, d := range t.Dims {
		n *= d
	}
	return n
}

// Floats decodes a float32 tensor.
func (t *Tensor) Floats() ([]float32, error) {
	if t.DataType != Float {
		return nil, fmt.Errorf("tensor %q is %s, not float", t.Name, t.DataType)
	}
	v := make([]float32, len(t.Raw)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.Raw[4*i:]))
	}
	return v, nil
}

// Int64s decodes an int64 or int32 tensor.
func (t *Tensor) Int64s() ([]int64, error) {
	switch t.DataType {
	case Int64:
		v := make([]int64, len(t.Raw)/8)
		for i := range v {
			v[i] = int64(binary.LittleEndian.Uint64(t.Raw[8*i:]))
		}
		return v, nil
	case Int32:
		v := make([]int64, len(t.Raw)/4)
		for i := range v {
			v[i] = int64(int32(binary.LittleEndian.Uint32(t.Raw[4*i:])))
		}
		return v, nil
	}
	return nil, fmt.Errorf("tensor %q is %s, not an integer type", t.Name, t.DataType)
}

// ValueInfo is a decoded graph input, output or value_info entry. Dims holds
// Dynamic where the file gives a dim_param (named in DimParams) or nothing.
type ValueInfo struct {
	Name      string
	ElemType  DataType
	Dims      []int64 // nil when the file gives no shape
	DimParams []string
	HasShape  bool
}

// More element types, for reading. Their sizes are in elemSize.
const (
	Int8     DataType = 3
	Uint16   DataType = 4
	Int16    DataType = 5
	Int32    DataType = 6
	String   DataType = 8
	Bool     DataType = 9
	Double   DataType = 11
	Uint32   DataType = 12
	Uint64   DataType = 13
	BFloat16 DataType = 16
)

var dataTypeNames = map[DataType]string{Float: "float", Uint8: "uint8", Int8: "int8", Uint16: "uint16",
	Int16: "int16", Int32: "int32", Int64: "int64", String: "string", Bool: "bool", Float16: "float16",
	Double: "double", Uint32: "uint32", Uint64: "uint64", BFloat16: "bfloat16"}

func (d DataType) String() string {
	if s, ok := dataTypeNames[d]; ok {
		return s
	}
	return fmt.Sprintf("data type %d", int32(d))
}

// elemSize is the byte size of one element, or 0 for types Read cannot hold.
func elemSize(d DataType) int {
	switch d {
	case Uint8, Int8, Bool:
		return 1
	case Uint16, Int16, Float16, BFloat16:
		return 2
	case Float, Int32, Uint32:
		return 4
	case Int64, Double, Uint64:
		return 8
	}
	return 0
}

// maxElements bounds a tensor's declared size, so a hostile header cannot ask
// for an absurd allocation before the data is checked against it.
const maxElements = 1 << 31

// field is one decoded protobuf field.
type field struct {
	num  int
	wire int
	v    uint64 // varint, fixed32, fixed64 values
	data []byte // length-delimited payload
}

var errTruncated = errors.New("truncated")

// fields splits a message into its fields, checking every length.
func fields(b []byte, fn func(f field) error) error {
	for len(b) > 0 {
		key, n := binary.Uvarint(b)
		if n <= 0 {
			return fmt.Errorf("bad field key: %w", errTruncated)
		}
		b = b[n:]
		f := field{num: int(key >> 3), wire: int(key & 7)}
		if key>>3 == 0 || key>>3 > 1<<29 {
			return fmt.Errorf("bad field number %d", key>>3)
		}
		switch f.wire {
		case 0:
			v, n := binary.Uvarint(b)
			if n <= 0 {
				return fmt.Errorf("field %d: bad varint: %w", f.num, errTruncated)
			}
			f.v, b = v, b[n:]
		case 1:
			if len(b) < 8 {
				return fmt.Errorf("field %d: %w", f.num, errTruncated)
			}
			f.v, b = binary.LittleEndian.Uint64(b), b[8:]
		case 2:
			l, n := binary.Uvarint(b)
			if n <= 0 || l > uint64(len(b)-n) {
				return fmt.Errorf("field %d: length past the end: %w", f.num, errTruncated)
			}
			f.data, b = b[n:n+int(l)], b[n+int(l):]
		case 5:
			if len(b) < 4 {
				return fmt.Errorf("field %d: %w", f.num, errTruncated)
			}
			f.v, b = uint64(binary.LittleEndian.Uint32(b)), b[4:]
		default:
			return fmt.Errorf("field %d: unsupported wire type %d", f.num, f.wire)
		}
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}

func (f field) str() (string, error) {
	if f.wire != 2 {
		return "", fmt.Errorf("field %d: expected a string, got wire type %d", f.num, f.wire)
	}
	return string(f.data), nil
}

func (f field) msg() ([]byte, error) {
	if f.wire != 2 {
		return nil, fmt.Errorf("field %d: expected a message, got wire type %d", f.num, f.wire)
	}
	return f.data, nil
}

func (f field) int() (int64, error) {
	if f.wire != 0 {
		return 0, fmt.Errorf("field %d: expected a varint, got wire type %d", f.num, f.wire)
	}
	return int64(f.v), nil
}

// appendInts reads a repeated integer field, packed or not.
func (f field) appendInts(dst []int64) ([]int64, error) {
	switch f.wire {
	case 0:
		return append(dst, int64(f.v)), nil
	case 2:
		for b := f.data; len(b) > 0; {
			v, n := binary.Uvarint(b)
			if n <= 0 {
				return nil, fmt.Errorf("field %d: bad packed varint: %w", f.num, errTruncated)
			}
			dst, b = append(dst, int64(v)), b[n:]
		}
		return dst, nil
	}
	return nil, fmt.Errorf("field %d: expected integers, got wire type %d", f.num, f.wire)
}

// appendFixed32 reads a repeated 32-bit field (float), packed or not.
func (f field) appendFixed32(dst []uint32) ([]uint32, error) {
	switch f.wire {
	case 5:
		return append(dst, uint32(f.v)), nil
	case 2:
		if len(f.data)%4 != 0 {
			return nil, fmt.Errorf("field %d: packed floats of %d bytes: %w", f.num, len(f.data), errTruncated)
		}
		for i := 0; i < len(f.data); i += 4 {
			dst = append(dst, binary.LittleEndian.Uint32(f.data[i:]))
		}
		return dst, nil
	}
	return nil, fmt.Errorf("field %d: expected floats, got wire type %d", f.num, f.wire)
}

// appendFixed64 reads a repeated 64-bit field (double), packed or not.
func (f field) appendFixed64(dst []uint64) ([]uint64, error) {
	switch f.wire {
	case 1:
		return append(dst, f.v), nil
	case 2:
		if len(f.data)%8 != 0 {
			return nil, fmt.Errorf("field %d: packed doubles of %d bytes: %w", f.num, len(f.data), errTruncated)
		}
		for i := 0; i < len(f.data); i += 8 {
			dst = append(dst, binary.LittleEndian.Uint64(f.data[i:]))
		}
		return dst, nil
	}
	return nil, fmt.Errorf("field %d: expected doubles, got wire type %d", f.num, f.wire)
}

// Read decodes an ONNX model. A truncated or malformed file is an error that
// says where decoding stopped; Read never panics on bad input.
func Read(data []byte) (*Model, error) {
	m := &Model{}
	var graph []byte
	err := fields(data, func(f field) error {
		var err error
		switch f.num {
		case 1:
			m.IRVersion, err = f.int()
		case 2:
			m.ProducerName, err = f.str()
		case 3:
			m.ProducerVersion, err = f.str()
		case 7:
			graph, err = f.msg()
		case 8:
			var b []byte
			if b, err = f.msg(); err == nil {
				var o OpsetID
				o, err = readOpset(b)
				m.Opsets = append(m.Opsets, o)
			}
		case 14:
			var b []byte
			if b, err = f.msg(); err == nil {
				var kv [2]string
				kv, err = readStringPair(b)
				m.Metadata = append(m.Metadata, kv)
			}
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("onnx model: %w", err)
	}
	if graph == nil {
		return nil, errors.New("onnx model: no graph (is this an ONNX file?)")
	}
	if err := readGraph(graph, &m.Graph); err != nil {
		return nil, fmt.Errorf("onnx model: graph: %w", err)
	}
	return m, nil
}

func readOpset(b []byte) (OpsetID, error) {
	var o OpsetID
	err := fields(b, func(f field) error {
		var err error
		switch f.num {
		case 1:
			o.Domain, err = f.str()
		case 2:
			o.Version, err = f.int()
		}
		return err
	})
	if err != nil {
		return o, fmt.Errorf("opset_import: %w", err)
	}
	return o, nil
}

func readStringPair(b []byte) ([2]string, error) {
	var kv [2]string
	err := fields(b, func(f field) error {
		var err error
		switch f.num {
		case 1:
			kv[0], err = f.str()
		case 2:
			kv[1], err = f.str()
		}
		return err
	})
	if err != nil {
		return kv, fmt.Errorf("metadata_props: %w", err)
	}
	return kv, nil
}

func readGraph(b []byte, g *GraphDef) error {
	return fields(b, func(f field) error {
		var err error
		var m []byte
		switch f.num {
		case 1, 5, 11, 12, 13:
			if m, err = f.msg(); err != nil {
				return err
			}
		}
		switch f.num {
		case 1:
			var n Node
			if err = readNode(m, &n); err != nil {
				return fmt.Errorf("node %d: %w", len(g.Nodes), err)
			}
			g.Nodes = append(g.Nodes, n)
		case 2:
			g.Name, err = f.str()
		case 5:
			var t Tensor
			if err = readTensor(m, &t); err != nil {
				return fmt.Errorf("initializer %d: %w", len(g.Initializers), err)
			}
			g.Initializers = append(g.Initializers, t)
		case 11, 12, 13:
			var vi ValueInfo
			if err = readValueInfo(m, &vi); err != nil {
				return fmt.Errorf("%s %d: %w", map[int]string{11: "input", 12: "output", 13: "value_info"}[f.num], len(g.Inputs), err)
			}
			switch f.num {
			case 11:
				g.Inputs = append(g.Inputs, vi)
			case 12:
				g.Outputs = append(g.Outputs, vi)
			default:
				g.ValueInfo = append(g.ValueInfo, vi)
			}
		}
		return err
	})
}

func readNode(b []byte, n *Node) error {
	err := fields(b, func(f field) error {
		var err error
		var s string
		switch f.num {
		case 1:
			if s, err = f.str(); err == nil {
				n.Inputs = append(n.Inputs, s)
			}
		case 2:
			if s, err = f.str(); err == nil {
				n.Outputs = append(n.Outputs, s)
			}
		case 3:
			n.Name, err = f.str()
		case 4:
			n.OpType, err = f.str()
		case 7:
			n.Domain, err = f.str()
		case 5:
			var m []byte
			if m, err = f.msg(); err == nil {
				var a Attribute
				if err = readAttribute(m, &a); err != nil {
					return fmt.Errorf("attribute %d: %w", len(n.Attrs), err)
				}
				n.Attrs = append(n.Attrs, a)
			}
		}
		return err
	})
	if err != nil && n.Name != "" {
		return fmt.Errorf("%q: %w", n.Name, err)
	}
	return err
}

func readAttribute(b []byte, a *Attribute) error {
	a.raw = b
	var floats []uint32
	err := fields(b, func(f field) error {
		var err error
		switch f.num {
		case 1:
			a.Name, err = f.str()
		case 20:
			var t int64
			t, err = f.int()
			a.Type = AttrType(t)
		case 2:
			if f.wire != 5 {
				return fmt.Errorf("field 2: expected a float, got wire type %d", f.wire)
			}
			a.F = math.Float32frombits(uint32(f.v))
		case 3:
			a.I, err = f.int()
		case 4:
			a.S, err = f.str()
		case 5:
			var m []byte
			if m, err = f.msg(); err == nil {
				a.T = &Tensor{}
				err = readTensor(m, a.T)
			}
		case 7:
			floats, err = f.appendFixed32(floats)
		case 8:
			a.Ints, err = f.appendInts(a.Ints)
		case 9:
			var s string
			if s, err = f.str(); err == nil {
				a.Strings = append(a.Strings, s)
			}
		}
		return err
	})
	for _, u := range floats {
		a.Floats = append(a.Floats, math.Float32frombits(u))
	}
	if err != nil && a.Name != "" {
		return fmt.Errorf("%q: %w", a.Name, err)
	}
	return err
}

func readValueInfo(b []byte, vi *ValueInfo) error {
	var typ []byte
	err := fields(b, func(f field) error {
		var err error
		switch f.num {
		case 1:
			vi.Name, err = f.str()
		case 2:
			typ, err = f.msg()
		}
		return err
	})
	if err != nil || typ == nil {
		return err
	}
	var tensor []byte
	err = fields(typ, func(f field) error {
		var err error
		if f.num == 1 {
			tensor, err = f.msg()
		}
		return err
	})
	if err != nil || tensor == nil {
		return err
	}
	return fields(tensor, func(f field) error {
		switch f.num {
		case 1:
			t, err := f.int()
			vi.ElemType = DataType(t)
			return err
		case 2:
			shape, err := f.msg()
			if err != nil {
				return err
			}
			vi.HasShape = true
			vi.Dims = []int64{}
			return fields(shape, func(f field) error {
				if f.num != 1 {
					return nil
				}
				dim, err := f.msg()
				if err != nil {
					return err
				}
				d, p := Dynamic, ""
				err = fields(dim, func(f field) error {
					var err error
					switch f.num {
					case 1:
						d, err = f.int()
					case 2:
						p, err = f.str()
					}
					return err
				})
				vi.Dims = append(vi.Dims, d)
				vi.DimParams = append(vi.DimParams, p)
				return err
			})
		}
		return nil
	})
}

func readTensor(b []byte, t *Tensor) error {
	var (
		dt                    int64
		floats                []uint32
		ints, int32s, uint64s []int64
		doubles               []uint64
		raw                   []byte
		external              bool
	)
	err := fields(b, func(f field) error {
		var err error
		switch f.num {
		case 1:
			t.Dims, err = f.appendInts(t.Dims)
		case 2:
			dt, err = f.int()
		case 4:
			floats, err = f.appendFixed32(floats)
		case 5:
			int32s, err = f.appendInts(int32s)
		case 7:
			ints, err = f.appendInts(ints)
		case 8:
			t.Name, err = f.str()
		case 9:
			raw, err = f.msg()
		case 10:
			doubles, err = f.appendFixed64(doubles)
		case 11:
			uint64s, err = f.appendInts(uint64s)
		case 14:
			var loc int64
			loc, err = f.int()
			external = loc == 1
		}
		return err
	})
	if err != nil {
		return tensorErr(t.Name, err)
	}
	t.DataType = DataType(dt)
	if external {
		return tensorErr(t.Name, errors.New("data is stored in an external file, which is not supported"))
	}
	n := int64(1)
	for _, d := range t.Dims {
		if d < 0 || d > maxElements || (d > 0 && n > maxElements/d) {
			return tensorErr(t.Name, fmt.Errorf("bad shape %v", t.Dims))
		}
		n *= d
	}
	size := elemSize(t.DataType)
	if size == 0 {
		return tensorErr(t.Name, fmt.Errorf("element type %s is not supported", t.DataType))
	}
	if n*int64(size) > math.MaxInt32*2 {
		return tensorErr(t.Name, fmt.Errorf("shape %v is too large", t.Dims))
	}
	switch {
	case raw != nil:
		t.Raw = raw
	case floats != nil:
		t.Raw = make([]byte, 4*len(floats))
		for i, v := range floats {
			binary.LittleEndian.PutUint32(t.Raw[4*i:], v)
		}
	case doubles != nil:
		t.Raw = make([]byte, 8*len(doubles))
		for i, v := range doubles {
			binary.LittleEndian.PutUint64(t.Raw[8*i:], v)
		}
	case ints != nil:
		t.Raw = make([]byte, 8*len(ints))
		for i, v := range ints {
			binary.LittleEndian.PutUint64(t.Raw[8*i:], uint64(v))
		}
	case uint64s != nil:
		t.Raw = make([]byte, size*len(uint64s))
		for i, v := range uint64s {
			putUint(t.Raw[size*i:], size, uint64(v))
		}
	case int32s != nil:
		// int32_data also carries the narrower types, one value per entry.
		t.Raw = make([]byte, size*len(int32s))
		for i, v := range int32s {
			putUint(t.Raw[size*i:], size, uint64(v))
		}
	default:
		t.Raw = []byte{}
	}
	if int64(len(t.Raw)) != n*int64(size) {
		return tensorErr(t.Name, fmt.Errorf("holds %d bytes, shape %v of %s needs %d", len(t.Raw), t.Dims, t.DataType, n*int64(size)))
	}
	return nil
}

func putUint(b []byte, size int, v uint64) {
	switch size {
	case 1:
		b[0] = byte(v)
	case 2:
		binary.LittleEndian.PutUint16(b, uint16(v))
	case 4:
		binary.LittleEndian.PutUint32(b, uint32(v))
	case 8:
		binary.LittleEndian.PutUint64(b, v)
	}
}

func tensorErr(name string, err error) error {
	if name == "" {
		return fmt.Errorf("tensor: %w", err)
	}
	return fmt.Errorf("tensor %q: %w", name, err)
}

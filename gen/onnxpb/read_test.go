package onnxpb

import (
	"encoding/binary"
	"math"
	"reflect"
	"strings"
	"testing"
)

// sampleModel exercises what Read decodes: several outputs, every attribute
// kind the writer emits, raw initializers, dynamic dims and metadata.
func sampleModel() []byte {
	g := NewGraph("sample")
	x := g.InputInfo("x", Float, []int64{1, 3, -1, -1}, []string{"", "", "h", "w"})
	w := g.Const("w", []int64{2, 3, 1, 1}, []float32{1, 2, 3, 4, 5, 6})
	y := g.Op("Conv", []string{x, w}, AttrInts("pads", 0, 0, 0, 0), AttrString("auto_pad", "NOTSET"), AttrInt("group", 1))
	g.Node("split", "", "Split", []string{y, g.Ints(1, 1)}, []string{"a", "b"}, AttrInt("axis", 1))
	g.Node("lr", "", "LeakyRelu", []string{"a"}, []string{"c"}, AttrFloat("alpha", 0.25), AttrFloats("unused", 1.5, -2))
	raw := binary.LittleEndian.AppendUint32(nil, math.Float32bits(7))
	g.Node("k", "", "Constant", nil, []string{"k"}, AttrTensor("value", Tensor{DataType: Float, Dims: []int64{1}, Raw: raw}))
	g.Initializer("i32", Int32, []int64{2}, []byte{1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff})
	g.OutputInfo("c", Float, []int64{1, 1, -1, -1}, []string{"", "", "h", "w"})
	g.Metadata("purpose", "test")
	return g.Model("reverie", "test")
}

func TestReadRoundTrip(t *testing.T) {
	m, err := Read(sampleModel())
	if err != nil {
		t.Fatal(err)
	}
	if m.Opset("") != Opset || m.IRVersion != IRVersion || m.ProducerName != "reverie" {
		t.Errorf("header: opset %d ir %d producer %q", m.Opset(""), m.IRVersion, m.ProducerName)
	}
	g := &m.Graph
	if len(g.Nodes) != 4 {
		t.Fatalf("%d nodes, want 4", len(g.Nodes))
	}
	split := g.Nodes[1]
	if split.OpType != "Split" || !reflect.DeepEqual(split.Outputs, []string{"a", "b"}) || split.GetInt("axis", -9) != 1 {
		t.Errorf("split node: %+v", split)
	}
	lr := g.Nodes[2]
	if lr.GetFloat("alpha", 0) != 0.25 {
		t.Errorf("alpha %v", lr.GetFloat("alpha", 0))
	}
	if a, _ := lr.Attr("unused"); a == nil || !reflect.DeepEqual(a.Floats, []float32{1.5, -2}) {
		t.Errorf("floats attribute: %+v", a)
	}
	if got := g.Nodes[0].GetString("auto_pad", ""); got != "NOTSET" {
		t.Errorf("auto_pad %q", got)
	}
	if got := g.Nodes[0].GetInts("pads"); !reflect.DeepEqual(got, []int64{0, 0, 0, 0}) {
		t.Errorf("pads %v", got)
	}
	if a, _ := g.Nodes[3].Attr("value"); a == nil || a.T == nil {
		t.Fatal("Constant's tensor attribute missing")
	} else if v, err := a.T.Floats(); err != nil || !reflect.DeepEqual(v, []float32{7}) {
		t.Errorf("tensor attribute: %v %v", v, err)
	}
	var w *Tensor
	for i := range g.Initializers {
		if g.Initializers[i].Name == "w" {
			w = &g.Initializers[i]
		}
		if g.Initializers[i].Name == "i32" {
			if v, err := g.Initializers[i].Int64s(); err != nil || !reflect.DeepEqual(v, []int64{1, -1}) {
				t.Errorf("int32 initializer: %v %v", v, err)
			}
		}
	}
	if w == nil {
		t.Fatal("initializer w missing")
	}
	if v, _ := w.Floats(); !reflect.DeepEqual(v, []float32{1, 2, 3, 4, 5, 6}) || !reflect.DeepEqual(w.Dims, []int64{2, 3, 1, 1}) {
		t.Errorf("w: %v %v", w.Dims, v)
	}
	in := g.Inputs[0]
	if !reflect.DeepEqual(in.Dims, []int64{1, 3, Dynamic, Dynamic}) || in.DimParams[2] != "h" || in.ElemType != Float {
		t.Errorf("input: %+v", in)
	}
	if !reflect.DeepEqual(m.Metadata, [][2]string{{"purpose", "test"}}) {
		t.Errorf("metadata %v", m.Metadata)
	}

	// Re-emitting the decoded graph reproduces it.
	out := NewGraph(g.Name)
	for _, vi := range g.Inputs {
		out.InputInfo(vi.Name, vi.ElemType, vi.Dims, vi.DimParams)
	}
	for _, n := range g.Nodes {
		var attrs []Attr
		for _, a := range n.Attrs {
			attrs = append(attrs, a.Attr())
		}
		out.Node(n.Name, n.Domain, n.OpType, n.Inputs, n.Outputs, attrs...)
	}
	for _, t := range g.Initializers {
		out.Initializer(t.Name, t.DataType, t.Dims, t.Raw)
	}
	m2, err := Read(out.Model("reverie", "test"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(stripRaw(m2.Graph.Nodes), stripRaw(g.Nodes)) {
		t.Errorf("re-emitted nodes differ:\n%+v\n%+v", m2.Graph.Nodes, g.Nodes)
	}
}

func stripRaw(nodes []Node) []Node {
	out := make([]Node, len(nodes))
	for i, n := range nodes {
		n.Attrs = append([]Attribute(nil), n.Attrs...)
		for j := range n.Attrs {
			n.Attrs[j].raw = nil
		}
		out[i] = n
	}
	return out
}

// The unpacked and typed-field forms of TensorProto data, which other
// exporters write, decode to the same Raw bytes.
func TestReadTensorForms(t *testing.T) {
	var tb buf
	tb.int(1, 2) // dims, unpacked
	tb.int(2, int64(Float))
	tb.float(4, 1.5) // float_data, unpacked
	tb.float(4, -2)
	tb.string(8, "f")
	var tensor Tensor
	if err := readTensor(tb, &tensor); err != nil {
		t.Fatal(err)
	}
	if v, _ := tensor.Floats(); !reflect.DeepEqual(v, []float32{1.5, -2}) {
		t.Errorf("float_data: %v", v)
	}
	tb = nil
	tb.packedInts(1, []int64{3})
	tb.int(2, int64(Int64))
	tb.packedInts(7, []int64{5, -6, 7})
	tensor = Tensor{}
	if err := readTensor(tb, &tensor); err != nil {
		t.Fatal(err)
	}
	if v, _ := tensor.Int64s(); !reflect.DeepEqual(v, []int64{5, -6, 7}) {
		t.Errorf("int64_data: %v", v)
	}
	tb = nil
	tb.packedInts(1, []int64{3})
	tb.int(2, int64(Float))
	tb.packedFloats(4, []float32{1})
	if err := readTensor(tb, &Tensor{}); err == nil || !strings.Contains(err.Error(), "needs 12") {
		t.Errorf("short float_data: %v", err)
	}
}

func TestReadErrors(t *testing.T) {
	good := sampleModel()
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "no graph"},
		{"truncated", good[:len(good)/2], "truncated"},
		{"garbage", []byte("not a model at all"), "onnx model"},
		{"huge length", []byte{0x3a, 0xff, 0xff, 0xff, 0xff, 0x0f}, "length past the end"},
	} {
		_, err := Read(tc.data)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
	// Every prefix of a good model either decodes or fails cleanly.
	for i := range good {
		Read(good[:i])
	}
}

func FuzzRead(f *testing.F) {
	f.Add(sampleModel())
	f.Add([]byte{})
	f.Add([]byte{0x3a, 0x02, 0x0a, 0x00})
	var tb buf
	tb.packedInts(1, []int64{1 << 40, 1 << 40})
	tb.int(2, int64(Float))
	var g buf
	g.message(5, tb)
	var m buf
	m.message(7, g)
	f.Add([]byte(m))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Read(data)
		if err != nil {
			return
		}
		for _, n := range m.Graph.Nodes {
			for _, a := range n.Attrs {
				_ = a.Attr()
			}
		}
		for _, t := range m.Graph.Initializers {
			if t.DataType == Float {
				t.Floats()
			}
		}
	})
}

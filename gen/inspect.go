package gen

import (
	"fmt"
	"sort"
	"strings"

	ort "github.com/yalue/onnxruntime_go"

	"reverie/gen/onnxpb"
)

// Info is what an ONNX file declares: its inputs, outputs and metadata, as
// `reverie models inspect` prints them.
type Info struct {
	Path     string
	Producer string
	Inputs   []TensorInfo
	Outputs  []TensorInfo
	Metadata map[string]string

	ins, outs []ort.InputOutputInfo
}

// TensorInfo is one declared input or output. -1 in Shape is a dimension
// chosen at run time.
type TensorInfo struct {
	Name  string
	Shape []int64
	DType string
}

func (t TensorInfo) String() string { return fmt.Sprintf("%s %v %s", t.Name, t.Shape, t.DType) }

// Inspect reads an ONNX file's declared inputs, outputs and metadata. Init
// must have loaded ONNX Runtime.
func Inspect(path string) (*Info, error) {
	data, err := readUserFile(path, "model", MaxModelBytes)
	if err != nil {
		return nil, err
	}
	ins, outs, err := ort.GetInputOutputInfoWithONNXData(data)
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), "Error creating temporary session: ")
		return nil, fmt.Errorf("model %s: not a readable ONNX model (%s); expected a file written by an ONNX exporter such as torch.onnx.export", path, firstLine(fmt.Errorf("%s", msg)))
	}
	info := &Info{Path: path, ins: ins, outs: outs, Metadata: map[string]string{}}
	for _, x := range ins {
		info.Inputs = append(info.Inputs, tensorInfo(x))
	}
	for _, x := range outs {
		info.Outputs = append(info.Outputs, tensorInfo(x))
	}
	if md, err := ort.GetModelMetadataWithONNXData(data); err == nil {
		info.Producer, _ = md.GetProducerName()
		keys, _ := md.GetCustomMetadataMapKeys()
		sort.Strings(keys)
		for _, k := range keys {
			if v, ok, _ := md.LookupCustomMetadataMap(k); ok {
				info.Metadata[k] = v
			}
		}
		md.Destroy()
	}
	return info, nil
}

func tensorInfo(x ort.InputOutputInfo) TensorInfo {
	names := map[ort.TensorElementDataType]string{
		ort.TensorElementDataTypeFloat:    "float32",
		ort.TensorElementDataTypeFloat16:  "float16",
		ort.TensorElementDataTypeUint8:    "uint8",
		ort.TensorElementDataTypeInt64:    "int64",
		ort.TensorElementDataTypeInt32:    "int32",
		ort.TensorElementDataTypeDouble:   "float64",
		ort.TensorElementDataTypeBFloat16: "bfloat16",
	}
	dt, ok := names[x.DataType]
	if !ok {
		dt = x.DataType.String()
	}
	return TensorInfo{Name: x.Name, Shape: append([]int64(nil), x.Dimensions...), DType: dt}
}

// Check compares the file's inputs and outputs with a manifest and returns
// one error that lists every mismatch, or nil when they fit. The notes say
// what was assumed to make them fit (a dynamic batch taken as 1).
func (i *Info) Check(man *Manifest) (notes []string, err error) {
	plan, err := compareIO(man, i.ins, i.outs)
	if err != nil {
		return nil, fmt.Errorf("%s", strings.Replace(err.Error(), man.Source(), i.Path, 1))
	}
	return plan.notes, nil
}

// Tensor is one node output of a model, as `reverie models layers` lists it.
type Tensor struct {
	Name string
	Op   string
}

// Tensors lists every node output of the ONNX file at path, in graph order:
// the names a dream manifest's layers may use.
func Tensors(path string) ([]Tensor, error) {
	data, err := readUserFile(path, "model", MaxModelBytes)
	if err != nil {
		return nil, err
	}
	m, err := onnxpb.Read(data)
	if err != nil {
		return nil, fmt.Errorf("model %s: not a readable ONNX model (%v)", path, err)
	}
	var out []Tensor
	for _, n := range m.Graph.Nodes {
		for _, o := range n.Outputs {
			if o != "" {
				out = append(out, Tensor{Name: o, Op: n.OpType})
			}
		}
	}
	return out, nil
}

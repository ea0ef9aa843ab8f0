package gen

import (
	"errors"
	"fmt"

	ort "github.com/yalue/onnxruntime_go"
)

// Net is a trained network (one of gen/networks' catalog, or any ONNX model
// with one float image input) loaded at a fixed input size, with its input
// and output tensors allocated once: Run allocates nothing.
type Net struct {
	Path     string
	Provider string

	session *ort.AdvancedSession
	input   *ort.Tensor[float32]
	names   []string
	outputs []*ort.Tensor[float32]
}

// OpenNet loads the ONNX file at path for input shape (its dynamic
// dimensions fixed to these sizes) and every declared output.
func OpenNet(path string, shape []int64, sc SessionConfig) (*Net, Warning, error) {
	if !ort.IsInitialized() {
		return nil, "", errors.New("ONNX Runtime is not loaded: call gen.Init first")
	}
	data, err := readUserFile(path, "network", MaxModelBytes)
	if err != nil {
		return nil, "", err
	}
	ins, outs, err := ort.GetInputOutputInfoWithONNXData(data)
	if err != nil {
		return nil, "", fmt.Errorf("network %s: not a readable ONNX model", path)
	}
	if len(ins) != 1 || ins[0].DataType != ort.TensorElementDataTypeFloat {
		return nil, "", fmt.Errorf("network %s: expected one float32 image input, found %d inputs", path, len(ins))
	}
	declared := ins[0].Dimensions
	if len(declared) != len(shape) {
		return nil, "", fmt.Errorf("network %s: input %q has %d dimensions %v, asked for %v", path, ins[0].Name, len(declared), declared, shape)
	}
	for i, d := range declared {
		if d > 0 && d != shape[i] {
			return nil, "", fmt.Errorf("network %s: input %q is fixed at %v, asked for %v", path, ins[0].Name, declared, shape)
		}
	}
	n := &Net{Path: path}
	for _, o := range outs {
		if o.DataType != ort.TensorElementDataTypeFloat {
			return nil, "", fmt.Errorf("network %s: output %q is %s, expected float32", path, o.Name, o.DataType)
		}
		n.names = append(n.names, o.Name)
	}
	opts, provider, warning, err := sessionOptions(sc)
	if err != nil {
		return nil, "", fmt.Errorf("network %s: %w", path, err)
	}
	defer opts.Destroy()
	n.Provider = provider
	if n.input, err = ort.NewEmptyTensor[float32](ort.NewShape(shape...)); err != nil {
		return nil, "", fmt.Errorf("network %s: input tensor %v: %w", path, shape, err)
	}
	// Output sizes follow the input's: one run of a dynamic session finds them.
	probe, err := ort.NewDynamicAdvancedSessionWithONNXData(data, []string{ins[0].Name}, n.names, opts)
	if err != nil {
		n.Close()
		return nil, "", fmt.Errorf("network %s: ONNX Runtime could not create a session: %v", path, err)
	}
	vals := make([]ort.Value, len(n.names))
	err = probe.Run([]ort.Value{n.input}, vals)
	probe.Destroy()
	if err != nil {
		n.Close()
		return nil, "", fmt.Errorf("network %s: a %v input does not run: %v", path, shape, err)
	}
	bound := make([]ort.Value, len(vals))
	for i, v := range vals {
		t, err := ort.NewEmptyTensor[float32](v.GetShape())
		v.Destroy()
		if err != nil {
			n.Close()
			return nil, "", fmt.Errorf("network %s: output %q: %w", path, n.names[i], err)
		}
		n.outputs = append(n.outputs, t)
		bound[i] = t
	}
	n.session, err = ort.NewAdvancedSessionWithONNXData(data, []string{ins[0].Name}, n.names, []ort.Value{n.input}, bound, opts)
	if err != nil {
		n.Close()
		return nil, "", fmt.Errorf("network %s: ONNX Runtime could not create a session: %v", path, err)
	}
	return n, warning, nil
}

// Input is the input tensor's data: fill it, then Run.
func (n *Net) Input() []float32 { return n.input.GetData() }

// Run runs the network on the current input.
func (n *Net) Run() error {
	if err := n.session.Run(); err != nil {
		return fmt.Errorf("network %s: %v", n.Path, err)
	}
	return nil
}

// Outputs are the output names, in the model's order.
func (n *Net) Outputs() []string { return n.names }

// Output returns output i's data and shape, valid until the next Run.
func (n *Net) Output(i int) ([]float32, []int64) {
	return n.outputs[i].GetData(), n.outputs[i].GetShape()
}

// OutputByName returns the named output, or false.
func (n *Net) OutputByName(name string) ([]float32, []int64, bool) {
	for i, s := range n.names {
		if s == name {
			d, sh := n.Output(i)
			return d, sh, true
		}
	}
	return nil, nil, false
}

// Close frees the session and tensors.
func (n *Net) Close() {
	if n.session != nil {
		n.session.Destroy()
	}
	if n.input != nil {
		n.input.Destroy()
	}
	for _, t := range n.outputs {
		t.Destroy()
	}
	n.session, n.input, n.outputs = nil, nil, nil
}

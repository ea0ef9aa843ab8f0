package gen

import (
	"errors"
	"fmt"
	"math"
	"os"

	ort "github.com/yalue/onnxruntime_go"
)

// SessionConfig holds the ONNX Runtime session options a model loads with.
type SessionConfig struct {
	Provider string // cpu | cuda | tensorrt | coreml | directml
	Threads  int    // intra-op threads, 0 lets ONNX Runtime choose
	Strict   bool   // fail instead of falling back to CPU
}

// Model is one loaded generator: an ONNX Runtime session with its input and
// output tensors allocated once and reused for every frame.
type Model struct {
	Manifest *Manifest
	Provider string // the provider the session actually runs on

	session *ort.AdvancedSession
	latent  *ort.Tensor[float32]
	extras  []*ort.Tensor[float32]
	output  ort.Value
	f32     []float32 // output data, by dtype
	f16     []uint16
	u8      []uint8
}

// Width and Height are the size of the frames the model produces.
func (m *Model) Width() int  { return m.Manifest.Output.Width }
func (m *Model) Height() int { return m.Manifest.Output.Height }

// Warning is set when the model loaded on a fallback provider.
type Warning string

// Load opens a session for the manifest's model. The returned warning is
// non-empty when the requested provider was unavailable and CPU is used.
func Load(man *Manifest, sc SessionConfig) (*Model, Warning, error) {
	data := man.onnx
	if data == nil {
		var err error
		data, err = os.ReadFile(man.ModelPath())
		if err != nil {
			return nil, "", fmt.Errorf("model %s: %w", man.ModelPath(), unwrapPathError(err))
		}
	}
	if !ort.IsInitialized() {
		return nil, "", errors.New("ONNX Runtime is not loaded: call gen.Init first")
	}
	m := &Model{Manifest: man}
	var err error
	if m.latent, err = ort.NewEmptyTensor[float32](ort.NewShape(1, int64(man.Latent.Dim))); err != nil {
		return nil, "", fmt.Errorf("model %s: latent tensor: %w", man.Source(), err)
	}
	inputs := []ort.Value{m.latent}
	names := []string{man.Latent.Input}
	for _, in := range man.Inputs {
		t, err := ort.NewEmptyTensor[float32](ort.NewShape(in.Shape...))
		if err != nil {
			m.Close()
			return nil, "", fmt.Errorf("model %s: input %q: %w", man.Source(), in.Name, err)
		}
		d := t.GetData()
		for i := range d {
			if in.Values != nil {
				d[i] = in.Values[i]
			} else {
				d[i] = in.Value
			}
		}
		m.extras = append(m.extras, t)
		inputs = append(inputs, t)
		names = append(names, in.Name)
	}
	o := man.Output
	shape := ort.NewShape(1, 3, int64(o.Height), int64(o.Width))
	if o.Layout == "NHWC" {
		shape = ort.NewShape(1, int64(o.Height), int64(o.Width), 3)
	}
	switch o.DType {
	case "float16":
		t, e := ort.NewEmptyTensor[uint16](shape)
		m.output, err = t, e
		if e == nil {
			m.f16 = t.GetData()
		}
	case "uint8":
		t, e := ort.NewEmptyTensor[uint8](shape)
		m.output, err = t, e
		if e == nil {
			m.u8 = t.GetData()
		}
	default:
		t, e := ort.NewEmptyTensor[float32](shape)
		m.output, err = t, e
		if e == nil {
			m.f32 = t.GetData()
		}
	}
	if err != nil {
		m.output = nil
		m.Close()
		return nil, "", fmt.Errorf("model %s: output tensor: %w", man.Source(), err)
	}
	if err := checkIO(man, data); err != nil {
		m.Close()
		return nil, "", err
	}
	opts, provider, warning, err := sessionOptions(sc)
	if err != nil {
		m.Close()
		return nil, "", fmt.Errorf("model %s: %w", man.Source(), err)
	}
	defer opts.Destroy()
	m.Provider = provider
	m.session, err = ort.NewAdvancedSessionWithONNXData(data, names, []string{o.Name}, inputs, []ort.Value{m.output}, opts)
	if err != nil {
		m.Close()
		return nil, "", fmt.Errorf("model %s: ONNX Runtime could not create a session: %v", man.Source(), err)
	}
	return m, warning, nil
}

// checkIO compares the model's declared inputs and outputs with the manifest,
// so a mismatch is reported by name instead of as an ONNX Runtime failure.
func checkIO(man *Manifest, data []byte) error {
	ins, outs, err := ort.GetInputOutputInfoWithONNXData(data)
	if err != nil {
		return fmt.Errorf("model %s: not a readable ONNX model: %v", man.Source(), err)
	}
	return compareIO(man, ins, outs)
}

// Run writes z into the latent tensor, runs the session and converts the
// output into dst as RGBA (len W*H*4). It allocates nothing.
func (m *Model) Run(z []float32, dst []byte) error {
	if len(z) != m.Manifest.Latent.Dim {
		return fmt.Errorf("model %s: latent has %d values, expected %d", m.Manifest.Source(), len(z), m.Manifest.Latent.Dim)
	}
	copy(m.latent.GetData(), z)
	if err := m.session.Run(); err != nil {
		return fmt.Errorf("model %s: run failed: %v", m.Manifest.Source(), err)
	}
	return m.convert(dst)
}

// SetInput sets every element of a controllable extra input.
func (m *Model) SetInput(name string, v float32) error {
	for i, in := range m.Manifest.Inputs {
		if in.Name == name || (in.Param != "" && in.Param == name) {
			d := m.extras[i].GetData()
			for j := range d {
				d[j] = v
			}
			return nil
		}
	}
	return fmt.Errorf("model %s has no input or parameter %q", m.Manifest.Source(), name)
}

// ErrNonFinite is wrapped by Run when a model outputs NaN or Inf.
var ErrNonFinite = errors.New("output contains NaN or Inf")

// convert maps the output tensor to RGBA bytes by layout, range and dtype.
func (m *Model) convert(dst []byte) error {
	o := m.Manifest.Output
	w, h := o.Width, o.Height
	n := w * h
	if len(dst) < 4*n {
		return fmt.Errorf("frame buffer holds %d bytes, expected %d", len(dst), 4*n)
	}
	scale := 255 / (o.Range[1] - o.Range[0])
	lo := o.Range[0]
	// Element i of channel c sits at c*n+i (NCHW) or i*3+c (NHWC).
	cs, ps := n, 1
	if o.Layout == "NHWC" {
		cs, ps = 1, 3
	}
	bad := false
	for i := 0; i < n; i++ {
		for c := 0; c < 3; c++ {
			k := c*cs + i*ps
			var v float32
			switch {
			case m.f32 != nil:
				v = m.f32[k]
			case m.f16 != nil:
				v = halfToFloat(m.f16[k])
			default:
				v = float32(m.u8[k])
			}
			if v != v || v > math.MaxFloat32 || v < -math.MaxFloat32 {
				bad = true
				v = lo
			}
			x := (v - lo) * scale
			if x < 0 {
				x = 0
			} else if x > 255 {
				x = 255
			}
			dst[i*4+c] = uint8(x + 0.5)
		}
		dst[i*4+3] = 255
	}
	if bad {
		return fmt.Errorf("model %s: %w", m.Manifest.Source(), ErrNonFinite)
	}
	return nil
}

// halfToFloat converts an IEEE 754 binary16 value.
func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0 && frac == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal
		f := float32(frac) / 1024 / 16384
		if sign != 0 {
			return -f
		}
		return f
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | frac<<13)
	}
	return math.Float32frombits(sign | (exp+112)<<23 | frac<<13)
}

// Close destroys the session and every tensor. It is safe on a partly built Model.
func (m *Model) Close() {
	if m.session != nil {
		m.session.Destroy()
		m.session = nil
	}
	if m.latent != nil {
		m.latent.Destroy()
		m.latent = nil
	}
	for _, t := range m.extras {
		t.Destroy()
	}
	m.extras = nil
	if m.output != nil {
		m.output.Destroy()
		m.output = nil
	}
}

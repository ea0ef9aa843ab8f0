package gen

import (
	"errors"
	"fmt"
	"strings"
	"unsafe"

	ort "github.com/yalue/onnxruntime_go"

	"reverie/internal/split"
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
	latent  *ort.Tensor[float32] // nil for an image model without one
	image   *ort.Tensor[float32] // an image model's picture input, else nil
	img     *imageInput
	extras  []*ort.Tensor[float32]
	output  ort.Value
	f32     []float32 // output data, by dtype
	f16     []uint16
	u8      []uint8

	pool      *split.Pool // the cores the bands and then Convert run on; nil: the caller's
	conv      conversion
	convertFn func(lo, hi int) // m.convertRange, made once

	// A built-in's bands (see Band), when it runs in them: then
	// session is nil.
	bands   []*ort.AdvancedSession
	bandOut []*ort.Tensor[float32]
	bandErr []error
	bandsFn func(lo, hi int) // m.runBands, made once
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
		data, err = readUserFile(man.ModelPath(), "model", MaxModelBytes)
		if err != nil {
			return nil, "", err
		}
	}
	if !ort.IsInitialized() {
		return nil, "", errors.New("ONNX Runtime is not loaded: call gen.Init first")
	}
	plan, err := checkIO(man, data)
	if err != nil {
		return nil, "", err
	}
	m := &Model{Manifest: man}
	var inputs []ort.Value
	var names []string
	if plan.latent != nil {
		if m.latent, err = ort.NewEmptyTensor[float32](ort.NewShape(plan.latent...)); err != nil {
			return nil, "", fmt.Errorf("model %s: latent tensor: %w", man.Source(), err)
		}
		inputs, names = append(inputs, m.latent), append(names, man.Latent.Input)
	}
	if im := man.Image; im != nil {
		if m.image, err = ort.NewEmptyTensor[float32](ort.NewShape(im.shape()...)); err != nil {
			m.Close()
			return nil, "", fmt.Errorf("model %s: image tensor: %w", man.Source(), err)
		}
		m.img = newImageInput(*im, m.image.GetData())
		inputs, names = append(inputs, m.image), append(names, im.Input)
	}
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
	if err := m.newOutput(); err != nil {
		m.Close()
		return nil, "", fmt.Errorf("model %s: output tensor: %w", man.Source(), err)
	}
	opts, provider, warning, err := sessionOptions(sc)
	if err != nil {
		m.Close()
		return nil, "", fmt.Errorf("model %s: %w", man.Source(), err)
	}
	defer opts.Destroy()
	m.Provider = provider
	if b := man.bands; len(b) > 1 && provider == "cpu" && (sc.Threads == 0 || sc.Threads >= len(b)) && m.f32 != nil && man.Output.Layout == "NHWC" {
		err = m.openBands(names, inputs, sc)
	} else {
		m.session, err = ort.NewAdvancedSessionWithONNXData(data, names, []string{man.Output.Name}, inputs, []ort.Value{m.output}, opts)
	}
	if err != nil {
		m.Close()
		return nil, "", fmt.Errorf("model %s: ONNX Runtime could not create a session: %v", man.Source(), err)
	}
	if len(m.bands) > 0 {
		// The bands run side by side, and so do the conversions after
		// them. A whole model's session runs on ONNX Runtime's own
		// threads, which spin on the other cores for a while after the
		// run: work handed to those cores then waits for them, so there
		// the conversions stay on the runner's goroutine.
		m.pool = split.New()
	}
	m.convertFn = m.convertRange
	return m, warning, nil
}

// checkIO compares the model's declared inputs and outputs with the manifest,
// so a mismatch is reported by name instead of as an ONNX Runtime failure.
func checkIO(man *Manifest, data []byte) (ioPlan, error) {
	var ins, outs []ort.InputOutputInfo
	var err error
	if man.kernels {
		ins, outs, err = graphIO(data)
	} else {
		ins, outs, err = ort.GetInputOutputInfoWithONNXData(data)
	}
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), "Error creating temporary session: ")
		return ioPlan{}, fmt.Errorf("model %s: not a readable ONNX model (%s); expected a file written by an ONNX exporter such as torch.onnx.export", man.Source(), firstLine(errors.New(msg)))
	}
	return compareIO(man, ins, outs)
}

// newOutput allocates the output tensor in the manifest's layout and dtype.
// float16 has no Go type, so it is a custom-typed tensor read as uint16 bits.
func (m *Model) newOutput() error {
	o := m.Manifest.Output
	shape := ort.NewShape(1, 3, int64(o.Height), int64(o.Width))
	if o.Layout == "NHWC" {
		shape = ort.NewShape(1, int64(o.Height), int64(o.Width), 3)
	}
	switch o.DType {
	case "float16":
		raw := make([]uint16, 3*o.Width*o.Height)
		t, err := ort.NewCustomDataTensor(shape, unsafe.Slice((*byte)(unsafe.Pointer(&raw[0])), 2*len(raw)), ort.TensorElementDataTypeFloat16)
		if err != nil {
			return err
		}
		m.output, m.f16 = t, raw
	case "uint8":
		t, err := ort.NewEmptyTensor[uint8](shape)
		if err != nil {
			return err
		}
		m.output, m.u8 = t, t.GetData()
	default:
		t, err := ort.NewEmptyTensor[float32](shape)
		if err != nil {
			return err
		}
		m.output, m.f32 = t, t.GetData()
	}
	return nil
}

// Run writes z into the latent tensor, runs the session and converts the
// output into dst as RGBA (len W*H*4). It allocates nothing.
func (m *Model) Run(z []float32, dst []byte) error {
	if err := m.Infer(z); err != nil {
		return err
	}
	return m.Convert(dst)
}

// Infer runs the session on z and leaves the result in the output tensor:
// Run without the RGBA conversion.
func (m *Model) Infer(z []float32) error {
	if len(z) != m.Manifest.Latent.Dim {
		return fmt.Errorf("model %s: latent has %d values, expected %d", m.Manifest.Source(), len(z), m.Manifest.Latent.Dim)
	}
	if m.latent != nil {
		copy(m.latent.GetData(), z)
	}
	if err := m.run(); err != nil {
		return fmt.Errorf("model %s: run failed: %v", m.Manifest.Source(), err)
	}
	return nil
}

// openBands opens one single-threaded session per band of the frame
// (see Band), each writing its rows of the output in place.
func (m *Model) openBands(names []string, inputs []ort.Value, sc SessionConfig) error {
	one := sc
	one.Threads = 1
	opts, _, _, err := sessionOptions(one)
	if err != nil {
		return err
	}
	defer opts.Destroy()
	o := m.Manifest.Output
	for _, b := range m.Manifest.bands {
		rows := m.f32[3*o.Width*b.Y0 : 3*o.Width*b.Y1]
		t, err := ort.NewTensor(ort.NewShape(1, int64(b.Y1-b.Y0), int64(o.Width), 3), rows)
		if err != nil {
			return err
		}
		m.bandOut = append(m.bandOut, t)
		s, err := ort.NewAdvancedSessionWithONNXData(b.ONNX, names, []string{o.Name}, inputs, []ort.Value{t}, opts)
		if err != nil {
			return err
		}
		m.bands = append(m.bands, s)
	}
	m.bandErr = make([]error, len(m.bands))
	m.bandsFn = m.runBands
	return nil
}

// run runs the session, or the bands side by side.
func (m *Model) run() error {
	if len(m.bands) == 0 {
		return m.session.Run()
	}
	m.pool.Do(len(m.bands), 1, m.bandsFn)
	for _, err := range m.bandErr {
		if err != nil {
			return err
		}
	}
	return nil
}

// runBands runs bands [lo, hi).
func (m *Model) runBands(lo, hi int) {
	for i := lo; i < hi; i++ {
		m.bandErr[i] = m.bands[i].Run()
	}
}

// SetImage converts p into the image input, cropped to its aspect and
// sampled to its size, for the next run. It allocates nothing once the
// picture's size settles. A model without an image input ignores it.
func (m *Model) SetImage(p *Picture) error {
	if m.img == nil {
		return nil
	}
	if err := m.img.fill(p); err != nil {
		return fmt.Errorf("model %s: image input %q: %w", m.Manifest.Source(), m.img.spec.Input, err)
	}
	return nil
}

// RunSession runs the session on its tensors as they are, with nothing
// around it: the bare baseline that Run's and the Runner's overhead is
// measured against.
func (m *Model) RunSession() error { return m.run() }

// SetInput sets every element of an extra input, by input or param name.
// It is not safe while another goroutine runs the model: a Runner's model is
// set through Runner.SetInput, which applies the value between frames.
func (m *Model) SetInput(name string, v float32) error {
	for i, in := range m.Manifest.Inputs {
		if in.Name == name || (in.Param != "" && in.Param == name) {
			m.fillInput(i, v)
			return nil
		}
	}
	return fmt.Errorf("model %s has no input or parameter %q", m.Manifest.Source(), name)
}

// fillInput sets every element of extra input i. It allocates nothing.
func (m *Model) fillInput(i int, v float32) {
	d := m.extras[i].GetData()
	for j := range d {
		d[j] = v
	}
}

// Close destroys the session and every tensor. It is safe on a partly built Model.
func (m *Model) Close() {
	if m.session != nil {
		m.session.Destroy()
		m.session = nil
	}
	for _, s := range m.bands {
		s.Destroy()
	}
	for _, t := range m.bandOut {
		t.Destroy()
	}
	m.bands, m.bandOut = nil, nil
	if m.latent != nil {
		m.latent.Destroy()
		m.latent = nil
	}
	if m.image != nil {
		m.image.Destroy()
		m.image, m.img = nil, nil
	}
	for _, t := range m.extras {
		t.Destroy()
	}
	m.extras = nil
	if m.output != nil {
		m.output.Destroy()
		m.output = nil
	}
	m.pool.Close()
}

package gen

import (
	"errors"
	"fmt"
	"strings"
	"unsafe"

	ort "github.com/yalue/onnxruntime_go"

	"reverie/gen/onnxpb"
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
	m.session, err = ort.NewAdvancedSessionWithONNXData(data, names, []string{man.Output.Name}, inputs, []ort.Value{m.output}, opts)
	if err != nil {
		m.Close()
		return nil, "", fmt.Errorf("model %s: ONNX Runtime could not create a session: %v", man.Source(), err)
	}
	return m, warning, nil
}

// checkIO compares the model's declared inputs and outputs with the manifest,
// so a mismatch is reported by name instead of as an ONNX Runtime failure.
func checkIO(man *Manifest, data []byte) (ioPlan, error) {
	ins, outs, err := ort.GetInputOutputInfoWithONNXData(data)
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
	if err := m.session.Run(); err != nil {
		return fmt.Errorf("model %s: run failed: %v", m.Manifest.Source(), err)
	}
	return nil
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
func (m *Model) RunSession() error { return m.session.Run() }

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

// ErrNonFinite is wrapped by Run when a model outputs NaN or Inf.
var ErrNonFinite = errors.New("output contains NaN or Inf")

// Convert maps the output tensor to RGBA bytes by layout, range and dtype.
// A NaN or Inf anywhere makes it fail with ErrNonFinite.
func (m *Model) Convert(dst []byte) error {
	o := m.Manifest.Output
	n := o.Width * o.Height
	if len(dst) < 4*n {
		return fmt.Errorf("frame buffer holds %d bytes, expected %d", len(dst), 4*n)
	}
	dst = dst[:4*n]
	// x·scale + bias maps the range onto [0.5, 255.5), so truncation rounds.
	scale := 255 / (o.Range[1] - o.Range[0])
	bias := 0.5 - o.Range[0]*scale
	nhwc := o.Layout == "NHWC"
	var ok bool
	switch {
	case m.f32 != nil && nhwc:
		ok = f32NHWC(dst, m.f32, scale, bias)
	case m.f32 != nil:
		ok = f32NCHW(dst, m.f32[:n], m.f32[n:2*n], m.f32[2*n:3*n], scale, bias)
	case m.f16 != nil:
		ok = f16Any(dst, m.f16, n, nhwc, scale, bias)
	case o.Range == [2]float32{0, 255}:
		u8Direct(dst, m.u8, n, nhwc)
		ok = true
	default:
		u8Scaled(dst, m.u8, n, nhwc, scale, bias)
		ok = true
	}
	if !ok {
		return fmt.Errorf("model %s: %w", m.Manifest.Source(), ErrNonFinite)
	}
	return nil
}

// toByte clamps an already scaled and biased value into a byte. NaN becomes 0.
func toByte(x float32) byte {
	if x >= 255 {
		return 255
	}
	if x >= 0 {
		return byte(x)
	}
	return 0
}

// The loops below are specialised by dtype and layout so the inner loop has
// no branches besides the clamp. finite accumulates v-v, which is 0 for every
// finite v and NaN once any value is NaN or Inf.
func f32NHWC(dst []byte, src []float32, scale, bias float32) bool {
	var finite float32
	for i, j := 0, 0; j+2 < len(src) && i+3 < len(dst); i, j = i+4, j+3 {
		r, g, b := src[j], src[j+1], src[j+2]
		finite += (r - r) + (g - g) + (b - b)
		dst[i] = toByte(r*scale + bias)
		dst[i+1] = toByte(g*scale + bias)
		dst[i+2] = toByte(b*scale + bias)
		dst[i+3] = 255
	}
	return finite == 0
}

func f32NCHW(dst []byte, rs, gs, bs []float32, scale, bias float32) bool {
	var finite float32
	gs, bs = gs[:len(rs)], bs[:len(rs)]
	for k, r := range rs {
		g, b := gs[k], bs[k]
		finite += (r - r) + (g - g) + (b - b)
		i := 4 * k
		d := dst[i : i+4 : i+4]
		d[0] = toByte(r*scale + bias)
		d[1] = toByte(g*scale + bias)
		d[2] = toByte(b*scale + bias)
		d[3] = 255
	}
	return finite == 0
}

func f16Any(dst []byte, src []uint16, n int, nhwc bool, scale, bias float32) bool {
	cs, ps := n, 1
	if nhwc {
		cs, ps = 1, 3
	}
	for k := 0; k < n; k++ {
		for c := 0; c < 3; c++ {
			h := src[c*cs+k*ps]
			if h&0x7c00 == 0x7c00 { // exponent all ones: Inf or NaN
				return false
			}
			dst[4*k+c] = toByte(onnxpb.HalfToFloat(h)*scale + bias)
		}
		dst[4*k+3] = 255
	}
	return true
}

func u8Direct(dst, src []byte, n int, nhwc bool) {
	cs, ps := n, 1
	if nhwc {
		cs, ps = 1, 3
	}
	for k := 0; k < n; k++ {
		dst[4*k] = src[k*ps]
		dst[4*k+1] = src[cs+k*ps]
		dst[4*k+2] = src[2*cs+k*ps]
		dst[4*k+3] = 255
	}
}

func u8Scaled(dst, src []byte, n int, nhwc bool, scale, bias float32) {
	cs, ps := n, 1
	if nhwc {
		cs, ps = 1, 3
	}
	for k := 0; k < n; k++ {
		for c := 0; c < 3; c++ {
			dst[4*k+c] = toByte(float32(src[c*cs+k*ps])*scale + bias)
		}
		dst[4*k+3] = 255
	}
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
}

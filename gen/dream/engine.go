package dream

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	ort "github.com/yalue/onnxruntime_go"

	"reverie/gen"
	"reverie/gen/grad"
	"reverie/internal/userfile"
)

// Params are one dream step's settings: the deepdream pass's live
// parameters, as the scene reads them each frame.
type Params struct {
	Step        float32 // normalised gradient step, a fraction of half the input range
	Layer       int     // index into Spec.Layers
	Octaves     int     // 1..4: the step visits octave tick mod Octaves
	OctaveScale float32 // each octave this much smaller than the last
	Jitter      float32 // random roll before the step, up to this many pixels at the dream's size
}

// ResidualGain scales the residual into its 8-bit encoding: byte = 128 +
// 255·Gain·(dreamed − input), so one byte step is 1/(255·Gain) of the range.
// The deepdream shader divides by it.
const ResidualGain = 4

// Engine dreams on one picture at a time at a fixed size. It is used by one
// goroutine at a time; nothing is allocated per step once every octave's
// session exists.
type Engine struct {
	Spec *Spec
	W, H int // the dream's size; a network with a fixed input size sets it

	sc      gen.SessionConfig
	model   []byte
	fixed   bool             // the network takes only its own input size
	graphs  map[int][]byte   // layer → gradient graph
	steps   map[int]*stepper // octave → session, for stepLayer
	stepLay int              // the layer steps was built for
	rng     *rand.Rand
	tick    int

	base, dreamed []float32 // W×H×3 pixels 0..1, RGB
	work, delta   []float32 // an octave's picture and its change
	Objective     float32   // the last step's objective
}

type stepper struct {
	w, h    int
	session *ort.AdvancedSession
	img     *ort.Tensor[float32]
	step    *ort.Tensor[float32]
	out     *ort.Tensor[float32]
	obj     *ort.Tensor[float32]
}

// NewEngine loads spec's network for dreaming at w×h (or at the network's
// own size, when it has a fixed one). seed fixes the jitter, so an offline
// render dreams the same way every time.
func NewEngine(spec *Spec, w, h int, sc gen.SessionConfig, seed uint64) (*Engine, error) {
	if !ort.IsInitialized() {
		return nil, errors.New("dream: ONNX Runtime is not loaded: call gen.Init first")
	}
	data, err := userfile.Read(spec.Model, "dream network "+spec.Name+": model", gen.MaxModelBytes)
	if err != nil {
		return nil, err
	}
	ins, _, err := ort.GetInputOutputInfoWithONNXData(data)
	if err != nil {
		return nil, fmt.Errorf("dream network %s: %s is not a readable ONNX model", spec.Name, spec.Model)
	}
	var in *ort.InputOutputInfo
	for i := range ins {
		if ins[i].Name == spec.Input {
			in = &ins[i]
		}
	}
	if in == nil {
		return nil, fmt.Errorf("dream network %s: the model has no input %q", spec.Name, spec.Input)
	}
	d := in.Dimensions
	if len(d) != 4 {
		return nil, fmt.Errorf("dream network %s: input %q has shape %v; expected an image [1, C, H, W] or [1, H, W, C]", spec.Name, spec.Input, d)
	}
	hAxis, cAxis := 2, 1
	if spec.Layout == "NHWC" {
		hAxis, cAxis = 1, 3
	}
	if d[cAxis] > 0 && d[cAxis] != 3 {
		return nil, fmt.Errorf("dream network %s: input %q has %d channels in %s layout; expected 3", spec.Name, spec.Input, d[cAxis], spec.Layout)
	}
	e := &Engine{Spec: spec, W: w, H: h, sc: sc, model: data, graphs: map[int][]byte{}, steps: map[int]*stepper{}, stepLay: -1,
		rng: rand.New(rand.NewPCG(seed, 0x647265616d))}
	if d[hAxis] > 0 && d[hAxis+1] > 0 {
		e.fixed = true
		e.H, e.W = int(d[hAxis]), int(d[hAxis+1])
	}
	n := 3 * e.W * e.H
	e.base, e.dreamed, e.work, e.delta = make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	// Build the default layer now, so a bad layer name is found at start.
	if _, err := e.graph(0); err != nil {
		return nil, err
	}
	return e, nil
}

// Fixed reports whether the network takes only one input size (then octaves
// are not possible).
func (e *Engine) Fixed() bool { return e.fixed }

func (e *Engine) graph(layer int) ([]byte, error) {
	if g, ok := e.graphs[layer]; ok {
		return g, nil
	}
	l := e.Spec.Layers[layer]
	g, err := grad.Build(e.model, grad.Options{Input: e.Spec.Input, Layer: l.Tensor, Output: grad.Step})
	if err != nil {
		return nil, fmt.Errorf("dream network %s, layer %s: %w", e.Spec.Name, l.Name, err)
	}
	e.graphs[layer] = g
	return g, nil
}

// stepperFor returns the session for layer at octave k, building it on first
// use. A layer change drops the other layer's sessions.
func (e *Engine) stepperFor(layer, k int, scale float32) (*stepper, error) {
	if layer != e.stepLay {
		e.dropSteppers()
		e.stepLay = layer
	}
	w, h := e.octaveSize(k, scale)
	if s, ok := e.steps[k]; ok && s.w == w && s.h == h {
		return s, nil
	} else if ok {
		s.close()
		delete(e.steps, k)
	}
	g, err := e.graph(layer)
	if err != nil {
		return nil, err
	}
	s := &stepper{w: w, h: h}
	shape := ort.NewShape(1, 3, int64(h), int64(w))
	if e.Spec.Layout == "NHWC" {
		shape = ort.NewShape(1, int64(h), int64(w), 3)
	}
	if s.img, err = ort.NewEmptyTensor[float32](shape); err == nil {
		if s.out, err = ort.NewEmptyTensor[float32](shape); err == nil {
			if s.step, err = ort.NewEmptyTensor[float32](ort.NewShape(1)); err == nil {
				s.obj, err = ort.NewEmptyTensor[float32](ort.NewShape(1))
			}
		}
	}
	if err != nil {
		s.close()
		return nil, fmt.Errorf("dream: tensors for %dx%d: %w", w, h, err)
	}
	opts, _, _, err := gen.SessionOptions(e.sc)
	if err != nil {
		s.close()
		return nil, fmt.Errorf("dream: %w", err)
	}
	defer opts.Destroy()
	s.session, err = ort.NewAdvancedSessionWithONNXData(g, []string{e.Spec.Input, grad.StepName},
		[]string{grad.SteppedName, grad.ObjectiveName}, []ort.Value{s.img, s.step}, []ort.Value{s.out, s.obj}, opts)
	if err != nil {
		s.close()
		return nil, fmt.Errorf("dream network %s, layer %s at %dx%d: ONNX Runtime could not create the session: %v",
			e.Spec.Name, e.Spec.Layers[layer].Name, w, h, err)
	}
	e.steps[k] = s
	return s, nil
}

func (e *Engine) octaveSize(k int, scale float32) (int, int) {
	if k == 0 || e.fixed {
		return e.W, e.H
	}
	f := math.Pow(float64(scale), float64(k))
	return max(16, int(math.Round(float64(e.W)/f))), max(16, int(math.Round(float64(e.H)/f)))
}

func (s *stepper) close() {
	if s.session != nil {
		s.session.Destroy()
	}
	for _, t := range []*ort.Tensor[float32]{s.img, s.step, s.out, s.obj} {
		if t != nil {
			t.Destroy()
		}
	}
}

func (e *Engine) dropSteppers() {
	for k, s := range e.steps {
		s.close()
		delete(e.steps, k)
	}
}

// Close frees every session.
func (e *Engine) Close() { e.dropSteppers() }

// Begin starts dreaming on a new picture: RGBA bytes at W×H.
func (e *Engine) Begin(pix []byte) error {
	if len(pix) != 4*e.W*e.H {
		return fmt.Errorf("dream: picture of %d bytes, expected %d×%d RGBA (%d)", len(pix), e.W, e.H, 4*e.W*e.H)
	}
	for i, j := 0, 0; i < len(e.base); i, j = i+3, j+4 {
		e.base[i] = float32(pix[j]) / 255
		e.base[i+1] = float32(pix[j+1]) / 255
		e.base[i+2] = float32(pix[j+2]) / 255
	}
	copy(e.dreamed, e.base)
	return nil
}

// Step takes one normalised gradient-ascent step on the picture being
// dreamed (p.Layer clamped to the network's layers), at octave tick mod p.Octaves (coarsest first), with a random
// roll, and adds the change into it.
func (e *Engine) Step(p Params) error {
	// The pass's layer range (1..32) is wider than a network's: a live
	// request past the last layer dreams at the last one, never stops the
	// dream.
	p.Layer = min(max(p.Layer, 0), len(e.Spec.Layers)-1)
	oct := max(1, p.Octaves)
	if e.fixed {
		oct = 1
	}
	k := oct - 1 - e.tick%oct
	e.tick++
	s, err := e.stepperFor(p.Layer, k, max(1.05, p.OctaveScale))
	if err != nil {
		return err
	}
	w, h := s.w, s.h
	work := e.work[:3*w*h]
	if w == e.W && h == e.H {
		copy(work, e.dreamed)
	} else {
		resample(work, w, h, e.dreamed, e.W, e.H)
	}
	j := int(p.Jitter * float32(w) / float32(e.W))
	dx, dy := 0, 0
	if j > 0 {
		dx, dy = e.rng.IntN(2*j+1)-j, e.rng.IntN(2*j+1)-j
	}
	e.fill(s.img.GetData(), work, w, h, dx, dy)
	s.step.GetData()[0] = p.Step * e.Spec.halfSpan()
	if err := s.session.Run(); err != nil {
		return fmt.Errorf("dream network %s: step: %v", e.Spec.Name, err)
	}
	e.Objective = s.obj.GetData()[0]
	delta := e.delta[:3*w*h]
	e.change(delta, s.out.GetData(), s.img.GetData(), w, h, dx, dy)
	if w == e.W && h == e.H {
		for i, d := range delta {
			e.dreamed[i] = clamp01(e.dreamed[i] + d)
		}
		return nil
	}
	// Upsample the octave's change through work, now free.
	resample(e.work, e.W, e.H, delta, w, h)
	for i, d := range e.work {
		e.dreamed[i] = clamp01(e.dreamed[i] + d)
	}
	return nil
}

func clamp01(v float32) float32 { return min(1, max(0, v)) }

// fill writes pic (w×h RGB 0..1), rolled by dx, dy, into the network's
// input in its layout and units.
func (e *Engine) fill(dst, pic []float32, w, h, dx, dy int) {
	e.roll(pic, dst, nil, w, h, dx, dy)
}

// change writes out − in, rolled back by dx, dy and in pixel units, into
// delta (w×h RGB).
func (e *Engine) change(delta, out, in []float32, w, h, dx, dy int) {
	e.roll(delta, in, out, w, h, dx, dy)
}

// roll pairs each value of pic, a w×h RGB picture rolled by dx, dy (its
// channels swapped for a BGR network), with its place in net, the
// network's input. Without out it fills net from pic, in network units;
// with it, it writes out − net back into pic, in pixel units. One loop
// serves both, so the two mappings cannot drift apart; a callback per
// value made a step's mapping 40% slower.
func (e *Engine) roll(pic, net, out []float32, w, h, dx, dy int) {
	nchw := e.Spec.Layout == "NCHW"
	for c := 0; c < 3; c++ {
		p := c
		if e.Spec.BGR {
			p = 2 - c
		}
		mul, add := e.Spec.scale(c)
		inv := 1 / mul
		for y := 0; y < h; y++ {
			sy := ((y-dy)%h + h) % h
			for x := 0; x < w; x++ {
				sx := ((x-dx)%w + w) % w
				pi, ni := (sy*w+sx)*3+p, (y*w+x)*3+c
				if nchw {
					ni = (c*h+y)*w + x
				}
				if out == nil {
					net[ni] = pic[pi]*mul + add
				} else {
					pic[pi] = (out[ni] - net[ni]) * inv
				}
			}
		}
	}
}

// Residual encodes dreamed − base into dst (W×H RGBA): 128 + 255·Gain·d,
// alpha 255.
func (e *Engine) Residual(dst []byte) {
	for i, j := 0, 0; i < len(e.base); i, j = i+3, j+4 {
		for c := 0; c < 3; c++ {
			v := 128 + 255*ResidualGain*(e.dreamed[i+c]-e.base[i+c])
			dst[j+c] = byte(min(255, max(0, v+0.5)))
		}
		dst[j+3] = 255
	}
}

// Dreamed writes the picture being dreamed into dst as RGBA, to look at.
func (e *Engine) Dreamed(dst []byte) {
	for i, j := 0, 0; i < len(e.dreamed); i, j = i+3, j+4 {
		dst[j], dst[j+1], dst[j+2], dst[j+3] = byte(e.dreamed[i]*255+0.5), byte(e.dreamed[i+1]*255+0.5), byte(e.dreamed[i+2]*255+0.5), 255
	}
}

// resample scales src (sw×sh RGB) to dst (dw×dh RGB), bilinear, with pixel
// centres aligned.
func resample(dst []float32, dw, dh int, src []float32, sw, sh int) {
	fx, fy := float32(sw)/float32(dw), float32(sh)/float32(dh)
	for y := 0; y < dh; y++ {
		syf := max(0, (float32(y)+0.5)*fy-0.5)
		y0 := min(int(syf), sh-1)
		y1 := min(y0+1, sh-1)
		ty := syf - float32(y0)
		for x := 0; x < dw; x++ {
			sxf := max(0, (float32(x)+0.5)*fx-0.5)
			x0 := min(int(sxf), sw-1)
			x1 := min(x0+1, sw-1)
			tx := sxf - float32(x0)
			a, b := (y0*sw+x0)*3, (y0*sw+x1)*3
			c, d := (y1*sw+x0)*3, (y1*sw+x1)*3
			o := (y*dw + x) * 3
			for k := 0; k < 3; k++ {
				top := src[a+k] + (src[b+k]-src[a+k])*tx
				bot := src[c+k] + (src[d+k]-src[c+k])*tx
				dst[o+k] = top + (bot-top)*ty
			}
		}
	}
}

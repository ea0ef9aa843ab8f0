package bench

import (
	"fmt"
	"math"
	"os"

	ort "github.com/yalue/onnxruntime_go"

	"reverie/gen"
	"reverie/gen/dream"
	"reverie/gen/grad"
	"reverie/internal/userfile"
	"reverie/scene"
)

// DreamReport is one dream step (forward and backward through the network
// to the layer, the normalised step, jitter roll and the Go-side pixel
// work) against a bare forward pass of the same network to the same layer,
// at the dream's size, in the same run.
type DreamReport struct {
	Network   string  `json:"network"`
	Size      string  `json:"size"`  // W×H
	Layer     string  `json:"layer"` // the deepdream pass's layer
	StepMs    float64 `json:"step_ms"`
	ForwardMs float64 `json:"forward_ms"`
	Ratio     float64 `json:"ratio"`       // step_ms / forward_ms
	StepsPerS float64 `json:"steps_per_s"` // 1000 / step_ms
	Missing   string  `json:"missing,omitempty"`
}

// dreamLayer is the deepdream pass's layer in the configured chain (1-based),
// or the pass's default.
func dreamLayer(sc scene.Config) int {
	for _, p := range sc.Passes {
		if p.Pass == "deepdream" {
			if v, ok := p.Params["layer"]; ok {
				return int(math.Round(v))
			}
		}
	}
	return 7
}

func measureDream(sc scene.Config, iters int) (DreamReport, error) {
	c := sc.Dream
	r := DreamReport{Network: c.Network}
	spec, err := dream.Load(c.Network)
	if err != nil {
		r.Missing = err.Error()
		return r, nil
	}
	layer := min(max(dreamLayer(sc), 1), len(spec.Layers)) - 1
	r.Layer = spec.Layers[layer].Name
	eng, err := dream.NewEngine(spec, c.Width, c.Height, gen.SessionConfig{Provider: c.Provider, Threads: c.Threads}, c.Seed)
	if err != nil {
		return r, err
	}
	defer eng.Close()
	r.Size = fmt.Sprintf("%d×%d", eng.W, eng.H)
	pic := make([]byte, 4*eng.W*eng.H)
	for i := range pic {
		pic[i] = byte(128 + 100*math.Sin(float64(i%997)/50))
	}
	if err := eng.Begin(pic); err != nil {
		return r, err
	}
	p := dream.Params{Step: 0.02, Layer: layer, Octaves: 1, OctaveScale: 1.4, Jitter: 16}

	fwd, err := newForward(spec, layer, eng.W, eng.H, gen.SessionConfig{Provider: c.Provider, Threads: c.Threads})
	if err != nil {
		return r, err
	}
	defer fwd.close()
	ta, tb, err := alternate(2, iters, func() error { return eng.Step(p) }, fwd.session.Run)
	if err != nil {
		return r, err
	}
	r.StepMs, r.ForwardMs = median(ta), median(tb)
	r.Ratio = ratio(r.StepMs, r.ForwardMs)
	if r.StepMs > 0 {
		r.StepsPerS = 1000 / r.StepMs
	}
	return r, nil
}

// forward is a bare session of the network pruned to one layer.
type forward struct {
	session *ort.AdvancedSession
	values  []ort.Value
}

func newForward(spec *dream.Spec, layer, w, h int, sc gen.SessionConfig) (*forward, error) {
	data, err := os.ReadFile(spec.Model)
	if err != nil {
		return nil, userfile.StripPath(err)
	}
	g, err := grad.Forward(data, grad.Options{Input: spec.Input, Layer: spec.Layers[layer].Tensor})
	if err != nil {
		return nil, err
	}
	shape := ort.NewShape(1, 3, int64(h), int64(w))
	if spec.Layout == "NHWC" {
		shape = ort.NewShape(1, int64(h), int64(w), 3)
	}
	in, err := ort.NewEmptyTensor[float32](shape)
	if err != nil {
		return nil, err
	}
	f := &forward{values: []ort.Value{in}}
	// The layer's size follows the input's: one dynamic run finds it.
	opts, _, _, err := gen.SessionOptions(sc)
	if err != nil {
		f.close()
		return nil, err
	}
	defer opts.Destroy()
	probe, err := ort.NewDynamicAdvancedSessionWithONNXData(g, []string{spec.Input}, []string{spec.Layers[layer].Tensor}, opts)
	if err != nil {
		f.close()
		return nil, err
	}
	outs := []ort.Value{nil}
	err = probe.Run([]ort.Value{in}, outs)
	probe.Destroy()
	if err != nil {
		f.close()
		return nil, err
	}
	out, err := ort.NewEmptyTensor[float32](outs[0].GetShape())
	outs[0].Destroy()
	if err != nil {
		f.close()
		return nil, err
	}
	f.values = append(f.values, out)
	f.session, err = ort.NewAdvancedSessionWithONNXData(g, []string{spec.Input}, []string{spec.Layers[layer].Tensor}, []ort.Value{in}, []ort.Value{out}, opts)
	if err != nil {
		f.close()
		return nil, err
	}
	return f, nil
}

func (f *forward) close() {
	if f.session != nil {
		f.session.Destroy()
	}
	for _, v := range f.values {
		v.Destroy()
	}
}

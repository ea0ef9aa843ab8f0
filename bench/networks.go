package bench

import (
	"fmt"
	"os"

	ort "github.com/yalue/onnxruntime_go"

	"reverie/gen"
	"reverie/gen/networks"
	"reverie/internal/userfile"
)

// NetworkFigure is one trained network at one input size: through gen.Net
// and through a bare ONNX Runtime session on the same file and shapes.
type NetworkFigure struct {
	Network string  `json:"network"`
	Input   string  `json:"input"` // N×H×W×C
	NetMs   float64 `json:"net_ms"`
	BareMs  float64 `json:"bare_ms"`
	Ratio   float64 `json:"ratio"`             // net_ms / bare_ms
	Missing string  `json:"missing,omitempty"` // why it was not measured
}

// networkSizes are the sizes reverie runs each network at: its nominal size,
// and PoseNet also at the sample clip's own resolution (multi-person on a
// wide view) and at the dream's 256×144.
var networkSizes = map[string][][]int64{
	"posenet": {{1, 385, 385, 3}, {1, 577, 769, 3}, {1, 144, 256, 3}},
	"selfie":  {{1, 256, 256, 3}},
}

// measureNetworks keys each figure by network and size ("posenet_385x385");
// a network that is not installed gets one figure saying so, and the bench
// goes on.
func measureNetworks(gc gen.Config, iters int) (map[string]NetworkFigure, error) {
	out := map[string]NetworkFigure{}
	for _, n := range networks.Catalog {
		path, err := networks.Find(n.Name)
		if err != nil {
			out[n.Name] = NetworkFigure{Network: n.Name, Missing: err.Error()}
			continue
		}
		for _, shape := range networkSizes[n.Name] {
			f, err := measureNetwork(gc, n.Name, path, shape, iters)
			if err != nil {
				return nil, err
			}
			out[fmt.Sprintf("%s_%dx%d", n.Name, shape[2], shape[1])] = f
		}
	}
	return out, nil
}

func measureNetwork(gc gen.Config, name, path string, shape []int64, iters int) (NetworkFigure, error) {
	f := NetworkFigure{Network: name, Input: fmt.Sprintf("%d×%d×%d×%d", shape[0], shape[1], shape[2], shape[3])}
	net, _, err := gen.OpenNet(path, shape, gc.Session())
	if err != nil {
		return f, err
	}
	defer net.Close()
	bare, err := newBareNet(path, shape, net, gc)
	if err != nil {
		return f, fmt.Errorf("network %s: bare session: %w", name, err)
	}
	defer bare.Close()
	in := net.Input()
	for i := range in {
		in[i] = float32(i%251) / 251
	}
	copy(bare.input.GetData(), net.Input())
	ta, tb, err := alternate(2, iters, net.Run, bare.session.Run)
	if err != nil {
		return f, err
	}
	f.NetMs, f.BareMs = median(ta), median(tb)
	f.Ratio = ratio(f.NetMs, f.BareMs)
	return f, nil
}

// bareNet is a plain session with the same input and output shapes as net.
type bareNet struct {
	session *ort.AdvancedSession
	input   *ort.Tensor[float32]
	values  []ort.Value
}

func newBareNet(path string, shape []int64, net *gen.Net, gc gen.Config) (*bareNet, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, userfile.StripPath(err)
	}
	ins, _, err := ort.GetInputOutputInfoWithONNXData(data)
	if err != nil || len(ins) != 1 {
		return nil, fmt.Errorf("%s: expected one input", path)
	}
	b := &bareNet{}
	if b.input, err = ort.NewEmptyTensor[float32](ort.NewShape(shape...)); err != nil {
		return nil, err
	}
	b.values = append(b.values, b.input)
	outs := make([]ort.Value, len(net.Outputs()))
	for i := range outs {
		_, s := net.Output(i)
		t, err := ort.NewEmptyTensor[float32](ort.NewShape(s...))
		if err != nil {
			b.Close()
			return nil, err
		}
		outs[i] = t
		b.values = append(b.values, t)
	}
	opts, err := sessionOptions(gc.Provider, gc.Threads)
	if err != nil {
		b.Close()
		return nil, err
	}
	defer opts.Destroy()
	b.session, err = ort.NewAdvancedSessionWithONNXData(data, []string{ins[0].Name}, net.Outputs(), []ort.Value{b.input}, outs, opts)
	if err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

func (b *bareNet) Close() {
	if b.session != nil {
		b.session.Destroy()
	}
	for _, v := range b.values {
		v.Destroy()
	}
}

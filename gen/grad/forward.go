package grad

import (
	"fmt"

	"reverie/gen/onnxpb"
)

// Forward returns model pruned to opts.Layer, which becomes its only
// output: the bare forward pass a step is measured against, and a way to
// look at a layer's activations.
func Forward(model []byte, opts Options) ([]byte, error) {
	m, err := onnxpb.Read(model)
	if err != nil {
		return nil, fmt.Errorf("grad: %w", err)
	}
	needed := map[string]bool{opts.Layer: true}
	keep := make([]bool, len(m.Graph.Nodes))
	found := false
	for i := len(m.Graph.Nodes) - 1; i >= 0; i-- {
		for _, o := range m.Graph.Nodes[i].Outputs {
			keep[i] = keep[i] || needed[o]
			found = found || o == opts.Layer
		}
		if keep[i] {
			for _, in := range m.Graph.Nodes[i].Inputs {
				needed[in] = true
			}
		}
	}
	if !found {
		return nil, fmt.Errorf("grad: layer %q is not in the graph", opts.Layer)
	}
	g := onnxpb.NewGraph(m.Graph.Name)
	g.SetOpsets(m.IRVersion, m.Opsets...)
	for _, vi := range m.Graph.Inputs {
		if needed[vi.Name] {
			g.InputInfo(vi.Name, vi.ElemType, vi.Dims, vi.DimParams)
		}
	}
	for _, t := range m.Graph.Initializers {
		if needed[t.Name] {
			g.Initializer(t.Name, t.DataType, t.Dims, t.Raw)
		}
	}
	for i, n := range m.Graph.Nodes {
		if !keep[i] {
			continue
		}
		attrs := make([]onnxpb.Attr, 0, len(n.Attrs))
		for _, a := range n.Attrs {
			attrs = append(attrs, a.Attr())
		}
		g.Node(n.Name, n.Domain, n.OpType, n.Inputs, n.Outputs, attrs...)
	}
	g.OutputInfo(opts.Layer, onnxpb.Float, nil, nil)
	return g.Model(m.ProducerName, m.ProducerVersion), nil
}

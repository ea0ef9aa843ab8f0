// Package personnet runs vision's person networks on ONNX Runtime: the
// adapter the pipeline's owner hands to vision.Config.Nets, so that vision
// and gen need not know each other.
package personnet

import (
	"fmt"

	"reverie/gen"
	"reverie/gen/networks"
	"reverie/vision"
)

// Nets opens the installed trained networks (gen/networks' catalog) with
// ONNX Runtime.
type Nets struct {
	// Library is generator.ort_library: where ONNX Runtime is, "" to search.
	Library string
	// Session is the ONNX Runtime session's options (provider, threads).
	Session gen.SessionConfig
}

// Open loads the named network for a 1×h×w×3 input. A network that is not
// installed gets networks.Find's error, which says to run `make setup`.
func (n Nets) Open(name string, w, h int) (vision.PersonNet, [2]float32, error) {
	entry, ok := networks.Lookup(name)
	if !ok {
		return nil, [2]float32{}, fmt.Errorf("vision.person %q: not a trained network; expected one of %v", name, networks.Names())
	}
	path, err := networks.Find(name)
	if err != nil {
		return nil, [2]float32{}, err
	}
	if _, err := gen.Init(n.Library); err != nil {
		return nil, [2]float32{}, fmt.Errorf("vision.person %s: %w", name, err)
	}
	net, warning, err := gen.OpenNet(path, []int64{1, int64(h), int64(w), 3}, n.Session)
	if err != nil {
		return nil, [2]float32{}, err
	}
	_ = warning // a provider fallback: the network runs on the CPU, as intended here
	return net, entry.Range, nil
}

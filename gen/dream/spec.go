// Package dream is DeepDream, live: gradient ascent through a trained CNN on
// the newest feedback picture, one normalised, jittered step per dream tick
// at one of several octaves, handing back the residual (dreamed minus input)
// that the scene's deepdream pass adds into the feedback. The gradient graph
// comes from gen/grad; the default network is PoseNet's MobileNetV1 from
// gen/networks.
package dream

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"

	"go.yaml.in/yaml/v3"

	"reverie/gen"
	"reverie/gen/networks"
	"reverie/internal/userfile"
)

// Spec says how to dream through one network: its file, how pixels become
// its input, and the layers whose energy the dream raises.
type Spec struct {
	Name   string     // "posenet", or the manifest's file name
	Model  string     // the .onnx file
	Input  string     // the image input's name
	Layout string     // NHWC or NCHW
	BGR    bool       // channels in B, G, R order (Caffe-trained networks)
	Range  [2]float32 // input values for pixel 0 and pixel 1, when Mean is unset
	Mean   []float32  // per channel (input order), on 0..255 pixels; with Std
	Std    []float32
	Layers []Layer
}

// Layer is one tensor the dream can raise, and what it looks like.
type Layer struct {
	Name   string `yaml:"name"`   // what config.yaml and the panel call it
	Tensor string `yaml:"tensor"` // the tensor's name in the ONNX graph
	Look   string `yaml:"look"`
}

// posenetLooks are what dreaming through PoseNet's MobileNetV1 blocks shows
// (../shared/look has pictures of 4, 7 and 10).
var posenetLooks = map[int]string{
	1: "fine grain", 2: "fine grain", 3: "woven threads", 4: "woven textures", 5: "woven textures, first eyes",
	6: "limbs and eyes", 7: "human figures and faces", 8: "figures and faces", 9: "crowds of figures",
	10: "noisier figures", 11: "noisy figures", 12: "noise", 13: "noise",
}

// PoseNet is the built-in dream network: the blocks of PoseNet's
// MobileNetV1, Conv2d_1_pointwise to Conv2d_13_pointwise.
func PoseNet() (*Spec, error) {
	path, err := networks.Find("posenet")
	if err != nil {
		return nil, err
	}
	s := &Spec{Name: "posenet", Model: path, Input: "image", Layout: "NHWC", Range: [2]float32{-1, 1}}
	for i := 1; i <= 13; i++ {
		s.Layers = append(s.Layers, Layer{
			Name:   fmt.Sprintf("conv2d_%d_pointwise", i),
			Tensor: fmt.Sprintf("MobilenetV1/MobilenetV1/Conv2d_%d_pointwise/Relu6", i),
			Look:   posenetLooks[i],
		})
	}
	return s, nil
}

// manifest is a dream network's YAML manifest.
type manifest struct {
	Model  string    `yaml:"model"`
	Input  string    `yaml:"input"`
	Layout string    `yaml:"layout"`
	Order  string    `yaml:"channels"`
	Range  []float32 `yaml:"range"`
	Mean   []float32 `yaml:"mean"`
	Std    []float32 `yaml:"std"`
	Layers []Layer   `yaml:"layers"`
}

// maxManifest bounds a manifest's size: they are a few lines.
const maxManifest = 64 << 10

// Load resolves a dream network: "posenet", or the path of a YAML manifest
// for an ONNX CNN of the user's.
func Load(network string) (*Spec, error) {
	if network == "posenet" || network == "" {
		return PoseNet()
	}
	data, err := userfile.Read(network, "dream network (posenet, or a manifest file)", maxManifest)
	if err != nil {
		return nil, err
	}
	var m manifest
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		// YAML errors quote the file's text: name the file, not its lines.
		return nil, fmt.Errorf("dream network %s: not a valid manifest (expected the keys model, input, layout, channels, range or mean and std, layers)", network)
	}
	s := &Spec{Name: filepath.Base(network), Input: m.Input, Layout: m.Layout, Mean: m.Mean, Std: m.Std, Layers: m.Layers}
	bad := func(key, msg string) error { return fmt.Errorf("dream network %s: %s: %s", network, key, msg) }
	if m.Model == "" {
		return nil, bad("model", "missing; expected the .onnx file (relative to the manifest)")
	}
	s.Model = m.Model
	if !filepath.IsAbs(s.Model) {
		s.Model = filepath.Join(filepath.Dir(network), s.Model)
	}
	if s.Input == "" {
		return nil, bad("input", "missing; expected the image input's name")
	}
	switch s.Layout {
	case "NCHW", "NHWC":
	case "":
		s.Layout = "NCHW"
	default:
		return nil, bad("layout", fmt.Sprintf("%q; expected NCHW or NHWC", m.Layout))
	}
	switch m.Order {
	case "", "rgb":
	case "bgr":
		s.BGR = true
	default:
		return nil, bad("channels", fmt.Sprintf("%q; expected rgb or bgr", m.Order))
	}
	switch {
	case len(m.Mean) > 0 || len(m.Std) > 0:
		if len(m.Range) > 0 {
			return nil, bad("range", "give either range or mean and std, not both")
		}
		if len(m.Mean) != 3 {
			return nil, bad("mean", fmt.Sprintf("%d values; expected 3, one per channel, on 0..255 pixels", len(m.Mean)))
		}
		if len(m.Std) == 0 {
			s.Std = []float32{1, 1, 1}
		}
		if len(s.Std) != 3 {
			return nil, bad("std", fmt.Sprintf("%d values; expected 3", len(m.Std)))
		}
		for _, v := range s.Std {
			if !(v > 0) {
				return nil, bad("std", "expected positive values")
			}
		}
	case len(m.Range) == 2:
		if !(m.Range[1] > m.Range[0]) {
			return nil, bad("range", "expected [low, high] with low < high")
		}
		s.Range = [2]float32{m.Range[0], m.Range[1]}
	default:
		return nil, bad("range", "missing; expected range: [low, high] (the values for black and white) or mean and std")
	}
	if len(s.Layers) == 0 {
		return nil, bad("layers", "missing; expected at least one {name, tensor, look}")
	}
	for i, l := range s.Layers {
		if l.Tensor == "" {
			return nil, bad(fmt.Sprintf("layers[%d].tensor", i), "missing; expected a tensor name from the graph")
		}
		if l.Name == "" {
			s.Layers[i].Name = l.Tensor
		}
	}
	return s, nil
}

// scale maps a 0..1 pixel of input channel c into the network's units (v·mul
// + add); a change in those units divided by mul is a change of pixel.
func (s *Spec) scale(c int) (mul, add float32) {
	if s.Mean != nil {
		return 255 / s.Std[c], -s.Mean[c] / s.Std[c]
	}
	return s.Range[1] - s.Range[0], s.Range[0]
}

// halfSpan is half the input's range in network units: the step parameter
// is a fraction of it, so one value suits every network.
func (s *Spec) halfSpan() float32 {
	if s.Mean != nil {
		return 127.5 / ((s.Std[0] + s.Std[1] + s.Std[2]) / 3)
	}
	return (s.Range[1] - s.Range[0]) / 2
}

// WriteModelLayers is `reverie models layers`: it lists the tensors of the
// model file or trained network arg, the names a dream manifest's layers
// can use, and for posenet the deepdream pass's own layers after them.
func WriteModelLayers(w io.Writer, arg string) error {
	file, net, err := networks.Resolve(arg)
	if err != nil {
		return err
	}
	tensors, err := gen.Tensors(file)
	if err != nil {
		return err
	}
	gen.WriteTensors(w, tensors)
	if net != nil && net.Name == "posenet" {
		spec, err := PoseNet()
		if err != nil {
			return err
		}
		fmt.Fprintln(w, "\nthe deepdream pass's layers (deepdream.layer):")
		spec.WriteLayers(w)
	}
	return nil
}

// WriteLayers prints the layers the deepdream pass can raise, numbered as
// deepdream.layer counts them.
func (s *Spec) WriteLayers(w io.Writer) {
	for i, l := range s.Layers {
		fmt.Fprintf(w, "%2d  %-22s %s\n", i+1, l.Name, l.Look)
	}
}

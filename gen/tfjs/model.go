// Package tfjs converts TensorFlow.js graph models (a model.json with the
// graph's topology and weights manifest, plus .bin weight shards) to ONNX,
// written through gen/onnxpb. It covers the ops of the trained networks
// reverie uses (PoseNet's MobileNetV1, MediaPipe Selfie Segmentation) and
// names any other op, with its node and model, in an error.
package tfjs

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"reverie/gen/onnxpb"
	"reverie/internal/userfile"
)

// Limits on what a model.json may ask for. The largest network reverie uses
// has 5 MB of weights; a file past these limits is not a model we convert.
const (
	maxJSONBytes    = 32 << 20
	maxWeightsBytes = 512 << 20
)

// Model is a TF.js graph model as read from disk.
type Model struct {
	Path      string // the model.json
	Format    string
	Generated string // where the graph came from ("generatedBy")
	Nodes     []Node
	Inputs    []Signature
	Outputs   []Signature
	Weights   map[string]*Tensor
}

// Node is one graph node.
type Node struct {
	Name  string
	Op    string
	Input []string
	Attr  map[string]Attr
}

// Signature is a declared input or output: its tensor ("name:0") and shape
// (-1 where unknown).
type Signature struct {
	Key   string
	Name  string
	Shape []int64
	DType string
}

// Tensor is a constant's value, dequantised: float32 data, or int32 data.
type Tensor struct {
	Name   string
	DType  string // "float32" or "int32"
	Shape  []int64
	Floats []float32
	Ints   []int32
}

// Len is the number of elements.
func (t *Tensor) Len() int { return numel(t.Shape) }

func numel(shape []int64) int {
	n := 1
	for _, d := range shape {
		n *= int(d)
	}
	return n
}

// Attr is one node attribute in TF's JSON form.
type Attr struct {
	S     string   `json:"s"` // base64
	I     string   `json:"i"`
	F     *float64 `json:"f"`
	B     *bool    `json:"b"`
	Type  string   `json:"type"`
	List  *attrList
	Shape *shapeJSON `json:"shape"`
}

type attrList struct {
	S []string `json:"s"`
	I []string `json:"i"`
	F []float64
}

type shapeJSON struct {
	Dim         []struct{ Size string } `json:"dim"`
	UnknownRank bool                    `json:"unknownRank"`
}

func (s *shapeJSON) dims() []int64 {
	if s == nil {
		return nil
	}
	out := make([]int64, len(s.Dim))
	for i, d := range s.Dim {
		v, err := strconv.ParseInt(d.Size, 10, 64)
		if err != nil || v < 0 {
			v = -1
		}
		out[i] = v
	}
	return out
}

// str decodes a string attribute.
func (a Attr) str() string {
	b, err := base64.StdEncoding.DecodeString(a.S)
	if err != nil {
		return a.S
	}
	return string(b)
}

func (a Attr) strs() []string {
	if a.List == nil {
		return nil
	}
	out := make([]string, len(a.List.S))
	for i, s := range a.List.S {
		out[i] = Attr{S: s}.str()
	}
	return out
}

func (a Attr) ints() []int64 {
	if a.List == nil {
		return nil
	}
	out := make([]int64, 0, len(a.List.I))
	for _, s := range a.List.I {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil
		}
		out = append(out, v)
	}
	return out
}

type modelJSON struct {
	Format        string `json:"format"`
	GeneratedBy   string `json:"generatedBy"`
	ModelTopology struct {
		Node []struct {
			Name  string          `json:"name"`
			Op    string          `json:"op"`
			Input []string        `json:"input"`
			Attr  map[string]Attr `json:"attr"`
		} `json:"node"`
	} `json:"modelTopology"`
	Signature struct {
		Inputs  map[string]sigJSON `json:"inputs"`
		Outputs map[string]sigJSON `json:"outputs"`
	} `json:"signature"`
	WeightsManifest []struct {
		Paths   []string `json:"paths"`
		Weights []struct {
			Name         string  `json:"name"`
			Shape        []int64 `json:"shape"`
			DType        string  `json:"dtype"`
			Quantization *struct {
				DType string  `json:"dtype"`
				Min   float64 `json:"min"`
				Scale float64 `json:"scale"`
			} `json:"quantization"`
		} `json:"weights"`
	} `json:"weightsManifest"`
}

type sigJSON struct {
	Name        string    `json:"name"`
	DType       string    `json:"dtype"`
	TensorShape shapeJSON `json:"tensorShape"`
}

// Read loads a model.json and its weight shards (found beside it).
func Read(path string) (*Model, error) {
	data, err := userfile.Read(path, "tfjs model", maxJSONBytes)
	if err != nil {
		return nil, err
	}
	var mj modelJSON
	if err := json.Unmarshal(data, &mj); err != nil {
		// The decoder's message names a byte offset, never the file's text.
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("tfjs model %s: not JSON (syntax error at byte %d); expected a TF.js model.json", path, se.Offset)
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, fmt.Errorf("tfjs model %s: field %s has the wrong type (%s); expected a TF.js graph model.json", path, te.Field, te.Value)
		}
		return nil, fmt.Errorf("tfjs model %s: expected a TF.js graph model.json", path)
	}
	if mj.Format != "graph-model" {
		return nil, fmt.Errorf("tfjs model %s: format %q; expected a TF.js \"graph-model\" (layers models are not supported)", path, mj.Format)
	}
	m := &Model{Path: path, Format: mj.Format, Generated: mj.GeneratedBy, Weights: map[string]*Tensor{}}
	for _, n := range mj.ModelTopology.Node {
		m.Nodes = append(m.Nodes, Node{Name: n.Name, Op: n.Op, Input: n.Input, Attr: n.Attr})
	}
	if len(m.Nodes) == 0 {
		return nil, fmt.Errorf("tfjs model %s: the topology has no nodes", path)
	}
	m.Inputs = signatures(mj.Signature.Inputs)
	m.Outputs = signatures(mj.Signature.Outputs)
	if len(m.Outputs) == 0 {
		return nil, fmt.Errorf("tfjs model %s: the signature names no outputs", path)
	}

	dir := filepath.Dir(path)
	for gi, group := range mj.WeightsManifest {
		var buf []byte
		for _, p := range group.Paths {
			// Shards sit beside model.json; a path that climbs out is refused.
			if p == "" || filepath.IsAbs(p) || strings.Contains(p, "..") || strings.ContainsAny(p, `/\`) {
				return nil, fmt.Errorf("tfjs model %s: weights shard %q: expected a file name beside model.json", path, p)
			}
			b, err := userfile.Read(filepath.Join(dir, p), "tfjs model "+path+": weights shard", maxWeightsBytes-int64(len(buf)))
			if err != nil {
				return nil, err
			}
			buf = append(buf, b...)
		}
		off := 0
		for _, w := range group.Weights {
			n := 1
			for _, d := range w.Shape {
				if d < 0 || d > 1<<28 {
					return nil, fmt.Errorf("tfjs model %s: weight %s: shape %v: expected sizes from 0 to 2^28", path, w.Name, w.Shape)
				}
				n *= int(d)
				if n > maxWeightsBytes {
					return nil, fmt.Errorf("tfjs model %s: weight %s: shape %v is too large", path, w.Name, w.Shape)
				}
			}
			t := &Tensor{Name: w.Name, Shape: w.Shape}
			q := ""
			if w.Quantization != nil {
				q = w.Quantization.DType
			}
			size := map[string]int{"": 4, "float16": 2, "uint8": 1, "uint16": 2}[q]
			if size == 0 {
				return nil, fmt.Errorf("tfjs model %s: weight %s: quantization %q: expected float16, uint8 or uint16", path, w.Name, q)
			}
			if off+n*size > len(buf) {
				return nil, fmt.Errorf("tfjs model %s: weights group %d: the shards hold %d bytes but weight %s needs bytes %d..%d; the .bin files are truncated or belong to another model", path, gi, len(buf), w.Name, off, off+n*size)
			}
			raw := buf[off : off+n*size]
			off += n * size
			switch w.DType {
			case "float32":
				t.DType = "float32"
				t.Floats = make([]float32, n)
				for i := range t.Floats {
					switch q {
					case "":
						t.Floats[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
					case "float16":
						t.Floats[i] = onnxpb.HalfToFloat(binary.LittleEndian.Uint16(raw[2*i:]))
					case "uint8":
						t.Floats[i] = float32(float64(raw[i])*w.Quantization.Scale + w.Quantization.Min)
					case "uint16":
						t.Floats[i] = float32(float64(binary.LittleEndian.Uint16(raw[2*i:]))*w.Quantization.Scale + w.Quantization.Min)
					}
				}
			case "int32":
				if q != "" {
					return nil, fmt.Errorf("tfjs model %s: weight %s: quantised int32 weights are not supported", path, w.Name)
				}
				t.DType = "int32"
				t.Ints = make([]int32, n)
				for i := range t.Ints {
					t.Ints[i] = int32(binary.LittleEndian.Uint32(raw[4*i:]))
				}
			default:
				return nil, fmt.Errorf("tfjs model %s: weight %s: dtype %q: expected float32 or int32", path, w.Name, w.DType)
			}
			m.Weights[w.Name] = t
		}
		if off != len(buf) {
			return nil, fmt.Errorf("tfjs model %s: weights group %d: the manifest uses %d bytes but the shards hold %d; the .bin files belong to another model", path, gi, off, len(buf))
		}
	}
	return m, nil
}

func signatures(s map[string]sigJSON) []Signature {
	out := make([]Signature, 0, len(s))
	for k, v := range s {
		out = append(out, Signature{Key: k, Name: v.Name, Shape: v.TensorShape.dims(), DType: v.DType})
	}
	// Map order is random; conversion must be deterministic.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Name < out[j-1].Name; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

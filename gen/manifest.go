package gen

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"

	"go.yaml.in/yaml/v3"

	"reverie/internal/userfile"
)

// Manifest describes a generator model: which input takes the latent, which
// output holds the image and how to read it. It lives in a YAML file beside
// the .onnx file; the built-in models produce theirs in memory.
type Manifest struct {
	Name   string      `yaml:"name"`
	Model  string      `yaml:"model"`            // the .onnx file, relative to the manifest
	Latent LatentSpec  `yaml:"latent,omitempty"` // optional for an image model
	Image  *ImageSpec  `yaml:"image,omitempty"`  // an image-conditioned model's picture input
	Inputs []InputSpec `yaml:"inputs,omitempty"`
	Output OutputSpec  `yaml:"output"`
	// Directions is an optional file of latent directions (k rows of dim
	// float32 values, little-endian, GANSpace-style) for the scene to move along.
	Directions string `yaml:"directions,omitempty"`

	path  string // the manifest file, "" for built-ins
	onnx  []byte // model bytes held in memory by built-ins
	bands []Band // a built-in's frame in bands, run side by side (CPPN)
	// kernels: a built-in that runs reverie's kernels (see Kernels)
	kernels bool
}

// Band is one horizontal band of a built-in model's frame: a model of its
// own for rows [Y0, Y1), with the whole model's inputs and the rows of its
// output. On a CPU the Runner runs the bands side by side, one
// single-threaded session each: ONNX Runtime's element-wise operators
// (and reverie's kernels) run on one thread, and a band per core runs
// every op on every core.
type Band struct {
	ONNX   []byte
	Y0, Y1 int
}

// LatentSpec is the model's latent input. Its shape in the model may be
// [1, dim], [1, dim, 1, 1] (a DCGAN's) or any other with dim values after a
// batch of 1; a dynamic batch axis is taken as 1. An image model may have
// none (Input "", Dim 0).
type LatentSpec struct {
	Input        string `yaml:"input"`
	Dim          int    `yaml:"dim"`
	Distribution string `yaml:"distribution"` // normal | uniform
}

// SampleLatent fills z with a draw from dist, a manifest's latent
// distribution: uniform on [-1, 1) for "uniform", standard normal otherwise
// (validation makes an unset distribution "normal").
func SampleLatent(rng *rand.Rand, dist string, z []float32) {
	for i := range z {
		if dist == "uniform" {
			z[i] = float32(2*rng.Float64() - 1)
		} else {
			z[i] = float32(rng.NormFloat64())
		}
	}
}

// InputSpec is an extra model input held at a fixed value, or exposed as a
// controllable parameter when Param is set (truncation psi, noise strength).
type InputSpec struct {
	Name   string    `yaml:"name"`
	Shape  []int64   `yaml:"shape"`
	Value  float32   `yaml:"value"`            // every element, unless Values is set
	Values []float32 `yaml:"values,omitempty"` // the whole tensor (a class vector)
	Param  string    `yaml:"param,omitempty"`  // the name a controller sets it by
	Min    float32   `yaml:"min,omitempty"`
	Max    float32   `yaml:"max,omitempty"`
}

// OutputSpec is the model's image output.
type OutputSpec struct {
	Name   string     `yaml:"name"`
	Layout string     `yaml:"layout"` // NCHW | NHWC
	Range  [2]float32 `yaml:"range"`  // [-1, 1], [0, 1] or [0, 255]
	DType  string     `yaml:"dtype"`  // float32 | float16 | uint8
	Width  int        `yaml:"width"`
	Height int        `yaml:"height"`
}

// Path is the manifest file, or "" for a model built in memory.
func (m *Manifest) Path() string { return m.path }

// ModelPath is the .onnx file the manifest names, resolved against the
// manifest's folder.
func (m *Manifest) ModelPath() string {
	if m.Model == "" || filepath.IsAbs(m.Model) || m.path == "" {
		return m.Model
	}
	return filepath.Join(filepath.Dir(m.path), m.Model)
}

// Source names the model in messages: its file, or its built-in name.
func (m *Manifest) Source() string {
	if m.onnx != nil {
		return "builtin:" + m.Name
	}
	return m.ModelPath()
}

// LoadManifest reads and validates a manifest file. Unknown keys are errors.
func LoadManifest(path string) (*Manifest, error) {
	data, err := readUserFile(path, "model manifest", MaxManifestBytes)
	if err != nil {
		return nil, err
	}
	m := &Manifest{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(m); err != nil {
		return nil, fmt.Errorf("model manifest %s: %w", path, yamlError(err))
	}
	m.path = path
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("model manifest %s: %w", path, err)
	}
	if err := m.checkDirections(); err != nil {
		return nil, fmt.Errorf("model manifest %s: %w", path, err)
	}
	return m, nil
}

// Validate checks the manifest for values reverie cannot work with.
func (m *Manifest) Validate() error {
	if m.onnx == nil && m.Model == "" {
		return errors.New("model: missing, expected the .onnx file name")
	}
	if m.Image != nil {
		if err := m.Image.validate(); err != nil {
			return err
		}
	}
	switch {
	case m.Latent.Input == "" && m.Image == nil:
		return errors.New("latent.input: missing, expected the name of the model's latent input (or an image: section for an image-to-image model)")
	case m.Latent.Input == "" && m.Latent.Dim != 0:
		return fmt.Errorf("latent.dim: %d without latent.input; name the latent input, or drop latent: for a model that takes only an image", m.Latent.Dim)
	case m.Latent.Input != "" && (m.Latent.Dim < 1 || m.Latent.Dim > 65536):
		return fmt.Errorf("latent.dim: %d, expected 1..65536", m.Latent.Dim)
	case m.Image != nil && m.Image.Input == m.Latent.Input:
		return fmt.Errorf("image.input: %q is also latent.input; expected two different inputs", m.Image.Input)
	}
	switch m.Latent.Distribution {
	case "normal", "uniform":
	case "":
		m.Latent.Distribution = "normal"
	default:
		return fmt.Errorf("latent.distribution: %q, expected normal or uniform", m.Latent.Distribution)
	}
	for i, in := range m.Inputs {
		if in.Name == "" {
			return fmt.Errorf("inputs[%d].name: missing", i)
		}
		n := int64(1)
		for _, d := range in.Shape {
			if d < 1 {
				return fmt.Errorf("inputs[%d] %q: shape %v has a dimension below 1; give concrete sizes", i, in.Name, in.Shape)
			}
			n *= d
		}
		if in.Values != nil && int64(len(in.Values)) != n {
			return fmt.Errorf("inputs[%d] %q: %d values for shape %v, expected %d", i, in.Name, len(in.Values), in.Shape, n)
		}
		if in.Param != "" {
			if err := checkParam(m.Inputs[:i], in); err != nil {
				return fmt.Errorf("inputs[%d] %q: %w", i, in.Name, err)
			}
		}
	}
	o := &m.Output
	if o.Name == "" {
		return errors.New("output.name: missing, expected the name of the model's image output")
	}
	switch o.Layout {
	case "NCHW", "NHWC":
	default:
		return fmt.Errorf("output.layout: %q, expected NCHW or NHWC", o.Layout)
	}
	switch o.DType {
	case "float32", "float16", "uint8":
	case "":
		o.DType = "float32"
	default:
		return fmt.Errorf("output.dtype: %q, expected float32, float16 or uint8", o.DType)
	}
	return checkPicture("output", o.Range, o.Width, o.Height)
}

// checkPicture checks a picture's range and size, of the manifest's
// section key (output, image).
func checkPicture(key string, rng [2]float32, w, h int) error {
	if !(rng[1] > rng[0]) {
		return fmt.Errorf("%s.range: %v, expected [black, white] with white > black, such as [-1, 1], [0, 1] or [0, 255]", key, rng)
	}
	if w < 1 || h < 1 || w > 8192 || h > 8192 {
		return fmt.Errorf("%s.width/height: %dx%d, expected 1..8192 each", key, w, h)
	}
	return nil
}

// checkParam validates a controllable input: a name a controller can send
// (it becomes generator.NAME over HTTP and OSC), a range, and a start value
// inside it.
func checkParam(before []InputSpec, in InputSpec) error {
	for _, r := range in.Param {
		if !(r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return fmt.Errorf("param %q: expected letters, digits, _ or -", in.Param)
		}
	}
	for _, b := range before {
		if b.Param == in.Param {
			return fmt.Errorf("param %q: already used by input %q", in.Param, b.Name)
		}
	}
	if in.Values != nil {
		return fmt.Errorf("param %q: a controllable input takes one value for every element; drop values: or param:", in.Param)
	}
	if !(in.Max > in.Min) {
		return fmt.Errorf("param %q: min %g, max %g: expected min < max, the range a controller may set", in.Param, in.Min, in.Max)
	}
	if in.Value < in.Min || in.Value > in.Max {
		return fmt.Errorf("param %q: value %g is outside min..max %g..%g", in.Param, in.Value, in.Min, in.Max)
	}
	return nil
}

// DirectionsPath is the directions file the manifest names, resolved against
// the manifest's folder, or "" when it names none.
func (m *Manifest) DirectionsPath() string {
	if m.Directions == "" || filepath.IsAbs(m.Directions) || m.path == "" {
		return m.Directions
	}
	return filepath.Join(filepath.Dir(m.path), m.Directions)
}

// checkDirections refuses a directions file that is missing or whose size is
// not whole rows of the latent size, when the manifest is read rather than
// when the scene first needs it.
func (m *Manifest) checkDirections() error {
	if m.Directions == "" {
		return nil
	}
	p := m.DirectionsPath()
	st, err := os.Stat(p)
	if err != nil {
		return fmt.Errorf("directions %s: %w", p, userfile.StripPath(err))
	}
	return m.directionRows(p, st.Size())
}

// maxDirectionsBytes bounds a directions file: 4096 directions of a
// 512-value latent are 8 MiB.
const maxDirectionsBytes = 64 << 20

// directionRows checks that size bytes are whole rows of the latent size.
func (m *Manifest) directionRows(p string, size int64) error {
	row := int64(4 * m.Latent.Dim)
	if size == 0 || size%row != 0 {
		return fmt.Errorf("directions %s: %d bytes, expected k rows of %d float32 values (latent.dim), %d bytes each", p, size, m.Latent.Dim, row)
	}
	return nil
}

// LoadDirections reads the manifest's directions file (k×dim float32
// little-endian values) and normalises each row, so a gain means the same
// along every direction. It returns nil when the manifest names none.
func (m *Manifest) LoadDirections() ([][]float32, error) {
	if m.Directions == "" {
		return nil, nil
	}
	p := m.DirectionsPath()
	b, err := readUserFile(p, "directions", maxDirectionsBytes)
	if err != nil {
		return nil, err
	}
	if err := m.directionRows(p, int64(len(b))); err != nil {
		return nil, err
	}
	dim := m.Latent.Dim
	var dirs [][]float32
	for off := 0; off < len(b); off += 4 * dim {
		u := make([]float32, dim)
		var n float64
		for i := range u {
			u[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[off+4*i:]))
			n += float64(u[i]) * float64(u[i])
		}
		if n < 1e-12 || math.IsNaN(n) || math.IsInf(n, 0) {
			return nil, fmt.Errorf("directions %s: row %d is zero or not finite", p, off/(4*dim))
		}
		for i := range u {
			u[i] = float32(float64(u[i]) / math.Sqrt(n))
		}
		dirs = append(dirs, u)
	}
	return dirs, nil
}

// Write saves the manifest as YAML at path, naming modelFile as its model.
func (m *Manifest) Write(path, modelFile string) error {
	c := *m
	c.Model = modelFile
	data, err := yaml.Marshal(&c)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

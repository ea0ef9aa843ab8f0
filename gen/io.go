package gen

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	ort "github.com/yalue/onnxruntime_go"
)

// ioPlan is how a model's inputs and outputs are fed and read: the shapes
// its tensors get, and what was assumed to get them (dynamic axes fixed).
type ioPlan struct {
	latent []int64 // nil without a latent
	notes  []string
}

// compareIO checks the model's inputs and outputs against the manifest and
// returns the plan, or one error listing every mismatch.
func compareIO(man *Manifest, ins, outs []ort.InputOutputInfo) (ioPlan, error) {
	var plan ioPlan
	var problems []string
	find := func(list []ort.InputOutputInfo, name string) *ort.InputOutputInfo {
		for i := range list {
			if list[i].Name == name {
				return &list[i]
			}
		}
		return nil
	}
	names := func(list []ort.InputOutputInfo) string {
		var s []string
		for _, x := range list {
			ti := tensorInfo(x)
			s = append(s, fmt.Sprintf("%q %v %s", ti.Name, ti.Shape, ti.DType))
		}
		return strings.Join(s, ", ")
	}
	// want checks one tensor's type and shape; shape (nil for a latent)
	// fixes the dims, or resolve finds them from the model's.
	want := func(what, name string, dt ort.TensorElementDataType, dtName string, dims []int64, list []ort.InputOutputInfo, resolve func([]int64) []int64) []int64 {
		info := find(list, name)
		if info == nil {
			problems = append(problems, fmt.Sprintf("%s %q: the model has none by that name (it has %s)", what, name, names(list)))
			return nil
		}
		if info.DataType != dt {
			problems = append(problems, fmt.Sprintf("%s %q: the model's type is %s, the manifest says %s", what, name, tensorInfo(*info).DType, dtName))
		}
		got := dims
		if resolve != nil {
			got = resolve(info.Dimensions)
		}
		if got == nil || !fits(info.Dimensions, got) {
			problems = append(problems, fmt.Sprintf("%s %q: the model's shape is %v, the manifest implies %v", what, name, info.Dimensions, dims))
			return nil
		}
		if !slices.Equal([]int64(info.Dimensions), got) {
			plan.notes = append(plan.notes, fmt.Sprintf("%s %q %v: fed as %v%s", what, name, info.Dimensions, got, dynamicNote(info.Dimensions)))
		}
		return got
	}
	f32 := ort.TensorElementDataType(ort.TensorElementDataTypeFloat)
	if l := man.Latent; l.Input != "" {
		plan.latent = want("latent input", l.Input, f32, "float32", []int64{1, int64(l.Dim)}, ins, func(model []int64) []int64 {
			return latentShape(model, l.Dim)
		})
	}
	if im := man.Image; im != nil {
		want("image input", im.Input, f32, "float32", im.shape(), ins, nil)
	}
	for _, in := range man.Inputs {
		want("input", in.Name, f32, "float32", in.Shape, ins, nil)
	}
	for _, x := range ins {
		known := x.Name == man.Latent.Input || man.Image != nil && x.Name == man.Image.Input
		for _, in := range man.Inputs {
			known = known || in.Name == x.Name
		}
		if !known {
			problems = append(problems, fmt.Sprintf("input %q %v: the model needs it but the manifest does not list it under latent, image or inputs", x.Name, x.Dimensions))
		}
	}
	o := man.Output
	dims := []int64{1, 3, int64(o.Height), int64(o.Width)}
	if o.Layout == "NHWC" {
		dims = []int64{1, int64(o.Height), int64(o.Width), 3}
	}
	dt := map[string]ort.TensorElementDataType{
		"float32": ort.TensorElementDataTypeFloat,
		"float16": ort.TensorElementDataTypeFloat16,
		"uint8":   ort.TensorElementDataTypeUint8,
	}[o.DType]
	want("output", o.Name, dt, o.DType, dims, outs, nil)
	if len(problems) > 0 {
		return plan, fmt.Errorf("model %s does not fit its manifest: %s", man.Source(), strings.Join(problems, "; "))
	}
	return plan, nil
}

// latentShape fits a model's declared latent shape to dim values after a
// batch of 1: [1, dim], [N, dim, 1, 1] (a DCGAN exported as-is) and the
// like. A dynamic batch axis is 1, and one other dynamic axis takes what
// the fixed ones leave of dim. It returns nil when no such shape fits.
func latentShape(model []int64, dim int) []int64 {
	if len(model) == 1 && (model[0] < 0 || model[0] == int64(dim)) {
		return []int64{int64(dim)}
	}
	if len(model) < 2 || model[0] > 1 {
		return nil
	}
	out := make([]int64, len(model))
	out[0] = 1
	known, free := int64(1), -1
	for i, d := range model[1:] {
		switch {
		case d >= 1:
			out[i+1] = d
			known *= d
		case free >= 0:
			return nil // two dynamic axes: no one way to lay dim out
		default:
			free = i + 1
		}
	}
	if free >= 0 {
		if int64(dim)%known != 0 {
			return nil
		}
		out[free] = int64(dim) / known
	} else if known != int64(dim) {
		return nil
	}
	return out
}

// dynamicNote says why a shape was changed: its dynamic axes.
func dynamicNote(model []int64) string {
	var axes []string
	for i, d := range model {
		if d < 0 {
			if i == 0 {
				axes = append(axes, "the dynamic batch taken as 1")
			} else {
				axes = append(axes, fmt.Sprintf("dynamic axis %d fixed", i))
			}
		}
	}
	if len(axes) == 0 {
		return ""
	}
	return " (" + strings.Join(axes, ", ") + ")"
}

// fits reports whether a model's declared shape (with -1 for dynamic
// dimensions) accepts the concrete shape.
func fits(model ort.Shape, concrete []int64) bool {
	if len(model) != len(concrete) {
		return false
	}
	for i, d := range model {
		if d >= 0 && d != concrete[i] {
			return false
		}
	}
	return true
}

// Providers lists the execution providers generator.provider accepts.
var Providers = []string{"cpu", "cuda", "tensorrt", "coreml", "directml"}

// sessionOptions builds session options for the requested provider. An
// unavailable provider falls back to CPU with a warning unless strict.
func sessionOptions(sc SessionConfig) (*ort.SessionOptions, string, Warning, error) {
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, "", "", err
	}
	if sc.Threads > 0 {
		if err := opts.SetIntraOpNumThreads(sc.Threads); err != nil {
			opts.Destroy()
			return nil, "", "", fmt.Errorf("generator.threads %d: %v", sc.Threads, err)
		}
	}
	provider := sc.Provider
	if provider == "" {
		provider = "cpu"
	}
	var perr error
	switch provider {
	case "cpu":
	case "cuda":
		var co *ort.CUDAProviderOptions
		if co, perr = ort.NewCUDAProviderOptions(); perr == nil {
			perr = opts.AppendExecutionProviderCUDA(co)
			co.Destroy()
		}
	case "tensorrt":
		var to *ort.TensorRTProviderOptions
		if to, perr = ort.NewTensorRTProviderOptions(); perr == nil {
			perr = opts.AppendExecutionProviderTensorRT(to)
			to.Destroy()
		}
	case "coreml":
		perr = opts.AppendExecutionProviderCoreMLV2(nil)
	case "directml":
		perr = opts.AppendExecutionProviderDirectML(0)
	default:
		opts.Destroy()
		return nil, "", "", fmt.Errorf("generator.provider %q: expected one of %s", provider, strings.Join(Providers, ", "))
	}
	if perr != nil {
		if sc.Strict {
			opts.Destroy()
			return nil, "", "", fmt.Errorf("generator.provider %s is not available (%v) and generator.strict is true", provider, firstLine(perr))
		}
		// The failed append may have left options half set: start clean on CPU.
		opts.Destroy()
		cpu := sc
		cpu.Provider = "cpu"
		o, _, _, err := sessionOptions(cpu)
		if err != nil {
			return nil, "", "", err
		}
		return o, "cpu", Warning(fmt.Sprintf("generator.provider %s is not available (%v); running on cpu", provider, firstLine(perr))), nil
	}
	if err := registerKernels(opts); err != nil {
		opts.Destroy()
		return nil, "", "", err
	}
	return opts, provider, "", nil
}

func firstLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

var errClosed = errors.New("runner is closed")

// SessionOptions builds ONNX Runtime session options for sc, as the
// generator's sessions use them, for other packages that run sessions (the
// dream). The caller destroys them.
func SessionOptions(sc SessionConfig) (*ort.SessionOptions, string, Warning, error) {
	return sessionOptions(sc)
}

package gen

import (
	"errors"
	"fmt"
	"strings"

	ort "github.com/yalue/onnxruntime_go"
)

// compareIO checks the model's inputs and outputs against the manifest and
// returns one error listing every mismatch.
func compareIO(man *Manifest, ins, outs []ort.InputOutputInfo) error {
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
	want := func(what, name string, dt ort.TensorElementDataType, dtName string, dims []int64, list []ort.InputOutputInfo) {
		info := find(list, name)
		if info == nil {
			problems = append(problems, fmt.Sprintf("%s %q: the model has none by that name (it has %s)", what, name, names(list)))
			return
		}
		if info.DataType != dt {
			problems = append(problems, fmt.Sprintf("%s %q: the model's type is %s, the manifest says %s", what, name, tensorInfo(*info).DType, dtName))
		}
		if !fits(info.Dimensions, dims) {
			problems = append(problems, fmt.Sprintf("%s %q: the model's shape is %v, the manifest implies %v", what, name, info.Dimensions, dims))
		}
	}
	f32 := ort.TensorElementDataType(ort.TensorElementDataTypeFloat)
	want("latent input", man.Latent.Input, f32, "float32", []int64{1, int64(man.Latent.Dim)}, ins)
	for _, in := range man.Inputs {
		want("input", in.Name, f32, "float32", in.Shape, ins)
	}
	for _, x := range ins {
		known := x.Name == man.Latent.Input
		for _, in := range man.Inputs {
			known = known || in.Name == x.Name
		}
		if !known {
			problems = append(problems, fmt.Sprintf("input %q %v: the model needs it but the manifest does not list it under latent or inputs", x.Name, x.Dimensions))
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
	want("output", o.Name, dt, o.DType, dims, outs)
	if len(problems) > 0 {
		return fmt.Errorf("model %s does not fit its manifest: %s", man.Source(), strings.Join(problems, "; "))
	}
	return nil
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

package gen

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"

	ort "github.com/yalue/onnxruntime_go"

	"reverie/gen/onnxpb"
	"reverie/internal/project"
)

// reverie's kernels are element-wise activations for ONNX Runtime in a
// small library of their own (gen/kernels/kernels.c, built by
// scripts/setup.sh next to the runtime). ONNX Runtime's Sin calls the C
// library's sine one element at a time; the kernels' sine is vectorised
// and the CPPN spends a third of its frame in it. A built-in model uses
// them when the library loaded, and ONNX's own operators otherwise, so a
// machine without the library runs the same pictures, slower.

// KernelsFile is the kernels library's file name; KernelsDomain and
// KernelsOpset are the operator domain and version its kernels register.
const (
	KernelsFile   = "libreverie_kernels.so"
	KernelsDomain = "ai.reverie"
	KernelsOpset  = 1
)

// projectKernels is where scripts/setup.sh builds the library, relative to
// the project root.
var projectKernels = filepath.Join("third_party", "onnxruntime", KernelsFile)

var (
	kernelsOnce sync.Once
	kernelsPath string // "" when not loaded
	kernelsErr  error  // why not, when a library was found but failed
)

// Kernels reports the kernels library in use: its path, or "" and why not
// (a nil error when none was found). It looks once per process, after
// Init: beside the loaded ONNX Runtime library, then in the project's
// third_party/onnxruntime, and checks that ONNX Runtime accepts it.
func Kernels() (string, error) {
	if !ort.IsInitialized() {
		return "", nil
	}
	kernelsOnce.Do(func() { kernelsPath, kernelsErr = findKernels() })
	return kernelsPath, kernelsErr
}

func findKernels() (string, error) {
	initMu.Lock()
	ortPath := initLib.Path
	initMu.Unlock()
	var candidates []string
	if ortPath != "" {
		candidates = append(candidates, filepath.Join(filepath.Dir(ortPath), KernelsFile))
	}
	found := func(p string) bool { st, err := os.Stat(p); return err == nil && !st.IsDir() }
	if p, ok := project.Find(projectKernels, found); ok {
		candidates = append(candidates, p)
	}
	for _, p := range candidates {
		if found(p) {
			if err := probeKernels(p); err != nil {
				return "", err
			}
			return p, nil
		}
	}
	return "", nil
}

// probeKernels checks that ONNX Runtime loads the kernels library at p.
func probeKernels(p string) error {
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return err
	}
	defer opts.Destroy()
	if err := opts.RegisterCustomOpsLibrary(p); err != nil {
		return fmt.Errorf("%s: ONNX Runtime refused it (%s); run `make setup` to rebuild it", p, firstLine(err))
	}
	return nil
}

// KernelsStatus says in words where the kernels loaded from, or why they
// did not, for `reverie version`, the log and the bench.
func KernelsStatus() string {
	switch p, err := Kernels(); {
	case err != nil:
		return "not loaded: " + err.Error()
	case p == "":
		return "not found (run `make setup` to build " + KernelsFile + "); the built-in CPPN runs on ONNX's own operators, slower"
	default:
		return p
	}
}

// kernelsLoaded is whether built-in models may use the kernels.
func kernelsLoaded() bool {
	p, _ := Kernels()
	return p != ""
}

// registerKernels adds the kernels to a session's options when the library
// loaded, so the session can run a model that uses them.
func registerKernels(opts *ort.SessionOptions) error {
	p, _ := Kernels()
	if p == "" {
		return nil
	}
	if err := opts.RegisterCustomOpsLibrary(p); err != nil {
		return fmt.Errorf("reverie's kernels %s: %v", p, firstLine(err))
	}
	return nil
}

// kernelOp adds a node running one of the kernels (Sine, Gauss) on x.
func kernelOp(g *onnxpb.Graph, name, x string) string {
	return g.DomainOp(KernelsDomain, KernelsOpset, name, []string{x})
}

// graphIO reads a model's inputs and outputs from its graph, as
// ort.GetInputOutputInfoWithONNXData reports them. That call opens a
// session without reverie's kernels, which fails on a model that uses
// them: checkIO asks here for such a built-in instead.
func graphIO(data []byte) (ins, outs []ort.InputOutputInfo, err error) {
	m, err := onnxpb.Read(data)
	if err != nil {
		return nil, nil, err
	}
	conv := func(vis []onnxpb.ValueInfo, skip map[string]bool) []ort.InputOutputInfo {
		var out []ort.InputOutputInfo
		for _, vi := range vis {
			if skip[vi.Name] {
				continue
			}
			out = append(out, ort.InputOutputInfo{Name: vi.Name, OrtValueType: ort.ONNXTypeTensor,
				Dimensions: ort.NewShape(vi.Dims...), DataType: ort.TensorElementDataType(vi.ElemType)})
		}
		return out
	}
	// An input that an initializer also names is a constant with a
	// default, which ONNX Runtime does not list as an input.
	inits := map[string]bool{}
	for _, t := range m.Graph.Initializers {
		inits[t.Name] = true
	}
	return conv(m.Graph.Inputs, inits), conv(m.Graph.Outputs, nil), nil
}

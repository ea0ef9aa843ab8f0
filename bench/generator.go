package bench

import (
	"fmt"
	"math/rand/v2"
	"time"

	ort "github.com/yalue/onnxruntime_go"

	"reverie/gen"
	"reverie/gen/onnxpb"
)

// matmulN is the side of the square MatMul that measures the machine's peak:
// large enough that ONNX Runtime's kernel runs at full speed, small enough
// to take tens of milliseconds.
const matmulN = 1024

// measureGenerators fills the generator and efficiency figures.
func measureGenerators(gc gen.Config, n counts, r *Report) error {
	peak, err := measureMatMul(gc, n.matmul)
	if err != nil {
		return err
	}
	r.Efficiency.MatMulMs = peak
	r.Efficiency.PeakGFLOPS = 2 * float64(matmulN*matmulN*matmulN) / (peak * 1e6)
	for _, m := range []struct {
		kind string
		dst  *GenSizes
	}{{"cppn", &r.Generator.CPPN}, {"convdecoder", &r.Generator.ConvDecoder}, {"restyle", &r.Generator.Restyle}} {
		for _, s := range []struct {
			size int
			dst  *GenFigure
		}{{256, &m.dst.S256}, {512, &m.dst.S512}} {
			fig, provider, err := measureModel(gc, m.kind, s.size, n.gen)
			if err != nil {
				return err
			}
			*s.dst = fig
			r.Env.Provider = provider
		}
	}
	fig, _, err := measureModel(gc, "cppn-plain", 512, n.gen)
	if err != nil {
		return err
	}
	r.Generator.CPPNPlain = fig
	kernMs, onnxMs, err := measureKernels(gc, n.gen)
	if err != nil {
		return err
	}
	r.Efficiency.KernelsSpeedup = ratio(onnxMs, kernMs)
	for _, s := range []struct {
		size          int
		plain         bool
		fig           GenFigure
		gflops, share *float64
	}{
		{256, false, r.Generator.CPPN.S256, &r.Efficiency.CPPN256GFLOPS, &r.Efficiency.CPPN256OfPeak},
		{512, false, r.Generator.CPPN.S512, &r.Efficiency.CPPN512GFLOPS, &r.Efficiency.CPPN512OfPeak},
		{512, true, r.Generator.CPPNPlain, &r.Efficiency.CPPNPlain512GFLOPS, &r.Efficiency.CPPNPlain512OfPeak},
		{512, false, GenFigure{BareMs: onnxMs}, &r.Efficiency.CPPNONNX512GFLOPS, &r.Efficiency.CPPNONNX512OfPeak},
	} {
		c := gc.CPPN(s.size, s.size)
		c.Plain = s.plain // the plain form runs every layer each frame
		*s.gflops = 2 * float64(c.MACs()) / (s.fig.BareMs * 1e6)
		*s.share = ratio(*s.gflops, r.Efficiency.PeakGFLOPS)
		if s.size == 512 && !s.plain {
			r.Efficiency.CPPN512MFLOPFr = 2 * float64(c.MACs()) / 1e6
		}
	}
	return nil
}

// manifestAt builds a built-in model at size×size with the configured seed
// and look.
func manifestAt(gc gen.Config, kind string, size int) (*gen.Manifest, error) {
	switch kind {
	case "cppn":
		return gc.CPPN(size, size).Build()
	case "cppn-plain":
		c := gc.CPPN(size, size)
		c.Plain = true
		return c.Build()
	}
	gc.Model, gc.Width, gc.Height = "builtin:"+kind, size, size
	return gc.Manifest()
}

// measureKernels times the built-in CPPN at 512² bare on reverie's kernels
// and on ONNX's own operators (CPPN.Portable), alternating the two so both
// see the same machine: figures taken a minute apart on a shared machine
// differ by more than the kernels do. It returns both medians.
func measureKernels(gc gen.Config, iters int) (kernMs, onnxMs float64, err error) {
	var infer [2]func() error
	for i, portable := range []bool{false, true} {
		c := gc.CPPN(512, 512)
		c.Portable = c.Portable || portable
		man, err := c.Build()
		if err != nil {
			return 0, 0, fmt.Errorf("generator cppn 512x512: %w", err)
		}
		z := make([]float32, man.Latent.Dim)
		for k := range z {
			z[k] = float32(k%5)/2 - 1
		}
		m, _, err := gen.Load(man, gc.Session())
		if err != nil {
			return 0, 0, fmt.Errorf("generator cppn 512x512: %w", err)
		}
		defer m.Close()
		infer[i] = func() error { return m.Infer(z) }
	}
	tk, to, err := alternate(2, iters, infer[0], infer[1])
	if err != nil {
		return 0, 0, fmt.Errorf("generator cppn 512x512: %w", err)
	}
	return median(tk), median(to), nil
}

// measureModel times one model through the Runner and bare, alternating
// the two so both see the same machine load. The Runner's figure is its
// frame, Runner.Step. Bare is the Runner's own ONNX Runtime session (or the
// CPPN's band sessions) run through Model.Infer: the latent copied in and
// Run, nothing else. A second session on the same bytes would be more
// independent, but its idle pool threads spin for a while after each run
// and slow the other session: measured that way, both sides ran 20–60%
// slower and the ratio wandered by ±15%. An image model's Runner is handed
// a new camera picture at its input's size before every frame, as `reverie
// run` hands the camera's over: the watcher's BGR picture copied into the
// runner's next picture (PictureBack) and published. That hand-over is the
// producer's work, on the display's goroutine live, and is timed apart
// (HandoverMs); converting the picture into the input is the Runner's, in
// Step. Bare runs on the picture the Runner converted last.
func measureModel(gc gen.Config, kind string, size, iters int) (GenFigure, string, error) {
	what := fmt.Sprintf("generator %s %dx%d", kind, size, size)
	man, err := manifestAt(gc, kind, size)
	if err != nil {
		return GenFigure{}, "", fmt.Errorf("%s: %w", what, err)
	}
	model, _, err := gen.Load(man, gc.Session())
	if err != nil {
		return GenFigure{}, "", fmt.Errorf("%s: %w", what, err)
	}
	provider := model.Provider
	runner := gen.NewRunner(model)
	defer runner.Close()

	rng := rand.New(rand.NewPCG(gc.Seed, 1))
	z := make([]float32, man.Latent.Dim)
	for i := range z {
		z[i] = float32(rng.NormFloat64())
	}
	var feed func() error
	if im := man.Image; im != nil {
		// The picture `reverie run` hands over: the watcher resizes camera
		// frames to the input's size and keeps OpenCV's BGR
		// (vision.Picturer); Watcher.LatestPicture copies it into the
		// runner's next picture.
		camera := gen.Picture{Pix: make([]byte, 3*im.Width*im.Height), Width: im.Width, Height: im.Height, Channels: 3, BGR: true}
		for i := range camera.Pix {
			camera.Pix[i] = byte(rng.IntN(256))
		}
		feed = func() error {
			camera.Pix[0]++ // a new camera picture
			runner.PictureBack().CopyFrom(&camera)
			return runner.PublishPicture()
		}
		// The baseline runs on the picture the Runner converted last (a
		// network's speed can depend on what it sees).
	}
	// The first runs allocate and pick kernels; they are not the steady state.
	handT, runnerT, bareT, err := alternateFed(2, iters, feed, func() error {
		if len(z) > 0 {
			z[0] += 0.01 // a moving latent, as the director gives
		}
		_, err := runner.Step(z)
		return err
	}, func() error {
		if err := model.Infer(z); err != nil {
			return fmt.Errorf("bare session: %w", err)
		}
		return nil
	})
	if err != nil {
		return GenFigure{}, "", fmt.Errorf("%s: %w", what, err)
	}
	f := GenFigure{RunnerMs: median(runnerT), BareMs: median(bareT), HandoverMs: median(handT)}
	f.Overhead = ratio(f.RunnerMs, f.BareMs)
	return f, provider, nil
}

// sessionOptions sets the same provider and thread count the Runner's
// session runs with, so the two differ only in what surrounds the run.
func sessionOptions(provider string, threads int) (*ort.SessionOptions, error) {
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, err
	}
	if threads > 0 {
		if err := opts.SetIntraOpNumThreads(threads); err != nil {
			opts.Destroy()
			return nil, fmt.Errorf("generator.threads %d: %v", threads, err)
		}
	}
	switch provider {
	case "cpu", "":
	case "cuda":
		co, err := ort.NewCUDAProviderOptions()
		if err == nil {
			err = opts.AppendExecutionProviderCUDA(co)
			co.Destroy()
		}
		if err != nil {
			opts.Destroy()
			return nil, fmt.Errorf("generator.provider cuda: %v", err)
		}
	case "tensorrt":
		to, err := ort.NewTensorRTProviderOptions()
		if err == nil {
			err = opts.AppendExecutionProviderTensorRT(to)
			to.Destroy()
		}
		if err != nil {
			opts.Destroy()
			return nil, fmt.Errorf("generator.provider tensorrt: %v", err)
		}
	default:
		opts.Destroy()
		return nil, fmt.Errorf("generator.provider %s: the bench's bare baseline supports cpu, cuda and tensorrt", provider)
	}
	return opts, nil
}

// measureMatMul returns the best time of a matmulN³ MatMul in milliseconds.
// Both operands are graph inputs, so ONNX Runtime cannot fold the product
// away when it loads the model.
func measureMatMul(gc gen.Config, iters int) (float64, error) {
	g := onnxpb.NewGraph("matmul")
	a := g.Input("a", onnxpb.Float, matmulN, matmulN)
	b := g.Input("b", onnxpb.Float, matmulN, matmulN)
	g.OpTo("c", "MatMul", []string{a, b})
	g.Output("c", onnxpb.Float, matmulN, matmulN)
	data := g.Model("reverie-bench", gen.Version)

	shape := ort.NewShape(matmulN, matmulN)
	var ts [3]*ort.Tensor[float32]
	for i := range ts {
		t, err := ort.NewEmptyTensor[float32](shape)
		if err != nil {
			return 0, fmt.Errorf("matmul tensor: %w", err)
		}
		defer t.Destroy()
		ts[i] = t
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, t := range ts[:2] {
		for i, d := 0, t.GetData(); i < len(d); i++ {
			d[i] = float32(rng.NormFloat64())
		}
	}
	provider := gc.Provider
	opts, err := sessionOptions(provider, gc.Threads)
	if err != nil && provider != "cpu" {
		// As the generator does without generator.strict: fall back to CPU.
		opts, err = sessionOptions("cpu", gc.Threads)
	}
	if err != nil {
		return 0, err
	}
	defer opts.Destroy()
	s, err := ort.NewAdvancedSessionWithONNXData(data, []string{"a", "b"}, []string{"c"},
		[]ort.Value{ts[0], ts[1]}, []ort.Value{ts[2]}, opts)
	if err != nil {
		return 0, fmt.Errorf("matmul session: %w", err)
	}
	defer s.Destroy()
	best := time.Duration(1<<63 - 1)
	for i := -1; i < iters; i++ {
		t := time.Now()
		if err := s.Run(); err != nil {
			return 0, fmt.Errorf("matmul run: %w", err)
		}
		if d := time.Since(t); i >= 0 && d < best {
			best = d
		}
	}
	return ms(best), nil
}

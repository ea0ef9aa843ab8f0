// Package bench measures every stage against a bare baseline in one run: the
// generator through the Runner and through a bare ONNX Runtime session, the
// trained networks through gen.Net and through a bare session, a DeepDream
// step against a forward pass to the same layer, the CPPN's
// FLOP/s against a MatMul peak, the vision analysis against the same
// gocv calls made bare, the pass chain against a plain texture blit, and the
// input-to-response latency of the live pipeline with each stage's share,
// and the sound-to-feature latency against the floor its buffering sets.
// The machines it runs on are shared and noisy, so every figure is a ratio
// against a baseline measured alternately with it, in the same process.
package bench

import (
	"fmt"
	"os"
	"runtime"
	"sort"
	"time"

	"reverie/audio"
	"reverie/gen"
	"reverie/internal/userfile"
	"reverie/scene"
	"reverie/vision"
)

// Config says what to measure with. The sections are config.yaml's, so the
// bench measures the installation as configured (provider, threads, model,
// passes, render size).
type Config struct {
	Generator gen.Config
	Vision    vision.Config
	Scene     scene.Config
	Audio     audio.Section // the analysis the sound figures run
	// Quick runs fewer iterations and latency events; it finishes in under a
	// minute and reports the same keys.
	Quick bool
	// Iterations and Events override the counts Quick chooses when positive.
	Iterations int
	Events     int
	// Clip is the footage the vision figures analyse; "" is the sample clip.
	Clip string
}

// counts are the iterations each part runs.
type counts struct {
	gen, matmul, networks, vision, display, events int
}

func (c *Config) counts() counts {
	n := counts{gen: 30, matmul: 10, networks: 12, vision: 150, display: 60, events: 10}
	if c.Quick {
		n = counts{gen: 8, matmul: 4, networks: 4, vision: 40, display: 15, events: 3}
	}
	if c.Iterations > 0 {
		n.gen, n.matmul, n.networks, n.vision, n.display = c.Iterations, max(2, c.Iterations/2), max(2, c.Iterations/2), c.Iterations, c.Iterations
	}
	if c.Events > 0 {
		n.events = c.Events
	}
	return n
}

// Validate checks the bench's own options and the sections it uses.
func (c *Config) Validate() error {
	if c.Iterations < 0 || c.Iterations > 100000 {
		return fmt.Errorf("bench iterations %d: expected 0 (automatic) .. 100000", c.Iterations)
	}
	if c.Events < 0 || c.Events > 1000 {
		return fmt.Errorf("bench events %d: expected 0 (automatic) .. 1000", c.Events)
	}
	if c.Clip != "" {
		if st, err := os.Stat(c.Clip); err != nil {
			return fmt.Errorf("bench clip %s: %w", c.Clip, userfile.StripPath(err))
		} else if st.IsDir() {
			return fmt.Errorf("bench clip %s is a folder, expected a video file", c.Clip)
		}
	}
	if err := c.Generator.Validate(); err != nil {
		return fmt.Errorf("generator.%w", err)
	}
	if err := c.Vision.Validate(); err != nil {
		return fmt.Errorf("vision.%w", err)
	}
	if err := c.Scene.Validate(); err != nil {
		return fmt.Errorf("scene.%w", err)
	}
	if err := c.Audio.Validate(); err != nil {
		return fmt.Errorf("audio.%w", err)
	}
	return nil
}

// Report is every figure of one run. Its JSON keys are stable: scripts and
// docs/PERFORMANCE.md rely on them. Times are milliseconds per frame, the
// median of the timed iterations; a ratio is the stage over its baseline.
type Report struct {
	Env        Env                      `json:"env"`
	Generator  GeneratorReport          `json:"generator"`
	Efficiency EfficiencyReport         `json:"efficiency"`
	Networks   map[string]NetworkFigure `json:"networks"` // the trained networks at the sizes reverie runs them: "posenet_385x385"
	Dream      DreamReport              `json:"dream"`    // one deepdream step against a forward pass to its layer
	Vision     VisionReport             `json:"vision"`
	Display    DisplayReport            `json:"display"`
	Latency    LatencyReport            `json:"latency"`
	Sound      SoundReport              `json:"sound"`   // sound to feature
	Seconds    float64                  `json:"seconds"` // the whole run's wall time
}

// Env says where and how the figures were taken.
type Env struct {
	CPUs       int    `json:"cpus"`
	GOARCH     string `json:"goarch"`
	ORT        string `json:"onnxruntime"`
	Kernels    string `json:"kernels"`  // reverie's kernels library the CPPN ran on, or why none
	Provider   string `json:"provider"` // the provider sessions actually ran on
	Threads    int    `json:"threads"`  // generator.threads, 0 = ONNX Runtime's choice
	Model      string `json:"model"`    // generator.model, which the latency probe runs
	Render     string `json:"render"`   // scene.render_width×height of the latency probe
	Quick      bool   `json:"quick"`
	Iterations int    `json:"iterations"` // timed generator iterations per figure
}

// GenFigure is one model at one size: through gen.Runner.Step (latent copy,
// for an image model the picture's conversion to its input, session run,
// RGBA conversion, frame publishing) and through a bare session run on
// tensors of the same shapes and values. An image model's picture is handed
// over before each frame, outside Step, and timed on its own.
type GenFigure struct {
	RunnerMs   float64 `json:"runner_ms"`
	BareMs     float64 `json:"bare_ms"`
	Overhead   float64 `json:"overhead"`              // runner_ms / bare_ms
	HandoverMs float64 `json:"handover_ms,omitempty"` // an image model's: a camera picture copied into Runner.PictureBack and published
}

// GenSizes are one model's figures at 256×256 and 512×512.
type GenSizes struct {
	S256 GenFigure `json:"256"`
	S512 GenFigure `json:"512"`
}

// GeneratorReport holds the built-in models: the two latent ones and the
// image model (its Runner figure includes converting a camera picture, its
// hand-over figure handing one over).
type GeneratorReport struct {
	CPPN        GenSizes  `json:"cppn"`
	ConvDecoder GenSizes  `json:"convdecoder"`
	Restyle     GenSizes  `json:"restyle"`
	CPPNPlain   GenFigure `json:"cppn_plain_512"` // the CPPN's untiled form (gen.CPPN.Plain) at 512², for comparison
}

// EfficiencyReport compares the CPPN's achieved FLOP/s (2 × its multiply-adds
// per bare run) with the machine's peak, a 1024³ MatMul through ONNX Runtime.
type EfficiencyReport struct {
	MatMulMs       float64 `json:"matmul_ms"`   // best run: peak is what the machine can do
	PeakGFLOPS     float64 `json:"peak_gflops"` // 2·1024³ / matmul_ms
	CPPN256GFLOPS  float64 `json:"cppn_256_gflops"`
	CPPN512GFLOPS  float64 `json:"cppn_512_gflops"`
	CPPN256OfPeak  float64 `json:"cppn_256_of_peak"` // cppn_256_gflops / peak_gflops
	CPPN512OfPeak  float64 `json:"cppn_512_of_peak"`
	CPPN512MFLOPFr float64 `json:"cppn_512_mflop_per_frame"`
	// The untiled form, measured in the same run.
	CPPNPlain512GFLOPS float64 `json:"cppn_plain_512_gflops"`
	CPPNPlain512OfPeak float64 `json:"cppn_plain_512_of_peak"`
	// The built-in form on ONNX's own operators instead of reverie's
	// kernels (gen.CPPN.Portable), timed bare alternately with the kernels'
	// form; the speedup is its time over theirs.
	CPPNONNX512GFLOPS float64 `json:"cppn_onnx_512_gflops"`
	CPPNONNX512OfPeak float64 `json:"cppn_onnx_512_of_peak"`
	KernelsSpeedup    float64 `json:"cppn_kernels_speedup"`
}

// VisionReport is the analysis of 640×480 frames of real footage.
type VisionReport struct {
	AnalyzerMs float64 `json:"analyzer_ms"`
	BareMs     float64 `json:"bare_ms"`
	Ratio      float64 `json:"ratio"` // analyzer_ms / bare_ms
	// The person network's evidence (vision.person), when it runs: the
	// live analyzer with it against the live analyzer without it; the
	// network itself looks asynchronously (its own figure is under
	// networks).
	Person        string  `json:"person,omitempty"`
	PersonMs      float64 `json:"person_analyzer_ms,omitempty"`
	MotionOnlyMs  float64 `json:"motion_only_ms,omitempty"`
	PersonCostMs  float64 `json:"person_cost_ms,omitempty"` // per analysed frame; the budget is 10 ms
	PersonMissing string  `json:"person_missing,omitempty"`
}

// DisplayFigure is one render size: the configured pass chain against one
// plain blit of the same size, both timed to GPU completion.
type DisplayFigure struct {
	ChainMs float64 `json:"chain_ms"`
	BlitMs  float64 `json:"blit_ms"`
	Ratio   float64 `json:"ratio"` // chain_ms / blit_ms
	// Draws is how many full-size draws one step of the chain makes: one
	// per feedback pass, less the pointwise passes that run in the draw of
	// the pass before them.
	Draws int `json:"draws"`
}

// DisplayReport holds both render sizes.
type DisplayReport struct {
	Passes int           `json:"passes"` // passes in the chain
	HD     DisplayFigure `json:"1280x720"`
	FullHD DisplayFigure `json:"1920x1080"`
}

// Stages splits a latency into the pipeline's hand-overs; they add up to it.
type Stages struct {
	Capture   float64 `json:"capture"`   // frame arrives → analysis starts on it
	Analysis  float64 `json:"analysis"`  // the Analyzer on that frame
	Director  float64 `json:"director"`  // features published → latent handed to the runner
	Generator float64 `json:"generator"` // latent handed over → a frame made from it is published
	Upload    float64 `json:"upload"`    // frame published → uploaded by the display
	Passes    float64 `json:"passes"`    // uploaded → pass chain done and the screen drawn, GPU-synced
}

// LatencyReport is the live pipeline's input-to-response latency: from a
// synthetic motion event's arrival to the first presented frame its pixels
// reach. ms and stages are means over the events, so the stages add up.
type LatencyReport struct {
	Events         int     `json:"events"`
	Ms             float64 `json:"ms"`
	MaxMs          float64 `json:"max_ms"`
	DisplayFrameMs float64 `json:"display_frame_ms"` // measured interval between display ticks
	DisplayFrames  float64 `json:"display_frames"`   // ms / display_frame_ms
	// The bound a visitor should feel at most: two display frames (one to
	// take the generator's frame, one to show it) and one generator frame
	// (the model time the runner measured, generator_frame_ms).
	GeneratorFrameMs float64 `json:"generator_frame_ms"`
	BoundMs          float64 `json:"bound_ms"` // 2·display_frame_ms + generator_frame_ms
	// How the frame budget had settled while the events ran: the render
	// scale, the share of a core the generator may use (a frame that took
	// generator_frame_ms starts no sooner than that over the share after
	// the one before), and the interval between generator frames that
	// followed.
	RenderScale         float64 `json:"render_scale"`
	GeneratorShare      float64 `json:"generator_share"`
	GeneratorIntervalMs float64 `json:"generator_interval_ms"`
	EventMotion         float64 `json:"event_motion"` // the analysis's motion on the event frames, > 0
	StagesMs            Stages  `json:"stages_ms"`
	Share               Stages  `json:"share"` // each stage / ms
}

// Run measures everything. It must be called on the main goroutine, once
// per process: the display figures and the latency probe run inside Ebiten's
// game loop, which needs the main thread and starts only once.
func Run(cfg Config) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	start := time.Now()
	n := cfg.counts()
	if _, err := gen.Init(cfg.Generator.ORTLibrary); err != nil {
		return nil, err
	}
	r := &Report{Env: Env{
		CPUs: runtime.NumCPU(), GOARCH: runtime.GOARCH, ORT: gen.RuntimeVersion(),
		Threads: cfg.Generator.Threads, Quick: cfg.Quick, Iterations: n.gen,
		Model:   fmt.Sprintf("%s %dx%d", cfg.Generator.Model, cfg.Generator.Width, cfg.Generator.Height),
		Render:  fmt.Sprintf("%dx%d", cfg.Scene.RenderW, cfg.Scene.RenderH),
		Kernels: gen.KernelsStatus(),
	}}
	if err := measureGenerators(cfg.Generator, n, r); err != nil {
		return nil, err
	}
	var err error
	if r.Networks, err = measureNetworks(cfg.Generator, n.networks); err != nil {
		return nil, err
	}
	if r.Dream, err = measureDream(cfg.Scene, n.networks*2); err != nil {
		return nil, err
	}
	clip := cfg.Clip
	if clip == "" {
		clip = vision.SampleClip
	}
	if r.Vision, err = measureVision(cfg.Vision, clip, n.vision); err != nil {
		return nil, err
	}
	secs := 30.0
	if cfg.Quick {
		secs = 10
	}
	if r.Sound, err = measureSound(cfg.Audio, secs); err != nil {
		return nil, err
	}
	if err := runLoop(cfg, clip, n, r); err != nil {
		return nil, err
	}
	r.Seconds = time.Since(start).Seconds()
	return r, nil
}

// median of the samples in milliseconds. It sorts s.
func median(s []time.Duration) float64 {
	if len(s) == 0 {
		return 0
	}
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return ms(m)
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

func ratio(a, b float64) float64 {
	if b <= 0 {
		return 0
	}
	return a / b
}

// alternate times a and b iters times each, after warm untimed calls of
// each. They run in interleaved blocks (a a a a a, b b b b b, a …) so both
// see the same machine load, and the first call of every block is not
// timed: it pays for what the other side left behind (ONNX Runtime's
// threads spin for a while after a run, caches hold the other's data), and
// neither side should pay for that.
func alternate(warm, iters int, a, b func() error) (ta, tb []time.Duration, err error) {
	_, ta, tb, err = alternateFed(warm, iters, nil, a, b)
	return ta, tb, err
}

// alternateFed is alternate with feed called just before each call of a,
// and timed apart from it (tf, for the calls ta times): what a producer
// does to hand a its input, which a's own figure leaves out. A nil feed
// is none, and tf is nil.
func alternateFed(warm, iters int, feed, a, b func() error) (tf, ta, tb []time.Duration, err error) {
	const block = 4
	type side struct {
		feed, f  func() error
		fed, dst *[]time.Duration
	}
	sides := [2]side{{feed, a, &tf, &ta}, {nil, b, nil, &tb}}
	if feed == nil {
		sides[0].fed = nil
	}
	for _, s := range sides {
		for i := 0; i < warm; i++ {
			if s.feed != nil {
				if err := s.feed(); err != nil {
					return nil, nil, nil, err
				}
			}
			if err := s.f(); err != nil {
				return nil, nil, nil, err
			}
		}
	}
	ta, tb = make([]time.Duration, 0, iters), make([]time.Duration, 0, iters)
	for len(ta) < iters || len(tb) < iters {
		for _, s := range sides {
			for k := 0; k <= block; k++ {
				t0 := time.Now()
				if s.feed != nil {
					if err := s.feed(); err != nil {
						return nil, nil, nil, err
					}
				}
				t := time.Now()
				if err := s.f(); err != nil {
					return nil, nil, nil, err
				}
				if d := time.Since(t); k > 0 && len(*s.dst) < iters {
					*s.dst = append(*s.dst, d)
					if s.fed != nil {
						*s.fed = append(*s.fed, t.Sub(t0))
					}
				}
			}
		}
	}
	return tf, ta, tb, nil
}

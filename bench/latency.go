package bench

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hajimehoshi/ebiten/v2"
	"gocv.io/x/gocv"

	"reverie/director"
	"reverie/gen"
	"reverie/scene"
	"reverie/vision"
)

// The latency probe runs the live pipeline (vision.Capture, vision.Analyzer,
// scene.Steering and its director, gen.Runner, scene.Game and its pass
// chain), wired the way vision.Watcher and core's live driver wire them,
// each stage in its own goroutine
// handing over through latest-value mailboxes. The only difference is a
// timestamp at each hand-over. A fake camera shows a still frame of real
// footage and, now and then, a bright block that moves across it: the
// synthetic motion event. Each event is followed through the hand-overs to
// the first presented frame made from it.

// trace is one event's journey; a zero time is a hand-over not yet made.
type trace struct {
	seq           uint64 // capture sequence number of the event's first frame
	arrival       time.Time
	analysisStart time.Time
	analysisDone  time.Time
	directed      time.Time // the latent that saw it was handed to the runner
	generated     time.Time // a frame made from that latent was published
	uploaded      time.Time
	presented     time.Time
	motion        float32
	motionSeq     uint64 // capture sequence of the features that showed it
}

const (
	camFPS    = 30
	blockSide = 120
	blockStep = 12 // pixels per frame the block moves
	eventLen  = 10 // frames the block is seen
	// Still frames before the next event: a second, so each event is a
	// first move after calm, which the director answers at once
	// (director.Director.Startled, gen.Runner.Hurry). Motion that goes on
	// waits for the generator's slot under the frame budget's share.
	quietLen   = 30
	firstQuiet = 45 // still frames before the first: the background model settles
)

// probe owns the pipeline and the traces.
type probe struct {
	cfg    Config
	events int

	src      *eventSource
	capture  *vision.Capture
	an       *vision.Analyzer
	runner   *gen.Runner
	director *director.Director
	game     *scene.Game
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	started  bool
	start    time.Time

	mu      sync.Mutex
	feats   vision.Features // the analysis's mailbox
	featSeq uint64          // capture sequence of the features in it
	ready   chan struct{}   // a token after each publish, for the steering
	seen    uint64          // the display's featSeq
	share   float64         // the frame budget's share, last handed to the runner
	traces  []trace         // events so far; the last one may be in flight
	local   vision.Features // the display's copy

	// Displayed frames (Draw calls) since the budget settled: Ebiten calls
	// Update 60 times a second, and several times per displayed frame when
	// the display is slower, so ticks would overstate the display's rate.
	shown       int
	firstShown  time.Time
	lastShown   time.Time
	sync        gpuSync
	renderW     int
	renderH     int
	deadline    time.Time
	presentNext bool // the chain output of this tick completes a trace
	// The frame budget settles (scene.target_fps) before the first event,
	// so the figures are the steady state `reverie run` reaches.
	settled  atomic.Bool
	settleBy time.Time
}

// maxSettle bounds the wait for the frame budget to settle; -quick waits
// at most quickSettle.
const maxSettle, quickSettle = 30 * time.Second, 5 * time.Second

func newProbe(cfg Config, clip string, events int) (*probe, error) {
	p := &probe{cfg: cfg, events: events, renderW: cfg.Scene.RenderW, renderH: cfg.Scene.RenderH}
	// Full capacity up front: the display holds a pointer to the trace in
	// flight, which an append must never move.
	p.traces = make([]trace, 0, events)
	p.ready = make(chan struct{}, 1)
	frames, err := clipFrames(clip, 1, visionW, visionH)
	if err != nil {
		return nil, err
	}
	p.src = &eventSource{bg: frames[0], p: p}
	model, _, err := p.cfg.Generator.Open()
	if err != nil {
		p.src.Close()
		return nil, fmt.Errorf("bench latency: %w", err)
	}
	p.runner = gen.NewRunner(model)
	p.runner.SetMaxFPS(cfg.Generator.MaxFPS) // Run caps its frames as `reverie run` does
	z := make([]float32, model.Manifest.Latent.Dim)
	for i := 0; i < 3; i++ { // warm up: the first runs are slow
		if _, err := p.runner.Step(z); err != nil {
			p.src.Close()
			p.runner.Close()
			return nil, fmt.Errorf("bench latency: warm-up run: %w", err)
		}
	}
	p.director = director.New(cfg.Scene.Director, model.Manifest.Latent.Dim)
	p.an = vision.NewLiveAnalyzer(cfg.Vision) // the person network looks on its own goroutine, as in `reverie run`
	return p, nil
}

// begin starts the pipeline's goroutines and the display game.
func (p *probe) begin() error {
	m := p.runner.Model()
	g, err := scene.NewGame(p.cfg.Scene, m.Width(), m.Height(), p.director, p)
	if err != nil {
		return fmt.Errorf("bench latency: %w", err)
	}
	p.game = g
	p.capture = vision.NewCapture(p.src, func() (vision.Source, error) {
		return nil, errors.New("the bench's synthetic camera cannot be reopened")
	})
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	p.start = time.Now()
	settle := maxSettle
	if p.cfg.Quick {
		settle = quickSettle
	}
	p.settleBy = p.start.Add(settle)
	p.deadline = p.settleBy.Add(time.Duration(10+5*p.events) * time.Second)
	steer := &scene.Steering{Game: g, Latent: p.runner.SetLatent, Hurry: p.runner.Hurry, Steered: p.steered,
		Camera: func() scene.Sight { return p }}
	p.wg.Add(4)
	go func() { defer p.wg.Done(); p.capture.Run(ctx) }()
	go func() { defer p.wg.Done(); p.analyse(ctx) }()
	go func() { defer p.wg.Done(); steer.Run(ctx) }()
	go func() { defer p.wg.Done(); p.runner.Run(ctx) }()
	p.started = true
	return nil
}

// analyse is vision.Watcher's analysis loop with timestamps.
func (p *probe) analyse(ctx context.Context) {
	frame := gocv.NewMat()
	defer frame.Close()
	var seq uint64
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.capture.Frames():
		}
		s, at, ok := p.capture.Latest(&frame, seq)
		if !ok {
			continue
		}
		seq = s
		t0 := time.Now()
		f := p.an.Analyze(frame, at.Sub(p.start).Seconds())
		f.At = at
		t1 := time.Now()
		p.mu.Lock()
		p.feats.CopyFrom(f)
		p.featSeq = s
		// The first frame of the event that the analysis sees motion in: an
		// analysis that needs two frames to respond adds a camera period.
		if tr := p.current(); tr != nil && tr.analysisStart.IsZero() && s >= tr.seq && f.Motion > 0 {
			tr.analysisStart, tr.analysisDone, tr.motion, tr.motionSeq = t0, t1, f.Motion, s
		}
		p.mu.Unlock()
		select {
		case p.ready <- struct{}{}:
		default: // a token waits already
		}
	}
}

// Ready implements scene.Sight: the steering wakes when features arrive.
func (p *probe) Ready() <-chan struct{} { return p.ready }

// Latest implements scene.Sight, as vision.Watcher.Latest.
func (p *probe) Latest(dst *vision.Features, since uint64) (uint64, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.featSeq == 0 || p.featSeq == since {
		return since, false
	}
	dst.CopyFrom(&p.feats)
	return p.featSeq, true
}

// steered is told of each latent the steering hands the runner: the first
// made from the event's features is the director's hand-over.
func (p *probe) steered(seq uint64) {
	t := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if tr := p.current(); tr != nil && tr.motionSeq > 0 && tr.directed.IsZero() && seq >= tr.motionSeq {
		tr.directed = t
	}
}

// current is the event in flight, or nil. The caller holds p.mu.
func (p *probe) current() *trace {
	if n := len(p.traces); n > 0 && p.traces[n-1].presented.IsZero() {
		return &p.traces[n-1]
	}
	return nil
}

// Tick implements scene.Driver: the live installation's tick (core) with
// timestamps. The director steps on the steering goroutine, not here.
func (p *probe) Tick(g *scene.Game) error {
	p.seen, _ = p.Latest(&p.local, p.seen)
	var f *vision.Features
	if p.seen > 0 {
		f = &p.local
	}
	g.SetFeatures(f)
	if s := g.Budget().Share; s != p.share {
		p.runner.SetShare(s) // the generator gets the share live gives it
		p.share = s
	}
	if g.Sleeping() {
		return nil
	}
	fr, ok := p.runner.Latest()
	if ok {
		g.Upload(fr)
	}
	t := time.Now()

	p.mu.Lock()
	defer p.mu.Unlock()
	tr := p.current()
	if tr == nil {
		return nil
	}
	// The runner copies the newest latent just before it starts a frame, so
	// a frame started after the hand-over was made from it (or a newer one).
	if ok && !tr.directed.IsZero() && tr.generated.IsZero() && !fr.At.Add(-fr.GenDur).Before(tr.directed) {
		tr.generated, tr.uploaded = fr.At, t
		p.presentNext = true
	}
	return nil
}

// AfterChain implements scene.Driver: the probe reads nothing back.
func (p *probe) AfterChain(*scene.Game) error { return nil }

// AppendStatus implements scene.Driver: the probe shows no overlay.
func (p *probe) AppendStatus(b []byte) []byte { return b }

// update runs one display tick; done once every event is presented.
func (p *probe) update() (bool, error) {
	if !p.started {
		return false, p.begin()
	}
	now := time.Now()
	p.mu.Lock()
	n := len(p.traces)
	finished := n == p.events && p.current() == nil
	var stuck string
	if tr := p.current(); tr != nil {
		stuck = tr.stage()
	} else if n < p.events {
		stuck = "the synthetic camera (no event started)"
	}
	p.mu.Unlock()
	if finished {
		return true, nil
	}
	if now.After(p.deadline) {
		return false, fmt.Errorf("bench latency: event %d of %d was not presented within %s; it stopped at %s",
			n, p.events, p.deadline.Sub(p.start).Round(time.Second), stuck)
	}
	if err := p.game.Update(); err != nil && !scene.IsTermination(err) {
		return false, err
	}
	if !p.settled.Load() {
		switch p.game.Budget().Cause {
		case "measuring", "lowered", "raised":
			if now.Before(p.settleBy) {
				return false, nil
			}
		}
		p.settled.Store(true) // the display's frame time counts from here (draw)
	}
	return false, nil
}

// stage names the hand-over a trace waits for.
func (tr *trace) stage() string {
	switch {
	case tr.analysisDone.IsZero():
		return "analysis (no frame of the event showed motion)"
	case tr.directed.IsZero():
		return "director (the features were not taken)"
	case tr.generated.IsZero():
		return "generator (no frame from the new latent)"
	}
	return "passes (the frame was not presented)"
}

// draw shows the game's frame and, for a traced frame, waits until the GPU
// has drawn the screen: then the frame is presented.
func (p *probe) draw(screen *ebiten.Image) {
	if p.game == nil {
		return
	}
	p.game.Draw(screen)
	if p.settled.Load() {
		now := time.Now()
		if p.shown == 0 {
			p.firstShown = now
		}
		p.shown++
		p.lastShown = now
	}
	if !p.presentNext {
		return
	}
	p.presentNext = false
	p.sync.wait(screen)
	t := time.Now()
	p.mu.Lock()
	if tr := p.current(); tr != nil && !tr.uploaded.IsZero() {
		tr.presented = t
	}
	p.mu.Unlock()
}

// layout is the game's own: the logical screen follows the frame budget's
// render scale, as in `reverie run`.
func (p *probe) layout() (int, int) {
	if p.game == nil {
		return p.renderW, p.renderH
	}
	return p.game.Layout(p.renderW, p.renderH)
}

// report averages the traces.
func (p *probe) report() (LatencyReport, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := LatencyReport{Events: len(p.traces)}
	if len(p.traces) == 0 {
		return r, errors.New("bench latency: no event was traced")
	}
	var sum Stages
	for _, tr := range p.traces {
		s := Stages{
			Capture:   ms(tr.analysisStart.Sub(tr.arrival)),
			Analysis:  ms(tr.analysisDone.Sub(tr.analysisStart)),
			Director:  ms(tr.directed.Sub(tr.analysisDone)),
			Generator: ms(tr.generated.Sub(tr.directed)),
			Upload:    ms(tr.uploaded.Sub(tr.generated)),
			Passes:    ms(tr.presented.Sub(tr.uploaded)),
		}
		sum.add(s, 1)
		total := ms(tr.presented.Sub(tr.arrival))
		r.MaxMs = max(r.MaxMs, total)
		r.Ms += total
		r.EventMotion += float64(tr.motion)
	}
	k := 1 / float64(len(p.traces))
	r.Ms *= k
	r.EventMotion *= k
	r.StagesMs.add(sum, k)
	r.Share.add(sum, k/r.Ms)
	if p.shown > 1 {
		r.DisplayFrameMs = ms(p.lastShown.Sub(p.firstShown)) / float64(p.shown-1)
		r.DisplayFrames = r.Ms / r.DisplayFrameMs
	}
	st := p.runner.Stats()
	r.GeneratorFrameMs = st.GenMs
	r.BoundMs = 2*r.DisplayFrameMs + r.GeneratorFrameMs
	if st.FPS > 0 {
		r.GeneratorIntervalMs = 1000 / st.FPS
	}
	b := p.game.Budget()
	r.RenderScale, r.GeneratorShare = b.Scale, b.Share
	return r, nil
}

func (s *Stages) add(o Stages, k float64) {
	s.Capture += k * o.Capture
	s.Analysis += k * o.Analysis
	s.Director += k * o.Director
	s.Generator += k * o.Generator
	s.Upload += k * o.Upload
	s.Passes += k * o.Passes
}

// close stops the pipeline and frees everything.
func (p *probe) close() {
	if p.cancel != nil {
		p.cancel()
	}
	p.wg.Wait()
	if !p.started {
		p.src.Close() // Capture.Run closes it otherwise
	}
	if p.game != nil {
		p.game.Dispose()
	}
	p.runner.Close()
	p.an.Close()
}

// eventSource is the synthetic camera: a still frame of real footage at
// 30 fps, and a bright moving block whenever the probe asks for an event.
type eventSource struct {
	bg    gocv.Mat
	p     *probe
	n     uint64 // frames delivered, as Capture numbers them
	next  time.Time
	block int // frames of the current event left
	quiet int
	x     int
}

func (s *eventSource) Read(dst *gocv.Mat) error {
	period := time.Second / camFPS
	now := time.Now()
	if s.next.IsZero() || now.Sub(s.next) > period {
		s.next = now
	}
	s.next = s.next.Add(period)
	time.Sleep(time.Until(s.next))
	s.bg.CopyTo(dst)
	s.n++
	p := s.p
	p.mu.Lock()
	defer p.mu.Unlock()
	need := quietLen
	if len(p.traces) == 0 {
		need = firstQuiet
	}
	switch {
	case s.block > 0:
		s.block--
		s.x += blockStep
	case s.quiet >= need && len(p.traces) < p.events && p.current() == nil && p.settled.Load():
		s.block, s.quiet = eventLen-1, 0
		s.x = 60 + 90*(len(p.traces)%4)
		defer func() { p.traces = append(p.traces, trace{seq: s.n, arrival: time.Now()}) }()
	default:
		s.quiet++
		return nil
	}
	// Half white, half black: the block moves without brightening the whole
	// frame, which the analysis would take for a change of the room's light.
	y := 180
	gocv.Rectangle(dst, image.Rect(s.x, y, s.x+blockSide/2, y+blockSide), color.RGBA{255, 255, 255, 0}, -1)
	gocv.Rectangle(dst, image.Rect(s.x+blockSide/2, y, s.x+blockSide, y+blockSide), color.RGBA{0, 0, 0, 0}, -1)
	return nil
}

func (s *eventSource) Name() string { return "bench synthetic camera" }
func (s *eventSource) FPS() float64 { return camFPS }

// Paced: Read waits for the camera's next frame time itself, as a camera does.
func (s *eventSource) Paced() bool  { return true }
func (s *eventSource) Close() error { return s.bg.Close() }

package dream

import (
	"fmt"
	"sync"
	"time"

	"reverie/gen"
	"reverie/internal/field"
)

// Config is scene.dream in config.yaml: the deepdream pass's network and
// where it runs. Changing it rebuilds the dream (no restart).
type Config struct {
	Network       string `yaml:"network"`         // posenet, or a manifest file
	Width         int    `yaml:"width"`           // the dream's size
	Height        int    `yaml:"height"`          //
	StepsPerFrame int    `yaml:"steps_per_frame"` // offline render: steps per output frame
	MaxSteps      int    `yaml:"max_steps"`       // live: steps on one picture before waiting for the next
	MaxStepMs     int    `yaml:"max_step_ms"`     // live: slower steps than this turn the dream off; 0 never
	Threads       int    `yaml:"threads"`         // ONNX Runtime intra-op threads, 0 = its choice
	Provider      string `yaml:"provider"`        // cpu | cuda | …, as generator.provider
	Seed          uint64 `yaml:"seed"`            // the jitter's seed
}

// DefaultConfig is scene.dream's defaults, the same as config.yaml's.
func DefaultConfig() Config {
	return Config{Network: "posenet", Width: 256, Height: 144, StepsPerFrame: 2, MaxSteps: 4, MaxStepMs: 400, Provider: "cpu", Seed: 1}
}

// Validate checks the values.
func (c *Config) Validate() error {
	bad := func(key, msg string, v any) error { return &field.Error{Key: key, Msg: fmt.Sprintf("%v: %s", v, msg)} }
	switch {
	case c.Network == "":
		return bad("network", "expected posenet or the path of a dream manifest (.yaml)", `""`)
	case c.Width < 32 || c.Width > 2048:
		return bad("width", "expected 32..2048", c.Width)
	case c.Height < 32 || c.Height > 2048:
		return bad("height", "expected 32..2048", c.Height)
	case c.StepsPerFrame < 1 || c.StepsPerFrame > 64:
		return bad("steps_per_frame", "expected 1..64", c.StepsPerFrame)
	case c.MaxSteps < 1 || c.MaxSteps > 64:
		return bad("max_steps", "expected 1..64", c.MaxSteps)
	case c.MaxStepMs < 0 || c.MaxStepMs > 60000:
		return bad("max_step_ms", "expected 0 (never turn off)..60000", c.MaxStepMs)
	case c.Threads < 0 || c.Threads > 256:
		return bad("threads", "expected 0 (ONNX Runtime's choice)..256", c.Threads)
	}
	ok := false
	for _, p := range gen.Providers {
		ok = ok || p == c.Provider
	}
	if !ok {
		return bad("provider", fmt.Sprintf("expected one of %v", gen.Providers), c.Provider)
	}
	return nil
}

// Live runs an Engine for the display: on its own goroutine, or in lockstep
// for offline rendering. The display hands it the newest feedback picture
// and takes back the newest residual; it never waits for a step. Buffers
// change hands by swapping slices, so nothing is copied under the lock and
// nothing is allocated per step.
type Live struct {
	W, H int

	mu       sync.Mutex
	wake     chan struct{}
	eng      *Engine
	err      error // loading or stepping failed: the dream is off
	closed   bool
	sync     bool
	steps    int           // lockstep: steps per picture
	maxSteps int           // live: steps on one picture at most
	maxStep  time.Duration // live: the mean step time past which the dream turns off

	spare   []byte // the display fills this, then Submit swaps it in
	pending []byte // submitted, not yet begun
	params  Params
	seq     uint64 // of the newest submitted picture

	out    []byte // the newest residual
	outSeq uint64 // the picture it belongs to
	taken  uint64 // the newest picture whose residual the display took

	// Figures for the overlay and /metrics, under mu.
	stepCount uint64
	stepTime  time.Duration
}

// Start loads the configured network and begins dreaming. Live, loading
// runs on the dream's goroutine, so the display never waits for it; in
// lockstep it runs now. A failure is reported by Err and the dream stays off.
func Start(c Config, lockstep bool) *Live {
	l := &Live{W: c.Width, H: c.Height, wake: make(chan struct{}, 1), sync: lockstep, steps: c.StepsPerFrame, maxSteps: c.MaxSteps,
		maxStep: time.Duration(c.MaxStepMs) * time.Millisecond}
	load := func() {
		spec, err := Load(c.Network)
		var eng *Engine
		if err == nil {
			eng, err = NewEngine(spec, c.Width, c.Height, gen.SessionConfig{Provider: c.Provider, Threads: c.Threads}, c.Seed)
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		if err != nil {
			l.err = err
			return
		}
		l.eng = eng
		l.W, l.H = eng.W, eng.H
		n := 4 * eng.W * eng.H
		l.spare, l.pending, l.out = make([]byte, n), make([]byte, n), make([]byte, n)
	}
	if lockstep {
		load()
		return l
	}
	go func() {
		load()
		l.run()
	}()
	return l
}

// Err is why the dream is off, or nil.
func (l *Live) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// Ready reports whether the dream wants a new picture: it is loaded and has
// none waiting. Reading the picture back costs the display a GPU sync, so it
// asks first.
func (l *Live) Ready() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.eng != nil && l.err == nil && !l.closed && (l.sync || l.seq == 0 || l.outSeq == l.seq && l.taken >= l.seq)
}

// Size is the dream's picture size.
func (l *Live) Size() (int, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.W, l.H
}

// InputBuffer is where the display writes the next picture (W×H RGBA)
// before calling Submit. Only the display goroutine uses it.
func (l *Live) InputBuffer() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.spare
}

// Submit hands over the picture written into InputBuffer, with the
// parameters to dream it with. In lockstep it dreams it now.
func (l *Live) Submit(p Params) error {
	l.mu.Lock()
	if l.eng == nil || l.err != nil || l.closed {
		l.mu.Unlock()
		return nil
	}
	l.spare, l.pending = l.pending, l.spare
	l.params = p
	l.seq++
	l.mu.Unlock()
	if !l.sync {
		select {
		case l.wake <- struct{}{}:
		default:
		}
		return nil
	}
	// Lockstep: the display goroutine owns the engine.
	if err := l.eng.Begin(l.pending); err != nil {
		return l.fail(err)
	}
	for i := 0; i < l.steps; i++ {
		if err := l.step(p); err != nil {
			return l.fail(err)
		}
	}
	l.eng.Residual(l.out)
	l.outSeq = l.seq
	return nil
}

// slowAfter is how many steps the live dream times before judging whether
// this machine can afford it; the first few pay for building sessions.
const slowAfter = 8

func (l *Live) step(p Params) error {
	start := time.Now()
	err := l.eng.Step(p)
	d := time.Since(start)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stepCount++
	if l.stepCount > 2 { // the first steps build the octaves' sessions
		l.stepTime += d
	}
	if err == nil && !l.sync && l.maxStep > 0 && l.stepCount == slowAfter {
		if mean := l.stepTime / (slowAfter - 2); mean > l.maxStep {
			err = fmt.Errorf("a dream step takes %d ms on this machine, over scene.dream.max_step_ms (%d): the dream is off; a smaller scene.dream.width and height, or a shallower layer, make it cheaper",
				mean.Milliseconds(), l.maxStep.Milliseconds())
		}
	}
	return err
}

func (l *Live) fail(err error) error {
	l.mu.Lock()
	l.err = err
	l.mu.Unlock()
	return err
}

// Take swaps buf for the newest residual (W×H RGBA, ResidualGain-encoded)
// when there is one the display has not taken, and returns it.
func (l *Live) Take(buf []byte) ([]byte, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.outSeq == 0 || l.outSeq <= l.taken || len(buf) != len(l.out) {
		return buf, false
	}
	res := l.out
	l.out = buf
	l.taken = l.outSeq
	if !l.sync {
		select {
		case l.wake <- struct{}{}:
		default:
		}
	}
	return res, true
}

// Stats are the steps taken so far and their mean time.
func (l *Live) Stats() (steps uint64, mean time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stepCount <= 2 {
		return l.stepCount, 0
	}
	return l.stepCount, l.stepTime / time.Duration(l.stepCount-2)
}

// run is the dream's goroutine: it begins each new picture, steps on it
// until the display takes the residual (or max_steps), publishing the
// residual after every step.
func (l *Live) run() {
	work := []byte(nil)
	var cur []byte
	var curSeq uint64
	stepsOn := 0
	for {
		l.mu.Lock()
		for !l.closed && l.err == nil && !(l.seq > curSeq || (curSeq > 0 && l.taken < curSeq && stepsOn < l.maxSteps)) {
			l.mu.Unlock()
			<-l.wake
			l.mu.Lock()
		}
		if l.closed || l.err != nil {
			eng := l.eng
			l.eng = nil
			l.mu.Unlock()
			if eng != nil {
				eng.Close()
			}
			return
		}
		begin := l.seq > curSeq
		if begin {
			if cur == nil {
				cur = make([]byte, len(l.pending))
				work = make([]byte, len(l.pending))
			}
			cur, l.pending = l.pending, cur
			curSeq = l.seq
			stepsOn = 0
		}
		p := l.params
		l.mu.Unlock()

		if begin {
			if err := l.eng.Begin(cur); err != nil {
				l.fail(err)
				continue
			}
		}
		if err := l.step(p); err != nil {
			l.fail(err)
			continue
		}
		stepsOn++
		l.eng.Residual(work)
		l.mu.Lock()
		work, l.out = l.out, work
		l.outSeq = curSeq
		l.mu.Unlock()
	}
}

// Close stops the dream and frees its sessions (live: on its goroutine).
func (l *Live) Close() {
	l.mu.Lock()
	l.closed = true
	sync := l.sync
	eng := l.eng
	if sync {
		l.eng = nil
	}
	l.mu.Unlock()
	if sync && eng != nil {
		eng.Close()
		return
	}
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

package dream

import (
	"fmt"
	"sync"
	"time"

	"reverie/gen"
	"reverie/internal/field"
	"reverie/internal/mailbox"
	"reverie/internal/pace"
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
	return Config{Network: "posenet", Width: 256, Height: 144, StepsPerFrame: 2, MaxSteps: 4, MaxStepMs: 400, Threads: 1, Provider: "cpu", Seed: 1}
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
// for offline rendering. Pictures go to the dream and residuals come back
// through two latest-value mailboxes: the display never waits for a step,
// and a stale picture or residual is dropped, never queued.
type Live struct {
	W, H int

	mu     sync.Mutex // guards the fields below it up to the mailboxes
	eng    *Engine
	err    error // loading or stepping failed: the dream is off
	closed bool
	// Figures for the overlay and /metrics.
	stepCount uint64
	stepTime  time.Duration

	sync     bool
	steps    int           // lockstep: steps per picture
	maxSteps int           // live: steps on one picture at most
	maxStep  time.Duration // live: the mean step time past which the dream turns off
	done     chan struct{}

	share pace.Share  // of its core the live dream may use (SetShare)
	idle  *time.Timer // rest's, used by the dream's goroutine alone

	pictures  *mailbox.Box[picture]  // display → dream
	residuals *mailbox.Box[residual] // dream → display

	// The display's side, used by its goroutine alone.
	submitted uint64 // the newest picture it handed over
	applied   uint64 // the newest picture whose residual it took
	resSeq    uint64 // the newest residual it took
}

// picture is the newest feedback picture and how to dream it.
type picture struct {
	pix    []byte
	params Params
}

// residual is the dreamed change of one picture (numbered as the pictures
// box numbers it), ResidualGain-encoded.
type residual struct {
	pix []byte
	of  uint64
}

// Start loads the configured network and begins dreaming. Live, loading
// runs on the dream's goroutine, so the display never waits for it; in
// lockstep it runs now. A failure is reported by Err and the dream stays off.
func Start(c Config, lockstep bool) *Live {
	l := &Live{W: c.Width, H: c.Height, sync: lockstep, steps: c.StepsPerFrame, maxSteps: c.MaxSteps,
		maxStep: time.Duration(c.MaxStepMs) * time.Millisecond, done: make(chan struct{})}
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
		n := 4 * eng.W * eng.H
		l.pictures = mailbox.New(mailbox.Funcs[picture]{
			New:  func() picture { return picture{pix: make([]byte, n)} },
			Copy: func(dst, src *picture) { copy(dst.pix, src.pix); dst.params = src.params },
		})
		l.residuals = mailbox.New(mailbox.Funcs[residual]{
			New:  func() residual { return residual{pix: make([]byte, n)} },
			Copy: func(dst, src *residual) { copy(dst.pix, src.pix); dst.of = src.of },
		})
		l.eng, l.W, l.H = eng, eng.W, eng.H
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

func (l *Live) running() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.eng != nil && l.err == nil && !l.closed
}

// Ready reports whether the dream wants a new picture: it is running and
// the display has taken the residual of the last picture it handed over.
// Reading the picture back costs the display a GPU sync, so it asks first.
func (l *Live) Ready() bool {
	return l.running() && (l.sync || l.submitted == l.applied)
}

// Size is the dream's picture size.
func (l *Live) Size() (int, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.W, l.H
}

// InputBuffer is where the display writes the next picture (W×H RGBA)
// before calling Submit; nil while the dream is not running.
func (l *Live) InputBuffer() []byte {
	if !l.running() {
		return nil
	}
	return l.pictures.Back().pix
}

// Submit hands over the picture written into InputBuffer, with the
// parameters to dream it with. In lockstep it dreams it now.
func (l *Live) Submit(p Params) error {
	if !l.running() {
		return nil
	}
	l.pictures.Back().params = p
	l.submitted = l.pictures.Publish()
	if !l.sync {
		return nil
	}
	// Lockstep: the display goroutine owns the engine.
	pic := l.pictures.Newest()
	if err := l.eng.Begin(pic.pix); err != nil {
		return l.fail(err)
	}
	for i := 0; i < l.steps; i++ {
		if err := l.step(p); err != nil {
			return l.fail(err)
		}
	}
	l.publish(l.submitted)
	return nil
}

func (l *Live) publish(of uint64) {
	r := l.residuals.Back()
	l.eng.Residual(r.pix)
	r.of = of
	l.residuals.Publish()
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

// Take copies the newest residual into buf (W×H RGBA) when it belongs to a
// picture newer than the last one the display took one for: each picture's
// dream is added once.
func (l *Live) Take(buf []byte) bool {
	if !l.running() || len(buf) != 4*l.W*l.H {
		return false
	}
	var r residual
	r.pix = buf
	seq, ok := l.residuals.Latest(&r, l.resSeq)
	if !ok {
		return false
	}
	l.resSeq = seq
	if r.of <= l.applied {
		return false
	}
	l.applied = r.of
	return true
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

// run is the dream's goroutine: it begins each new picture and steps on it,
// publishing the residual after every step, until a newer picture arrives
// or it has taken max_steps.
func (l *Live) run() {
	defer func() {
		l.mu.Lock()
		eng := l.eng
		l.eng = nil
		l.mu.Unlock()
		if eng != nil {
			eng.Close()
		}
	}()
	if !l.running() {
		return
	}
	cur := picture{pix: make([]byte, 4*l.W*l.H)}
	var since uint64
	stepsOn := l.maxSteps // nothing to step on yet
	for l.running() {
		seq, ok := l.pictures.Latest(&cur, since)
		if ok {
			since = seq
			if err := l.eng.Begin(cur.pix); err != nil {
				l.fail(err)
				return
			}
			stepsOn = 0
		} else if stepsOn >= l.maxSteps {
			select {
			case <-l.pictures.Ready():
			case <-l.done:
			}
			continue
		}
		start := time.Now()
		if err := l.step(cur.params); err != nil {
			l.fail(err)
			return
		}
		stepsOn++
		l.publish(since)
		l.rest(time.Since(start))
	}
}

// SetShare sets the share of its core the live dream may use, (0, 1]: after
// a step that took d it rests d·(1/share − 1), so the frame budget can leave
// the display room. 1 (the default) never rests. Safe from any goroutine.
func (l *Live) SetShare(share float64) { l.share.Set(share) }

// rest waits out the share's idle time after a step that took d, or until
// Close.
func (l *Live) rest(d time.Duration) {
	wait := l.share.Gap(d) - d
	if wait <= 0 {
		return
	}
	if l.idle == nil {
		l.idle = time.NewTimer(wait)
	} else {
		l.idle.Reset(wait) // Go 1.23 timers: Reset after Stop needs no drain
	}
	select {
	case <-l.idle.C:
	case <-l.done:
		l.idle.Stop()
	}
}

// Close stops the dream and frees its sessions (live: on its goroutine).
func (l *Live) Close() {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.closed = true
	eng := l.eng
	if l.sync {
		l.eng = nil
	}
	l.mu.Unlock()
	close(l.done)
	if l.sync && eng != nil {
		eng.Close()
	}
}

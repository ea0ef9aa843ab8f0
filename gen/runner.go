package gen

import (
	"context"
	"sync"
	"time"
)

// Frame is one generated image, RGBA, row-major.
type Frame struct {
	Pix    []byte
	Width  int
	Height int
	Seq    uint64        // 1 for the first frame, then counting up
	GenDur time.Duration // time the model took for this frame
	At     time.Time     // when it was published
}

// frames is a triple buffer: the runner fills back, publishes it by swapping
// with mid, and the display takes mid by swapping it with front. Neither side
// ever waits for the other, and stale frames are overwritten, never queued.
type frames struct {
	mu               sync.Mutex
	back, mid, front *Frame
	fresh            bool
}

func newFrames(w, h int) *frames {
	mk := func() *Frame { return &Frame{Pix: make([]byte, 4*w*h), Width: w, Height: h} }
	return &frames{back: mk(), mid: mk(), front: mk()}
}

func (f *frames) publish() {
	f.mu.Lock()
	f.back, f.mid = f.mid, f.back
	f.fresh = true
	f.mu.Unlock()
}

func (f *frames) take() (*Frame, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.fresh {
		return f.front, false
	}
	f.front, f.mid = f.mid, f.front
	f.fresh = false
	return f.front, true
}

// Stats are the runner's measured rates.
type Stats struct {
	Frames  uint64
	GenMs   float64 // exponential moving average of model time per frame
	FPS     float64 // frames published per second, averaged the same way
	LastErr string
	Model   string
}

// Runner owns one model and produces frames from the newest latent in its own
// goroutine. The scene sets latents and takes frames; neither call blocks.
type Runner struct {
	mu     sync.Mutex
	model  *Model
	frames *frames
	latent []float32 // newest latent from the scene
	work   []float32 // the runner goroutine's copy
	dirty  bool
	wake   chan struct{}
	seq    uint64
	stats  Stats
	last   time.Time
	onErr  func(error)
}

// NewRunner takes ownership of model.
func NewRunner(model *Model) *Runner {
	d := model.Manifest.Latent.Dim
	return &Runner{
		model:  model,
		frames: newFrames(model.Width(), model.Height()),
		latent: make([]float32, d),
		work:   make([]float32, d),
		wake:   make(chan struct{}, 1),
		stats:  Stats{Model: model.Manifest.Source()},
	}
}

// Model is the model the runner is using.
func (r *Runner) Model() *Model {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.model
}

// OnError sets a function called with each failed frame's error, from the
// runner's goroutine. Use it for logging at a rate the caller chooses.
func (r *Runner) OnError(f func(error)) { r.onErr = f }

// SetLatent hands the runner a new latent. Values are copied; a latent the
// runner has not started on yet is replaced.
func (r *Runner) SetLatent(z []float32) {
	r.mu.Lock()
	copy(r.latent, z)
	r.dirty = true
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Latest returns the newest frame and whether it is new since the last call.
// Only one goroutine (the display) may call it; the frame stays valid until
// its next call.
func (r *Runner) Latest() (*Frame, bool) { return r.frames.take() }

// Stats returns a copy of the runner's measurements.
func (r *Runner) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

// Run produces frames until ctx ends, each time a new latent has arrived.
func (r *Runner) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.wake:
		}
		r.mu.Lock()
		if !r.dirty {
			r.mu.Unlock()
			continue
		}
		copy(r.work, r.latent)
		r.dirty = false
		r.mu.Unlock()
		if _, err := r.Step(r.work); err != nil && r.onErr != nil {
			r.onErr(err)
		}
	}
}

// Step generates one frame from z synchronously and publishes it. Offline
// rendering calls it directly; Run calls it from the runner's goroutine.
func (r *Runner) Step(z []float32) (*Frame, error) {
	back := r.frames.back
	start := time.Now()
	err := r.model.Run(z, back.Pix)
	dur := time.Since(start)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.stats.LastErr = err.Error()
		return nil, err
	}
	r.seq++
	back.Seq, back.GenDur, back.At = r.seq, dur, start.Add(dur)
	r.stats.Frames = r.seq
	ms := float64(dur.Microseconds()) / 1000
	if r.stats.GenMs == 0 {
		r.stats.GenMs = ms
	} else {
		r.stats.GenMs += 0.1 * (ms - r.stats.GenMs)
	}
	if !r.last.IsZero() {
		if dt := back.At.Sub(r.last).Seconds(); dt > 0 {
			if r.stats.FPS == 0 {
				r.stats.FPS = 1 / dt
			} else {
				r.stats.FPS += 0.1 * (1/dt - r.stats.FPS)
			}
		}
	}
	r.last = back.At
	r.frames.publish()
	return back, nil
}

// Close destroys the model's session.
func (r *Runner) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.model != nil {
		r.model.Close()
		r.model = nil
	}
}

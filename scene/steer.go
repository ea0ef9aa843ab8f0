package scene

import (
	"context"
	"time"

	"reverie/audio"
	"reverie/gen"
	"reverie/vision"
)

// Steering moves the latent off the display loop. The director used to
// step in the display's tick, so an answer to the audience waited for the
// next tick before the generator even heard of it; on a slow display that
// was a whole frame. Now the director steps as soon as the camera's
// features arrive, and the latent goes to the runner at once.
//
// The game loop still owns the director's settings (live control, presets,
// model swaps, reloads); Game.steer guards the director, its settings and
// the sleep flag, so the two goroutines never see each other half done.

// Steer steps the director by dt seconds under the camera's features f and
// the sound's a (nil when there is none) and copies its latent into dst,
// grown as needed. startled says the step saw the audience do something
// new (director.Director.Startled). ok is false, and nothing steps, while
// the scene sleeps or has no director. Any goroutine may call it, one at a
// time: live, the Steering loop; offline, the game loop itself. It
// allocates nothing once dst holds a latent.
func (g *Game) Steer(f *vision.Features, a *audio.Features, dt float64, dst []float32) (z []float32, startled, ok bool) {
	g.steer.Lock()
	defer g.steer.Unlock()
	if g.director == nil || g.steerAsleep {
		return dst[:0], false, false
	}
	z = append(dst[:0], g.director.Step(f, a, dt)...)
	return z, g.director.Startled(), true
}

// Sight is a camera's analysis as the steering loop sees it:
// vision.Watcher is one.
type Sight interface {
	// Ready receives a token when new features are published.
	Ready() <-chan struct{}
	// Latest copies the newest features into dst unless they are the ones
	// numbered since; ok is false, and dst untouched, when nothing is new.
	Latest(dst *vision.Features, since uint64) (seq uint64, ok bool)
}

// SteerPeriod is the longest the director waits between steps: with no
// camera, a camera reconnecting or one slower than 20 fps, it steps on
// this period, so the idle walk and the sound still move the latent. It is
// longer than a 30 fps camera's frame, so such a camera alone paces the
// steps (a shorter period would step twice per frame, and the generator
// would make frames nobody asked for).
const SteerPeriod = 50 * time.Millisecond

// Steering is the loop that steps a game's director whenever the camera's
// features arrive, and at least every SteerPeriod.
type Steering struct {
	Game *Game
	// Camera is the current camera's analysis, nil while none runs. A new
	// one (a restarted camera) numbers its features afresh.
	Camera func() Sight
	// Sound copies the newest sound features, as Sight.Latest does, and
	// answers 0 while the input hears nothing (stale features are not
	// used); nil when the piece does not listen.
	Sound func(dst *audio.Features, since uint64) (seq uint64, ok bool)
	// Latent takes each new latent: the runner's SetLatent.
	Latent func(z []float32)
	// Hurry, when set, is called after a latent that answers something new
	// (an arrival, motion after calm): the runner's Hurry, so the answer
	// does not wait for the generator's slot under the frame budget.
	Hurry func()
	// Clock is the time the steps are measured in; nil is the wall clock.
	Clock gen.Clock
	// Steered, when set, is told the number of the features each handed
	// latent was made from (0 for none): the bench's latency probe.
	Steered func(seq uint64)

	sight   Sight
	feats   vision.Features
	seq     uint64
	heard   audio.Features
	sndSeq  uint64
	z       []float32
	last    time.Time
	stepped bool
}

// Run steps the director until ctx ends. It allocates nothing per step.
func (s *Steering) Run(ctx context.Context) {
	clock := s.Clock
	if clock == nil {
		clock = gen.WallClock{}
	}
	timer := clock.NewTimer()
	defer timer.Stop()
	for {
		sight := s.current()
		var ready <-chan struct{}
		if sight != nil {
			ready = sight.Ready()
		}
		timer.Reset(SteerPeriod)
		select {
		case <-ctx.Done():
			return
		case <-ready:
			timer.Stop()
		case <-timer.C():
		}
		s.step(clock.Now())
	}
}

// current is the camera's analysis now; a new one restarts the numbering.
func (s *Steering) current() Sight {
	var sight Sight
	if s.Camera != nil {
		sight = s.Camera()
	}
	if sight != s.sight {
		s.sight, s.seq = sight, 0
	}
	return sight
}

// step takes the newest features and sound and moves the latent. The
// features stay the last ones seen until new ones come, as on screen.
func (s *Steering) step(now time.Time) {
	dt := now.Sub(s.last).Seconds()
	if !s.stepped || dt <= 0 || dt > 0.25 {
		dt = SteerPeriod.Seconds() // the first step, or a stall: never jump the spring
	}
	s.last, s.stepped = now, true
	var f *vision.Features
	if sight := s.current(); sight != nil {
		s.seq, _ = sight.Latest(&s.feats, s.seq) // the same number when nothing is new
		if s.seq > 0 {
			f = &s.feats
		}
	}
	var a *audio.Features
	if s.Sound != nil {
		s.sndSeq, _ = s.Sound(&s.heard, s.sndSeq)
		if s.sndSeq > 0 {
			a = &s.heard
		}
	}
	z, startled, ok := s.Game.Steer(f, a, dt, s.z)
	s.z = z
	if !ok {
		return
	}
	s.Latent(z)
	if startled && s.Hurry != nil {
		s.Hurry()
	}
	if s.Steered != nil {
		s.Steered(s.seq)
	}
}

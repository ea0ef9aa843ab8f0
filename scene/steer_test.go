package scene

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"reverie/director"
	"reverie/gen"
	"reverie/vision"
)

// fakeSight is a camera's analysis the test publishes features into.
type fakeSight struct {
	ready chan struct{}
	mu    sync.Mutex
	f     vision.Features
	seq   uint64
}

func newFakeSight() *fakeSight { return &fakeSight{ready: make(chan struct{}, 1)} }

func (s *fakeSight) publish(f *vision.Features) {
	s.mu.Lock()
	s.f.CopyFrom(f)
	s.seq++
	s.mu.Unlock()
	select {
	case s.ready <- struct{}{}:
	default:
	}
}

func (s *fakeSight) Ready() <-chan struct{} { return s.ready }

func (s *fakeSight) Latest(dst *vision.Features, since uint64) (uint64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seq == 0 || s.seq == since {
		return since, false
	}
	dst.CopyFrom(&s.f)
	return s.seq, true
}

// handClock is a gen.Clock the test moves by hand. Its timer fires only
// when the test says, and tells the test each time the loop re-arms it:
// the loop is then waiting, done with everything before.
type handClock struct {
	mu    sync.Mutex
	now   time.Time
	fire  chan time.Time
	armed chan struct{}
}

func newHandClock() *handClock {
	return &handClock{now: time.Unix(1000, 0), fire: make(chan time.Time), armed: make(chan struct{}, 100)}
}

func (c *handClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *handClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func (c *handClock) NewTimer() gen.Timer { return handTimer{c} }

type handTimer struct{ c *handClock }

func (t handTimer) C() <-chan time.Time { return t.c.fire }
func (t handTimer) Reset(time.Duration) { t.c.armed <- struct{}{} }
func (t handTimer) Stop()               {}

// waitArmed waits until the steering loop waits again, or fails the test.
func (c *handClock) waitArmed(t *testing.T, what string) {
	t.Helper()
	select {
	case <-c.armed:
	case <-time.After(20 * time.Second): // a hang guard, not a rate
		t.Fatalf("the steering loop did not come back after %s", what)
	}
}

// startSteering builds a game with a 16-value director on the loop and runs
// s on it, its camera a fakeSight; stop ends the loop and frees the game.
// It returns a nil game (the test already failed) when none can be built.
func startSteering(t *testing.T, s *Steering) (g *Game, sight *fakeSight, stop func()) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.RenderW, cfg.RenderH = 32, 18
	if g = newLoopGame(t, cfg, 8, 8, director.New(cfg.Director, 16), nopDriver{}); g == nil {
		return nil, nil, nil
	}
	sight = newFakeSight()
	s.Game, s.Camera = g, func() Sight { return sight }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	return g, sight, func() {
		cancel()
		<-done
		onLoop(g.Dispose)
	}
}

// The director steps as soon as the camera's features arrive, with no
// display tick at all: the latent reaches the runner from the steering
// goroutine, made from those features over the time the clock says passed.
// The game loop's controls (latent offsets, sleep) reach the director it
// steps.
func TestSteeringAnswersWhenFeaturesArrive(t *testing.T) {
	type handed struct {
		z   []float32
		seq uint64
	}
	got := make(chan handed, 16)
	var last []float32
	clock := newHandClock()
	var hurries atomic.Int32
	s := &Steering{Clock: clock,
		Latent:  func(z []float32) { last = slices.Clone(z) },
		Hurry:   func() { hurries.Add(1) },
		Steered: func(seq uint64) { got <- handed{last, seq} }}
	g, sight, stop := startSteering(t, s)
	if g == nil {
		return
	}
	defer stop()
	twin := director.New(DefaultConfig().Director, 16) // stepped by hand as the steering should
	clock.waitArmed(t, "starting")

	expect := func(what string, seq uint64, want []float32) {
		t.Helper()
		select {
		case h := <-got:
			if h.seq != seq {
				t.Errorf("%s: the latent was made from features %d, want %d", what, h.seq, seq)
			}
			if !slices.Equal(h.z, want) {
				t.Errorf("%s: handed latent\n%v\nwant the director's\n%v", what, h.z, want)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("%s: no latent was handed to the runner", what)
		}
		clock.waitArmed(t, what)
	}

	f := vision.Features{Motion: 0.8, Presence: true, Level: 1, Warm: true, Centroid: [2]float32{0.2, 0.7}, Flow: [2]float32{0.5, -0.3}}
	sight.publish(&f)
	expect("the first features", 1, twin.Step(&f, nil, SteerPeriod.Seconds()))
	if n := hurries.Load(); n != 1 {
		t.Errorf("an arrival hurried the runner %d times, want once", n)
	}

	clock.advance(50 * time.Millisecond)
	f2 := f
	f2.Centroid = [2]float32{0.9, 0.1}
	sight.publish(&f2)
	expect("features 50 ms later", 2, twin.Step(&f2, nil, 0.05))
	if n := hurries.Load(); n != 1 {
		t.Errorf("someone who stays hurried the runner: %d hurries, want still 1", n)
	}

	// No features for a long while: the period's timer steps with the last
	// features seen, and the stall does not jump the spring.
	clock.advance(10 * time.Second)
	clock.fire <- clock.Now()
	expect("the period with no new features", 2, twin.Step(&f2, nil, SteerPeriod.Seconds()))

	// A latent offset set by live control reaches the director at the
	// game loop's next Update.
	if err := g.Controls().SetLatent(0, 3); err != nil {
		t.Fatal(err)
	}
	onLoop(func() { g.Update() })
	twin.SetOffset(0, 3)
	clock.advance(40 * time.Millisecond)
	sight.publish(&f2)
	expect("after a latent offset", 3, twin.Step(&f2, nil, 0.04))

	// Asleep, nothing steps and nothing is handed over.
	g.Controls().SetSleep(true)
	onLoop(func() { g.Update() })
	clock.advance(40 * time.Millisecond)
	sight.publish(&f)
	clock.waitArmed(t, "features while asleep")
	select {
	case h := <-got:
		t.Errorf("asleep, a latent was handed over (features %d)", h.seq)
	default:
	}
	g.Controls().SetSleep(false)
	onLoop(func() { g.Update() })
	clock.advance(40 * time.Millisecond)
	sight.publish(&f2)
	// Time asleep does not count: the step spans the 40 ms since the
	// features that came while asleep.
	expect("awake again", 5, twin.Step(&f2, nil, 0.04))
}

// Live control, presets and model swaps change the director on the game
// loop while the steering goroutine steps it (run with -race to see the
// guard): every step still hands over a latent of the model's size, and the
// settings end where live control put them.
func TestSteeringAlongsideTheGameLoop(t *testing.T) {
	var mu sync.Mutex
	var sizes []int
	g, sight, stopSteering := startSteering(t, &Steering{
		Latent: func(z []float32) { mu.Lock(); sizes = append(sizes, len(z)); mu.Unlock() }})
	if g == nil {
		return
	}
	stop := make(chan struct{})
	fed := make(chan struct{})
	go func() { // the camera, as fast as it can
		defer close(fed)
		f := vision.Features{Motion: 0.5, Presence: true, Level: 1, Warm: true}
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			f.Centroid[0] = float32(i%10) / 10
			sight.publish(&f)
			time.Sleep(time.Millisecond)
		}
	}()
	c := g.Controls()
	man := &gen.Manifest{Latent: gen.LatentSpec{Dim: 16, Distribution: "normal"}}
	for i := range 60 {
		if err := c.Set("director.gain", float64(i%10)); err != nil {
			t.Fatal(err)
		}
		if err := c.SetLatent(i%16, float64(i%5)); err != nil {
			t.Fatal(err)
		}
		if i%20 == 0 {
			if err := c.ApplyPreset(c.Presets()[i/20%len(c.Presets())]); err != nil {
				t.Fatal(err)
			}
			if err := c.SetModel(man); err != nil {
				t.Fatal(err)
			}
		}
		onLoop(func() { g.Update() })
		time.Sleep(2 * time.Millisecond)
	}
	if err := c.Set("director.gain", 7); err != nil {
		t.Fatal(err)
	}
	onLoop(func() { g.Update() })
	close(stop)
	<-fed
	stopSteering()
	mu.Lock()
	defer mu.Unlock()
	if len(sizes) == 0 {
		t.Fatal("the steering handed over no latent")
	}
	for _, n := range sizes {
		if n != 16 {
			t.Fatalf("a latent of %d values was handed over, want 16", n)
		}
	}
	var gain float64
	onLoop(func() { gain = g.director.Settings().Gain })
	if gain != 7 {
		t.Errorf("director.gain is %v after live control set 7", gain)
	}
}

// A step of the steering (features taken, the director stepped, the latent
// handed over) allocates nothing.
func TestSteeringStepAllocatesNothing(t *testing.T) {
	cfg := DefaultConfig()
	cfg.RenderW, cfg.RenderH = 32, 18
	g := newLoopGame(t, cfg, 8, 8, director.New(cfg.Director, 16), nopDriver{})
	if g == nil {
		return
	}
	defer onLoop(g.Dispose)
	sight, clock := newFakeSight(), newHandClock()
	handed := 0
	s := &Steering{Game: g, Camera: func() Sight { return sight }, Clock: clock,
		Latent: func([]float32) { handed++ }}
	f := vision.Features{Motion: 0.3, Presence: true, Warm: true, Grid: make([]float32, 64), GridW: 8, GridH: 8}
	step := func() {
		f.Centroid[0] += 0.01
		sight.publish(&f)
		clock.advance(33 * time.Millisecond)
		s.step(clock.Now())
	}
	for range 3 {
		step()
	}
	if a := testing.AllocsPerRun(100, step); a != 0 {
		t.Errorf("%.1f allocations per steering step, want 0", a)
	}
	if handed != 104 {
		t.Errorf("%d latents handed over for 104 steps", handed)
	}
}

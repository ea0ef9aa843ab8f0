package gen

import (
	"bytes"
	"context"
	"errors"
	"math"
	"sync"
	"testing"
	"time"
)

func TestConfigMaxFPS(t *testing.T) {
	for _, ok := range []float64{0, 0.5, 15, MaxFPSLimit} {
		c := DefaultConfig()
		c.MaxFPS = ok
		if err := c.Validate(); err != nil {
			t.Errorf("max_fps %g refused: %v", ok, err)
		}
	}
	for _, bad := range []float64{-1, MaxFPSLimit + 1, math.NaN(), math.Inf(1)} {
		c := DefaultConfig()
		c.MaxFPS = bad
		var fe *FieldError
		if err := c.Validate(); !errors.As(err, &fe) || fe.FieldKey() != "max_fps" {
			t.Errorf("max_fps %g: got %v, want an error on max_fps", bad, err)
		}
	}
}

// runFor starts r.Run until the test ends.
func runFor(t *testing.T, r *Runner) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// virtualClock is a Clock that moves only when the test advances it, so a
// rate cap is checked by counting frames over virtual seconds: no test here
// depends on how fast or loaded the machine is.
type virtualClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*virtualTimer
}

type virtualTimer struct {
	c     *virtualClock
	ch    chan time.Time
	at    time.Time
	armed bool
}

func newVirtualClock() *virtualClock { return &virtualClock{now: time.Unix(1e9, 0)} }

func (c *virtualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *virtualClock) NewTimer() Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &virtualTimer{c: c, ch: make(chan time.Time, 1)}
	c.timers = append(c.timers, t)
	return t
}

func (t *virtualTimer) C() <-chan time.Time { return t.ch }

// Reset and Stop drop a firing not yet received, as time.Timer's do since
// Go 1.23.
func (t *virtualTimer) Reset(d time.Duration) {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	t.drain()
	t.at, t.armed = t.c.now.Add(d), true
}

func (t *virtualTimer) Stop() {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	t.drain()
	t.armed = false
}

func (t *virtualTimer) drain() {
	select {
	case <-t.ch:
	default:
	}
}

// advance moves the clock by d and fires the timers that come due.
func (c *virtualClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	for _, t := range c.timers {
		if t.armed && !t.at.After(c.now) {
			t.armed = false
			select {
			case t.ch <- c.now:
			default:
			}
		}
	}
}

// waiting says whether a timer is armed: the runner waits for its slot.
func (c *virtualClock) waiting() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range c.timers {
		if t.armed {
			return true
		}
	}
	return false
}

// untilWaiting waits (in real time, bounded) until the runner waits for
// a slot on the virtual clock.
func untilWaiting(t *testing.T, clk *virtualClock) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !clk.waiting() {
		if time.Now().After(deadline) {
			t.Fatal("the runner never waited for its slot")
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// framesOver counts the frames r makes over d of virtual time while a new
// latent arrives every 10 ms of it, as the display sets them.
func framesOver(t *testing.T, r *Runner, clk *virtualClock, d time.Duration) uint64 {
	t.Helper()
	z := make([]float32, r.Model().Manifest.Latent.Dim)
	n0 := r.Stats().Frames
	for step := time.Duration(0); step < d; step += 10 * time.Millisecond {
		z[0] = float32(step.Seconds())
		r.SetLatent(z)
		untilWaiting(t, clk)
		clk.advance(10 * time.Millisecond)
	}
	untilWaiting(t, clk) // the last slot's frame is done
	return r.Stats().Frames - n0
}

// With latents arriving every 10 ms, max_fps caps the frames made; without
// it every latent makes a frame at once; a new cap applies live; lifting a
// long cap wakes a runner waiting for its slot. Counted on a virtual clock.
func TestRunnerMaxFPS(t *testing.T) {
	r := newCPPNRunner(t, 64, 48)
	defer r.Close()
	clk := newVirtualClock()
	r.SetClock(clk)
	r.SetMaxFPS(10)
	runFor(t, r)
	z := make([]float32, r.Model().Manifest.Latent.Dim)
	r.SetLatent(z)
	waitFrames(t, r, 1, 5*time.Second) // the first frame starts at once

	// 1.5 virtual seconds at 10 a second: 15 slots, one either way for
	// where the window's edges fall on the slot grid.
	if n := framesOver(t, r, clk, 1500*time.Millisecond); n < 14 || n > 16 {
		t.Errorf("max_fps 10: %d frames in 1.5 s, want 15", n)
	}
	r.SetMaxFPS(4)
	if n := framesOver(t, r, clk, 1500*time.Millisecond); n < 5 || n > 7 {
		t.Errorf("max_fps changed live to 4: %d frames in 1.5 s, want 6", n)
	}
	if got := r.MaxFPS(); math.Abs(got-4) > 1e-6 {
		t.Errorf("MaxFPS() = %g after SetMaxFPS(4)", got)
	}

	// Uncapped, each latent makes a frame with no virtual time passing.
	r.SetMaxFPS(0)
	clk.advance(time.Second) // the slot under way
	n := r.Stats().Frames
	for i := 1; i <= 10; i++ {
		z[0] = float32(i)
		r.SetLatent(z)
		waitFrames(t, r, n+uint64(i), 5*time.Second)
	}

	// A long cap: after one frame the runner waits for a 10 s slot. Lifting
	// the cap wakes it with no virtual time passing.
	r.SetMaxFPS(0.1)
	r.SetLatent(z)
	untilWaiting(t, clk)
	clk.advance(9 * time.Second)
	n = r.Stats().Frames
	if !clk.waiting() {
		t.Errorf("max_fps 0.1: the runner stopped waiting 9 s into a 10 s slot")
	}
	r.SetMaxFPS(0)
	waitFrames(t, r, n+1, 5*time.Second)
}

// waitFrames waits until r has made n frames in all.
func waitFrames(t *testing.T, r *Runner, n uint64, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for r.Stats().Frames < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d frames after %v, wanted %d", r.Stats().Frames, within, n)
		}
		time.Sleep(200 * time.Microsecond)
	}
}

// Under a cap, the frame made at a slot is the newest latent's: latents set
// while the runner waits are dropped, not queued.
func TestRunnerMaxFPSTakesNewest(t *testing.T) {
	r := newCPPNRunner(t, 64, 48)
	defer r.Close()
	ref := newCPPNRunner(t, 64, 48) // same seed, same weights
	defer ref.Close()
	dim := r.Model().Manifest.Latent.Dim
	z := func(v float32) []float32 {
		out := make([]float32, dim)
		for i := range out {
			out[i] = v * float32(i%5-2)
		}
		return out
	}
	clk := newVirtualClock()
	r.SetClock(clk)
	r.SetMaxFPS(2)
	runFor(t, r)
	r.SetLatent(z(0.1))
	waitFrames(t, r, 1, 5*time.Second) // the first frame starts at once
	r.SetLatent(z(0.3))
	untilWaiting(t, clk)
	r.SetLatent(z(0.6))
	r.SetLatent(z(0.9)) // all within the 0.5 s slot
	clk.advance(499 * time.Millisecond)
	if n := r.Stats().Frames; n != 1 || !clk.waiting() {
		t.Fatalf("%d frames 1 ms before the slot (waiting %v), want 1", n, clk.waiting())
	}
	clk.advance(time.Millisecond)
	waitFrames(t, r, 2, 5*time.Second)
	untilWaiting(t, clk)
	clk.advance(700 * time.Millisecond) // a slot with no new latent makes nothing
	if n := r.Stats().Frames; n != 2 {
		t.Fatalf("%d frames from 4 latents set within one slot, want 2", n)
	}
	got, _ := r.Latest()
	want, err := ref.Step(z(0.9))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Pix, want.Pix) {
		older, _ := ref.Step(z(0.3))
		t.Errorf("the slot's frame is not the newest latent's (equals the oldest waiting one: %v)", bytes.Equal(got.Pix, older.Pix))
	}
}

// The Run loop allocates nothing per frame, capped or not, and neither
// does the display taking each frame.
func TestRunnerRunAllocs(t *testing.T) {
	r := newCPPNRunner(t, 64, 48)
	defer r.Close()
	runFor(t, r)
	z := make([]float32, r.Model().Manifest.Latent.Dim)
	for _, fps := range []float64{0, 200} {
		r.SetMaxFPS(fps)
		frame := func() {
			n := r.Stats().Frames
			z[0] += 0.01
			r.SetLatent(z)
			waitFrames(t, r, n+1, 5*time.Second)
			if fr, ok := r.Latest(); !ok || fr.Seq <= n {
				t.Errorf("max_fps %g: the display got frame %d (new %v) after frame %d", fps, fr.Seq, ok, n+1)
			}
		}
		for i := 0; i < 5; i++ { // warm up
			frame()
		}
		if a := testing.AllocsPerRun(50, frame); a != 0 {
			t.Errorf("max_fps %g: %.1f allocations per frame, want 0", fps, a)
		}
	}
}

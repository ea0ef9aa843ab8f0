package gen

import (
	"bytes"
	"context"
	"errors"
	"math"
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

// rateOver counts the frames r makes in d while f keeps feeding latents,
// per second.
func rateOver(r *Runner, d time.Duration) float64 {
	n0, t0 := r.Stats().Frames, time.Now()
	time.Sleep(d)
	return float64(r.Stats().Frames-n0) / time.Since(t0).Seconds()
}

// With latents arriving every few milliseconds (as the display sets them),
// max_fps caps the frames made; without it the runner makes frames as fast
// as the model allows; a new cap applies live.
func TestRunnerMaxFPS(t *testing.T) {
	r := newCPPNRunner(t, 64, 48) // a few ms a frame, far above the caps tested
	defer r.Close()
	runFor(t, r)
	f := startFeed(r, r.Model().Manifest.Latent.Dim)
	defer func() { close(f.stop); f.done.Wait() }()

	// Counts of frames over 1.5 s, not speed: the band allows a frame or two
	// either way for the window's edges and a loaded machine's timer delays.
	r.SetMaxFPS(10)
	time.Sleep(300 * time.Millisecond) // the cap's first slot
	if got := rateOver(r, 1500*time.Millisecond); got < 8 || got > 13 {
		t.Errorf("max_fps 10: %.1f frames a second, want 8..13", got)
	}
	r.SetMaxFPS(0)
	uncapped := rateOver(r, 1500*time.Millisecond)
	t.Logf("uncapped: %.0f frames a second", uncapped)
	if uncapped < 25 {
		t.Errorf("max_fps 0: only %.1f frames a second at 64x48; the runner should not be capped", uncapped)
	}
	r.SetMaxFPS(4)
	time.Sleep(300 * time.Millisecond)
	if got := rateOver(r, 1500*time.Millisecond); got < 2.5 || got > 6 {
		t.Errorf("max_fps changed live to 4: %.1f frames a second, want 2.5..6", got)
	}
	if got := r.MaxFPS(); math.Abs(got-4) > 1e-6 {
		t.Errorf("MaxFPS() = %g after SetMaxFPS(4)", got)
	}

	// Lifting a long cap wakes a runner waiting for its slot: frames resume
	// at once instead of after the rest of a 10 s slot.
	r.SetMaxFPS(0.1)
	time.Sleep(300 * time.Millisecond) // a frame under way may finish
	n := r.Stats().Frames
	time.Sleep(time.Second)
	if got := r.Stats().Frames; got != n {
		t.Errorf("max_fps 0.1: %d frames in a second", got-n)
	}
	r.SetMaxFPS(0)
	waitFrames(t, r, n+5, 3*time.Second)
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
	r.SetMaxFPS(2)
	runFor(t, r)
	r.SetLatent(z(0.1))
	waitFrames(t, r, 1, 5*time.Second) // the first frame starts at once
	r.SetLatent(z(0.3))
	r.SetLatent(z(0.6))
	r.SetLatent(z(0.9)) // all within the 0.5 s slot
	waitFrames(t, r, 2, 5*time.Second)
	time.Sleep(700 * time.Millisecond) // a slot with no new latent makes nothing
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

// The Run loop allocates nothing per frame, capped or not.
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
		}
		for i := 0; i < 5; i++ { // warm up
			frame()
		}
		if a := testing.AllocsPerRun(50, frame); a != 0 {
			t.Errorf("max_fps %g: %.1f allocations per frame, want 0", fps, a)
		}
	}
}

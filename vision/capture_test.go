package vision

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gocv.io/x/gocv"
)

// flaky is a camera that gets unplugged: it wraps the real sample clip and
// fails after failAfter frames; while unplugged, reopening fails.
type flaky struct {
	Source
	frames, failAfter int
}

// Paced: a camera waits for its next frame; this one, reading a file, is
// ready as fast as the file decodes, so tests need not wait for the clip's
// 10 fps.
func (f *flaky) Paced() bool { return true }

func (f *flaky) Read(dst *gocv.Mat) error {
	if f.failAfter > 0 && f.frames >= f.failAfter {
		return ErrLost
	}
	f.frames++
	return f.Source.Read(dst)
}

// A source that fails mid-stream is reported lost, reopened with backoff
// while it stays away, and delivers features again when it comes back;
// hundreds of frames leave no Mat open.
func TestWatcherSurvivesALostCamera(t *testing.T) {
	checkMats(t)
	cfg := DefaultConfig()
	first, err := OpenSource(cfg, SampleClip)
	if err != nil {
		t.Fatal(err)
	}
	var opens, refusals atomic.Int32
	var unplugged atomic.Bool
	unplugged.Store(true)
	open := func() (Source, error) {
		opens.Add(1)
		if unplugged.Load() {
			refusals.Add(1)
			return nil, errors.New("camera 0: /dev/video0 does not exist")
		}
		s, err := OpenSource(cfg, SampleClip)
		if err != nil {
			return nil, err
		}
		return &flaky{Source: s}, nil
	}
	w := NewWatcher(cfg, &flaky{Source: first, failAfter: 150}, open)
	var mu sync.Mutex
	var states []State
	w.Capture.OnState = func(s State, err error) {
		mu.Lock()
		states = append(states, s)
		mu.Unlock()
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()

	var f Features
	waitFor(t, "the camera to be lost", func() bool { s, _ := w.Capture.State(); return s == StateLost || s == StateReconnecting })
	before, _ := w.Latest(&f, 0)
	if before == 0 {
		t.Error("no features before the camera was lost")
	}
	waitFor(t, "two refused reopenings", func() bool { return refusals.Load() >= 2 })
	if s, err := w.Capture.State(); s != StateReconnecting || err == nil {
		t.Errorf("while unplugged: state %s, err %v; want reconnecting with the open error", s, err)
	}
	unplugged.Store(false)
	waitFor(t, "features after the camera came back", func() bool { s, _ := w.Latest(&f, 0); return s > before+100 })
	if s, _ := w.Capture.State(); s != StateOK {
		t.Errorf("after reconnecting: state %s", s)
	}
	cancel()
	<-done

	mu.Lock()
	defer mu.Unlock()
	want := []State{StateLost, StateReconnecting, StateOK}
	if len(states) < 3 || states[0] != StateOK && states[0] != StateLost {
		t.Fatalf("states %v", states)
	}
	i := 0
	for _, s := range states {
		if i < len(want) && s == want[i] {
			i++
		}
	}
	if i < len(want) {
		t.Errorf("state changes %v do not go lost, reconnecting, ok", states)
	}
	if f.GridW != cfg.GridW || len(f.Grid) != cfg.GridW*cfg.GridH || len(f.FlowField) != cfg.FlowW*cfg.FlowH*2 {
		t.Errorf("features lack their grid or flow field: %+v", f)
	}
}

// A reader slower than the camera gets the newest frame, not a queue.
func TestCaptureDropsStaleFrames(t *testing.T) {
	checkMats(t)
	cfg := DefaultConfig()
	src, err := OpenSource(cfg, SampleClip)
	if err != nil {
		t.Fatal(err)
	}
	// A camera paces itself, so the capture does not: frames come as fast
	// as the file decodes.
	c := NewCapture(&flaky{Source: src}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	frame := gocv.NewMat()
	defer frame.Close()
	var seq uint64
	skipped := 0
	for reads := 0; reads < 5; {
		select {
		case <-c.Frames():
		case <-time.After(5 * time.Second):
			t.Fatal("no frame in 5 s")
		}
		s, _, ok := c.Latest(&frame, seq)
		if !ok {
			continue
		}
		if seq > 0 && s > seq+1 {
			skipped++
		}
		seq = s
		reads++
		if frame.Cols() != 768 || frame.Rows() != 576 {
			t.Errorf("frame %dx%d, want vtest's 768x576", frame.Cols(), frame.Rows())
		}
		time.Sleep(50 * time.Millisecond) // a slow analysis
	}
	cancel()
	<-done
	if skipped == 0 {
		t.Error("a slow reader saw every frame: stale frames are queued, not dropped")
	}
}

// The capture paces a file and leaves a camera to pace itself, as each
// source says (Paced is part of Source: a wrapper cannot silently lose it).
func TestSourceSaysWhetherItPacesItself(t *testing.T) {
	checkMats(t)
	src, err := OpenSource(DefaultConfig(), SampleClip)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if src.Paced() {
		t.Error("a file says it paces itself: the capture would read it as fast as it decodes")
	}
	if !(&flaky{Source: src}).Paced() {
		t.Error("a camera says it does not pace itself")
	}
}

// Each hands a reader every newest frame until it says stop, then stops
// the capture and closes the source.
func TestCaptureEach(t *testing.T) {
	checkMats(t)
	src, err := OpenSource(DefaultConfig(), SampleClip)
	if err != nil {
		t.Fatal(err)
	}
	c := NewCapture(&flaky{Source: src}, nil)
	n := 0
	var last time.Time
	c.Each(context.Background(), func(frame gocv.Mat, at time.Time) bool {
		if frame.Cols() != 768 || at.Before(last) {
			t.Errorf("frame %d: %d wide at %v after %v", n, frame.Cols(), at, last)
		}
		last = at
		n++
		return n < 5
	})
	if n != 5 {
		t.Errorf("Each called back %d times, want 5", n)
	}
	if name := c.SourceName(); name != SampleClip {
		t.Errorf("source name %q after Each", name)
	}
	var m gocv.Mat
	if _, _, ok := c.Latest(&m, 0); ok {
		t.Error("a frame after Each returned: the loop still runs")
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

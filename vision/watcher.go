package vision

import (
	"context"
	"sync"
	"time"

	"gocv.io/x/gocv"
)

// Watcher runs the capture loop and the analysis, each in its own goroutine,
// and keeps the newest Features for whoever asks. A slow analysis drops
// frames; it never holds up the capture.
type Watcher struct {
	Capture *Capture
	cfg     Config

	mu     sync.Mutex
	latest Features
	seq    uint64
}

// NewWatcher watches src, reopening it with open after a loss.
func NewWatcher(cfg Config, src Source, open func() (Source, error)) *Watcher {
	return &Watcher{Capture: NewCapture(src, open), cfg: cfg}
}

// Latest copies the newest Features into dst (reusing dst's slices) and
// returns their sequence number; 0 means none yet.
func (w *Watcher) Latest(dst *Features) uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.seq > 0 {
		dst.CopyFrom(&w.latest)
	}
	return w.seq
}

// Run starts capture and analysis and returns when ctx ends.
func (w *Watcher) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		w.Capture.Run(ctx)
	}()
	an := NewLiveAnalyzer(w.cfg)
	defer an.Close()
	frame := gocv.NewMat()
	defer frame.Close()
	var seq uint64
	start := time.Now()
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			return
		case <-w.Capture.Frames():
		}
		s, at, ok := w.Capture.Latest(&frame, seq)
		if !ok {
			continue
		}
		seq = s
		f := an.Analyze(frame, at.Sub(start).Seconds())
		f.At = at
		w.mu.Lock()
		w.latest.CopyFrom(f)
		w.seq++
		w.mu.Unlock()
	}
}

package vision

import (
	"context"
	"time"

	"gocv.io/x/gocv"

	"reverie/internal/mailbox"
	"reverie/internal/pace"
)

// Watcher runs the capture loop and the analysis, each in its own goroutine,
// and keeps the newest Features for whoever asks. A slow analysis drops
// frames; it never holds up the capture.
type Watcher struct {
	Capture *Capture
	cfg     Config
	feats   *mailbox.Box[Features]
	share   pace.Share // of the machine the detection and person network may use
}

// NewWatcher watches src, reopening it with open after a loss.
func NewWatcher(cfg Config, src Source, open func() (Source, error)) *Watcher {
	return &Watcher{Capture: NewCapture(src, open), cfg: cfg, feats: mailbox.New(mailbox.Funcs[Features]{
		Copy: func(dst, src *Features) { dst.CopyFrom(src) },
	})}
}

// Latest copies the newest Features into dst (reusing dst's slices) if they
// are not the ones numbered since (0 for none yet), and returns their
// number. ok is false, and dst untouched, when nothing is new: the display,
// which asks every frame, then copies nothing. Any goroutine may ask.
func (w *Watcher) Latest(dst *Features, since uint64) (seq uint64, ok bool) {
	return w.feats.Latest(dst, since)
}

// SetShare sets the share of the machine the detection and the person
// network may use, (0, 1], from any goroutine: the frame budget lowers it
// when the display cannot hold its rate.
func (w *Watcher) SetShare(s float64) { w.share.Set(s) }

// Run starts capture and analysis and returns when ctx ends or the source
// has ended for good.
func (w *Watcher) Run(ctx context.Context) {
	an := newAnalyzer(w.cfg, true, &w.share)
	defer an.Close()
	start := time.Now()
	w.Capture.Each(ctx, func(frame gocv.Mat, at time.Time) bool {
		f := an.Analyze(frame, at.Sub(start).Seconds())
		f.At = at
		w.feats.Back().CopyFrom(f)
		w.feats.Publish()
		return true
	})
}

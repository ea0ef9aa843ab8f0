package vision

import (
	"context"
	"sync/atomic"
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
	pics    *mailbox.Box[Picture]
	picW    atomic.Int32 // the picture size asked for, 0 for none
	picH    atomic.Int32
	view    cameraView // the panel's camera view (view.go)
	share   pace.Share // of the machine the detection and person network may use
}

// NewWatcher watches src, reopening it with open after a loss.
func NewWatcher(cfg Config, src Source, open func() (Source, error)) *Watcher {
	return &Watcher{Capture: NewCapture(src, open), cfg: cfg, feats: mailbox.New(mailbox.Funcs[Features]{
		Copy: func(dst, src *Features) { dst.CopyFrom(src) },
	}), pics: mailbox.New(mailbox.Funcs[Picture]{Copy: (*Picture).CopyFrom})}
}

// WantPictures asks for each camera frame as a Picture covering w×h (an
// image model's input size), from any goroutine; 0×0 stops them. Pictures
// cost a resize per frame, so they are made only when asked for.
func (w *Watcher) WantPictures(width, height int) {
	w.picW.Store(int32(max(width, 0)))
	w.picH.Store(int32(max(height, 0)))
}

// LatestPicture copies the newest camera picture into dst, as Latest does
// for Features: ok is false, and dst untouched, when nothing is new. dst
// can be the generator's own next picture (gen.Runner.PictureBack), so the
// picture is copied once on its way to the model.
func (w *Watcher) LatestPicture(dst *Picture, since uint64) (seq uint64, ok bool) {
	return w.pics.Latest(dst, since)
}

// Latest copies the newest Features into dst (reusing dst's slices) if they
// are not the ones numbered since (0 for none yet), and returns their
// number. ok is false, and dst untouched, when nothing is new: the display,
// which asks every frame, then copies nothing. Any goroutine may ask.
func (w *Watcher) Latest(dst *Features, since uint64) (seq uint64, ok bool) {
	return w.feats.Latest(dst, since)
}

// Ready receives a token when new Features are published: one waiting
// reader wakes, then takes the newest with Latest.
func (w *Watcher) Ready() <-chan struct{} { return w.feats.Ready() }

// SetShare sets the share of the machine the detection and the person
// network may use, (0, 1], from any goroutine: the frame budget lowers it
// when the display cannot hold its rate.
func (w *Watcher) SetShare(s float64) { w.share.Set(s) }

// Run starts capture and analysis and returns when ctx ends or the source
// has ended for good.
func (w *Watcher) Run(ctx context.Context) {
	an := newAnalyzer(w.cfg, true, &w.share)
	defer an.Close()
	pr := NewPicturer()
	defer pr.Close()
	w.view.box.Store(newViewBox())
	defer w.view.box.Load().Close()
	start := time.Now()
	w.Capture.Each(ctx, func(frame gocv.Mat, at time.Time) bool {
		if pw, ph := int(w.picW.Load()), int(w.picH.Load()); pw > 0 && ph > 0 && pr.Make(frame, pw, ph, w.pics.Back()) {
			w.pics.Publish()
		}
		f := an.Analyze(frame, at.Sub(start).Seconds())
		f.At = at
		w.feats.Back().CopyFrom(f)
		w.feats.Publish()
		w.view.offer(frame, f)
		return true
	})
}

package vision

import (
	"sync/atomic"
	"time"

	"gocv.io/x/gocv"

	"reverie/internal/mailbox"
	"reverie/internal/pace"
)

// personLoop runs a person network in its own goroutine, as detectLoop runs
// HOG: frames come in through one mailbox, a newer frame replacing one not
// yet taken, and sights go out through another, so the analysis never waits
// for the network.
type personLoop struct {
	s      *seer
	w      *worker
	sights *mailbox.Box[sight]
	busy   atomic.Bool // a frame is offered or being seen
}

func newSights() *mailbox.Box[sight] {
	return mailbox.New(mailbox.Funcs[sight]{Copy: copySight})
}

func newPersonLoop(s *seer, share *pace.Share) *personLoop {
	// Live, a look's cost is wall time (offline runs keep a nil clock, so
	// renders stay deterministic).
	start := time.Now()
	s.clock = func() float64 { return float64(time.Since(start).Microseconds()) / 1000 }
	l := &personLoop{s: s, sights: newSights()}
	l.w = startWorker(l.see, share)
	return l
}

// offer copies frame, captured at t, for the network, and never waits.
func (l *personLoop) offer(frame gocv.Mat, t float64) {
	l.busy.Store(true)
	l.w.offer(frame, t)
}

// idle reports that no frame is waiting or being seen.
func (l *personLoop) idle() bool { return !l.busy.Load() }

func (l *personLoop) see(s *shot, seq uint64) {
	out := l.sights.Back()
	if l.s.see(s.mat, s.t, out) {
		l.sights.Publish()
	}
	if l.w.frames.Seq() == seq {
		l.busy.Store(false)
	}
}

// Close stops the goroutine, waiting for a run under way, and releases the
// network and the frames.
func (l *personLoop) Close() {
	l.w.close()
	l.sights.Close()
	l.s.Close()
}

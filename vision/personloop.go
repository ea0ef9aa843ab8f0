package vision

import (
	"sync/atomic"

	"gocv.io/x/gocv"

	"reverie/internal/mailbox"
)

// personLoop runs a person network in its own goroutine, as detectLoop runs
// HOG: frames come in through one mailbox, a newer frame replacing one not
// yet taken, and sights go out through another, so the analysis never waits
// for the network.
type personLoop struct {
	s      *seer
	frames *mailbox.Box[shot]
	sights *mailbox.Box[sight]
	work   shot
	busy   atomic.Bool // a frame is offered or being seen
	stop   chan struct{}
	done   chan struct{}
}

func newSights() *mailbox.Box[sight] {
	return mailbox.New(mailbox.Funcs[sight]{Copy: copySight})
}

func newPersonLoop(s *seer) *personLoop {
	l := &personLoop{s: s, frames: newShots(), sights: newSights(), work: shot{mat: gocv.NewMat()},
		stop: make(chan struct{}), done: make(chan struct{})}
	go l.run()
	return l
}

// offer copies frame, captured at t, for the network, and never waits.
func (l *personLoop) offer(frame gocv.Mat, t float64) {
	back := l.frames.Back()
	frame.CopyTo(&back.mat)
	back.t = t
	l.busy.Store(true)
	l.frames.Publish()
}

// idle reports that no frame is waiting or being seen.
func (l *personLoop) idle() bool { return !l.busy.Load() }

func (l *personLoop) run() {
	defer close(l.done)
	var seq uint64
	for {
		select {
		case <-l.stop:
			return
		case <-l.frames.Ready():
		}
		s, ok := l.frames.Latest(&l.work, seq)
		if !ok {
			continue
		}
		seq = s
		out := l.sights.Back()
		if l.s.see(l.work.mat, l.work.t, out) {
			l.sights.Publish()
		}
		if l.frames.Seq() == seq {
			l.busy.Store(false)
		}
	}
}

// Close stops the goroutine, waiting for a run under way, and releases the
// network and the frames.
func (l *personLoop) Close() {
	close(l.stop)
	<-l.done
	l.frames.Close()
	l.sights.Close()
	l.s.Close()
	l.work.mat.Close()
}

package vision

import (
	"time"

	"gocv.io/x/gocv"

	"reverie/internal/mailbox"
	"reverie/internal/pace"
)

// worker runs slow work (a detector, a person network) on the newest frame
// in its own goroutine, so a live analysis never waits for it: frames reach
// it through a mailbox, and a newer frame replaces one it has not taken yet.
type worker struct {
	frames *mailbox.Box[shot]
	work   shot // the frame being worked on
	stop   chan struct{}
	done   chan struct{}
}

// startWorker runs do on each frame it takes, with the frame's number. After
// work that took d it rests as share says (nil: never), so the frame budget
// can leave the display room.
func startWorker(do func(s *shot, seq uint64), share *pace.Share) *worker {
	w := &worker{frames: newShots(), work: shot{mat: gocv.NewMat()}, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		var seq uint64
		var idle *time.Timer
		for {
			select {
			case <-w.stop:
				return
			case <-w.frames.Ready():
			}
			s, ok := w.frames.Latest(&w.work, seq)
			if !ok {
				continue
			}
			seq = s
			start := time.Now()
			do(&w.work, seq)
			if share == nil {
				continue
			}
			if rest := share.Gap(time.Since(start)) - time.Since(start); rest > 0 {
				if idle == nil {
					idle = time.NewTimer(rest)
				} else {
					idle.Reset(rest)
				}
				select {
				case <-idle.C:
				case <-w.stop:
					idle.Stop()
					return
				}
			}
		}
	}()
	return w
}

// offer copies frame, captured at t, for the worker and never waits. It
// allocates nothing once the mailbox has the frame's size.
func (w *worker) offer(frame gocv.Mat, t float64) {
	back := w.frames.Back()
	frame.CopyTo(&back.mat)
	back.t = t
	w.frames.Publish()
}

// close stops the goroutine, waiting for work under way, and frees the
// frames.
func (w *worker) close() {
	close(w.stop)
	<-w.done
	w.frames.Close()
	w.work.mat.Close()
}

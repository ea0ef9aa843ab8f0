package vision

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"sync"
	"time"

	"gocv.io/x/gocv"

	"reverie/internal/heap"
	"reverie/internal/mailbox"
)

// State is the capture loop's health.
type State string

// Capture states.
const (
	StateOK           State = "ok"
	StateLost         State = "lost"
	StateReconnecting State = "reconnecting"
	StateEnded        State = "ended"
	// StateDamaged is a video file that ends before its declared frames:
	// the frames before the damage play in a loop, and the state stays
	// until a reopened file plays past the damage.
	StateDamaged State = "damaged"
)

// Capture reads a source in its own goroutine and keeps only the newest frame.
// A lost source is reopened with backoff while the rest of the program runs on.
type Capture struct {
	open func() (Source, error)
	// OnState, if set before Run, hears every change of state, from the
	// capture goroutine.
	OnState func(State, error)
	// frames holds the newest frame: the source reads straight into the
	// mailbox, and the reader copies it out once.
	frames *mailbox.Box[shot]
	out    shot // Latest's view of the reader's Mat

	mu    sync.Mutex
	src   Source
	state State
	err   error
	name  string // the source open now, or the last one open

	damage  *DamagedError // the last damage found, until a source plays past it, or the file is replaced
	damaged fileStamp     // the damaged file as it was when opened
	opened  fileStamp     // the file the source open now was opened from
	read    int           // frames read from the source open now
}

// fileStamp tells one version of a file from another: a copy put back in
// place of a damaged file has another size or modification time.
type fileStamp struct {
	size int64
	mod  time.Time
}

// stampOf is the file at path's stamp; anything that is not a file (a
// device, a stream's URL) has the same empty stamp each time.
func stampOf(path string) fileStamp {
	st, err := os.Stat(path)
	if err != nil {
		return fileStamp{size: -1}
	}
	return fileStamp{size: st.Size(), mod: st.ModTime()}
}

// NewCapture starts from an open source; open reopens it after a loss.
func NewCapture(src Source, open func() (Source, error)) *Capture {
	c := &Capture{src: src, open: open, state: StateOK, frames: newShots()}
	if src == nil {
		c.state = StateReconnecting
	} else {
		c.name = src.Name()
		c.opened = stampOf(c.name)
	}
	return c
}

// shot is a frame in a mailbox, with when it was taken: the wall time for
// a capture, the frame time for a detection.
type shot struct {
	mat gocv.Mat
	at  time.Time
	t   float64
}

func newShots() *mailbox.Box[shot] {
	return mailbox.New(mailbox.Funcs[shot]{
		New: func() shot { return shot{mat: gocv.NewMat()} },
		Copy: func(dst, src *shot) {
			src.mat.CopyTo(&dst.mat)
			dst.at, dst.t = src.at, src.t
		},
		Free: func(s *shot) { s.mat.Close() },
	})
}

// Frames signals that a new frame can be taken with Latest.
func (c *Capture) Frames() <-chan struct{} { return c.frames.Ready() }

// State returns the loop's state and the last error.
func (c *Capture) State() (State, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state, c.err
}

// SourceName names the source being read (a device index, file or URL),
// or while reconnecting the one last open; "" if none ever opened.
func (c *Capture) SourceName() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.src != nil {
		return c.src.Name()
	}
	return c.name
}

func (c *Capture) setState(s State, err error) {
	c.mu.Lock()
	changed := c.state != s
	c.state, c.err = s, err
	name := ""
	if c.src != nil {
		name = c.src.Name()
	}
	c.mu.Unlock()
	if !changed {
		return
	}
	switch s {
	case StateLost:
		slog.Warn("camera lost; reopening it with backoff while the piece runs on", "source", name, "err", err)
	case StateDamaged:
		slog.Error("video file damaged; the frames before the damage play in a loop", "source", name, "err", err)
	case StateOK:
		slog.Info("camera delivering frames", "source", name)
	case StateEnded:
		slog.Info("video ended", "source", name)
	}
	if c.OnState != nil {
		c.OnState(s, err)
	}
}

// Latest copies the newest frame into dst if it is newer than seq, and
// returns its sequence number and capture time. ok is false when nothing new
// has arrived, or the loop has ended. One goroutine reads a Capture: Each's,
// or the caller's own.
func (c *Capture) Latest(dst *gocv.Mat, seq uint64) (uint64, time.Time, bool) {
	c.out.mat = *dst // the same OpenCV Mat: the copy lands in dst
	s, ok := c.frames.Latest(&c.out, seq)
	*dst = c.out.mat
	return s, c.out.at, ok
}

// Each runs the capture loop (Run) in its own goroutine and calls fn on the
// calling goroutine with each newest frame and its capture time, until ctx
// ends, the source ends for good, or fn returns false. A slow fn drops
// frames, never queues them. The frame is Each's, valid while fn runs. Each
// returns once the capture loop has stopped and closed the source.
func (c *Capture) Each(ctx context.Context, fn func(frame gocv.Mat, at time.Time) bool) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx) }()
	frame := gocv.NewMat()
	defer frame.Close()
	defer func() { cancel(); <-done }()
	var seq uint64
	for {
		select {
		case <-ctx.Done():
			return
		case <-done:
			return
		case <-c.frames.Ready():
		}
		s, at, ok := c.Latest(&frame, seq)
		if !ok {
			continue
		}
		seq = s
		if !fn(frame, at) {
			return
		}
	}
}

// Run captures until ctx ends. A source that does not pace itself (a file)
// is paced at its nominal rate, as a camera would be.
func (c *Capture) Run(ctx context.Context) {
	defer func() {
		c.mu.Lock()
		if c.src != nil {
			c.src.Close()
			c.src = nil
		}
		c.mu.Unlock()
		// Readers may still ask after the loop ends: they get nothing new.
		c.frames.Close()
	}()
	backoff := 250 * time.Millisecond
	var next time.Time
	ask, selfPaced := true, true // asked once per source opened
	for ctx.Err() == nil {
		if c.src == nil {
			if c.damage == nil { // a damaged file stays reported as damaged while it reopens
				c.setState(StateReconnecting, c.lastErr())
			}
			if c.open == nil {
				c.setState(StateEnded, errors.New("no source and no way to reopen one"))
				return
			}
			src, err := c.open()
			if err != nil {
				c.damage = nil // the file is gone: the next one is judged afresh
				c.setState(StateReconnecting, err)
				if !sleep(ctx, backoff) {
					return
				}
				backoff = min(backoff*2, 8*time.Second)
				continue
			}
			c.mu.Lock()
			c.src, c.name, c.read = src, src.Name(), 0
			c.mu.Unlock()
			c.opened = stampOf(src.Name())
			if c.damage != nil && c.opened != c.damaged {
				// Someone put a new copy in place: judge it afresh, rather
				// than call it damaged until it plays past the old damage.
				c.damage = nil
			}
			ask = true
		}
		if ask {
			selfPaced, ask = c.src.Paced(), false
		}
		back := c.frames.Back()
		err := c.src.Read(&back.mat)
		if errors.Is(err, ErrEnd) {
			c.setState(StateEnded, err)
			return
		}
		if err != nil {
			var de *DamagedError
			if errors.As(err, &de) {
				c.damage, c.damaged = de, c.opened
				c.setState(StateDamaged, err)
			} else {
				c.setState(StateLost, err)
			}
			c.read = 0
			c.mu.Lock()
			c.src.Close()
			c.src = nil
			c.mu.Unlock()
			heap.Trim()
			// Give a replugged camera or a restarting stream a moment before
			// the first try, and longer after each failure.
			if !sleep(ctx, backoff) {
				return
			}
			backoff = min(backoff*2, 8*time.Second)
			continue
		}
		now := time.Now()
		back.at = now
		c.frames.Publish()
		fps := c.src.FPS()
		c.read++
		if c.damage != nil && c.read < c.damage.Frame {
			c.setState(StateDamaged, c.damage)
		} else {
			c.damage = nil
			c.setState(StateOK, nil)
		}
		backoff = 250 * time.Millisecond
		if !selfPaced {
			if next.IsZero() || now.Sub(next) > time.Second {
				next = now
			}
			next = next.Add(time.Duration(float64(time.Second) / fps))
			if !sleep(ctx, time.Until(next)) {
				return
			}
		}
	}
}

func (c *Capture) lastErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

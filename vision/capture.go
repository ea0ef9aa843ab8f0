package vision

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"gocv.io/x/gocv"

	"reverie/internal/heap"
)

// State is the capture loop's health.
type State string

// Capture states.
const (
	StateOK           State = "ok"
	StateLost         State = "lost"
	StateReconnecting State = "reconnecting"
	StateEnded        State = "ended"
)

// Capture reads a source in its own goroutine and keeps only the newest frame.
// A lost source is reopened with backoff while the rest of the program runs on.
type Capture struct {
	open func() (Source, error)
	// OnState, if set before Run, hears every change of state, from the
	// capture goroutine.
	OnState func(State, error)
	// frames gets a token when a new frame is in the mailbox; it holds one,
	// so a slow reader finds one token and the newest frame, never a queue.
	frames chan struct{}

	mu     sync.Mutex
	src    Source
	latest gocv.Mat
	closed bool
	seq    uint64
	at     time.Time
	state  State
	err    error
	opened time.Time
	name   string // the source open now, or the last one open
}

// NewCapture starts from an open source; open reopens it after a loss.
func NewCapture(src Source, open func() (Source, error)) *Capture {
	state := StateOK
	if src == nil {
		state = StateReconnecting
	}
	return &Capture{src: src, open: open, latest: gocv.NewMat(), state: state, opened: time.Now(), frames: make(chan struct{}, 1)}
}

// Frames signals that a new frame can be taken with Latest.
func (c *Capture) Frames() <-chan struct{} { return c.frames }

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
// has arrived.
func (c *Capture) Latest(dst *gocv.Mat, seq uint64) (uint64, time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.seq == seq || c.latest.Empty() {
		return seq, time.Time{}, false
	}
	c.latest.CopyTo(dst)
	return c.seq, c.at, true
}

// Run captures until ctx ends. A file source paces itself at its nominal
// rate, as a camera would.
func (c *Capture) Run(ctx context.Context) {
	frame := gocv.NewMat()
	defer frame.Close()
	defer func() {
		c.mu.Lock()
		if c.src != nil {
			c.src.Close()
			c.src = nil
		}
		// Readers may still ask after the loop ends: they get nothing new.
		c.latest.Close()
		c.closed = true
		c.mu.Unlock()
	}()
	backoff := 250 * time.Millisecond
	var next time.Time
	for ctx.Err() == nil {
		if c.src == nil {
			c.setState(StateReconnecting, c.lastErr())
			if c.open == nil {
				c.setState(StateEnded, errors.New("no source and no way to reopen one"))
				return
			}
			src, err := c.open()
			if err != nil {
				c.setState(StateReconnecting, err)
				if !sleep(ctx, backoff) {
					return
				}
				backoff = min(backoff*2, 8*time.Second)
				continue
			}
			c.mu.Lock()
			c.src, c.name = src, src.Name()
			c.mu.Unlock()
		}
		err := c.src.Read(&frame)
		if errors.Is(err, ErrEnd) {
			c.setState(StateEnded, err)
			return
		}
		if err != nil {
			c.setState(StateLost, err)
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
		c.mu.Lock()
		frame.CopyTo(&c.latest)
		c.seq++
		c.at = now
		kind := KindDevice
		if cs, ok := c.src.(*capSource); ok {
			kind = cs.kind
		}
		fps := c.src.FPS()
		c.mu.Unlock()
		c.setState(StateOK, nil)
		backoff = 250 * time.Millisecond
		select {
		case c.frames <- struct{}{}:
		default:
		}
		if kind == KindFile {
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

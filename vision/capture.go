package vision

import (
	"context"
	"errors"
	"sync"
	"time"

	"gocv.io/x/gocv"
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

	mu     sync.Mutex
	src    Source
	latest gocv.Mat
	seq    uint64
	at     time.Time
	state  State
	err    error
	opened time.Time
}

// NewCapture starts from an open source; open reopens it after a loss.
func NewCapture(src Source, open func() (Source, error)) *Capture {
	return &Capture{src: src, open: open, latest: gocv.NewMat(), state: StateOK, opened: time.Now()}
}

// State returns the loop's state and the last error.
func (c *Capture) State() (State, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state, c.err
}

func (c *Capture) setState(s State, err error) {
	c.mu.Lock()
	c.state, c.err = s, err
	c.mu.Unlock()
}

// Latest copies the newest frame into dst if it is newer than seq, and
// returns its sequence number and capture time. ok is false when nothing new
// has arrived.
func (c *Capture) Latest(dst *gocv.Mat, seq uint64) (uint64, time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seq == seq || c.latest.Empty() {
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
		c.latest.Close()
		c.mu.Unlock()
	}()
	backoff := 250 * time.Millisecond
	var next time.Time
	for ctx.Err() == nil {
		if c.src == nil {
			c.setState(StateReconnecting, c.lastErr())
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
			c.src = src
			c.mu.Unlock()
			backoff = 250 * time.Millisecond
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
			continue
		}
		now := time.Now()
		c.mu.Lock()
		frame.CopyTo(&c.latest)
		c.seq++
		c.at = now
		c.state, c.err = StateOK, nil
		kind := KindDevice
		if cs, ok := c.src.(*capSource); ok {
			kind = cs.kind
		}
		fps := c.src.FPS()
		c.mu.Unlock()
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

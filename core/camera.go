package core

import (
	"context"
	"log/slog"
	"sync"

	"reverie/vision"
)

// camera owns the current vision watcher: the live driver, the control
// adapter and restarts all ask it, so a restart changes one place. The zero
// camera has none.
type camera struct {
	parent context.Context

	mu   sync.Mutex // guards w
	w    *vision.Watcher
	stop context.CancelFunc
	done chan struct{}
}

// current is the running watcher, nil while none runs.
func (c *camera) current() *vision.Watcher {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.w
}

// start opens the configured source (a failure leaves the watcher
// reconnecting, as a lost camera does) and runs a watcher on it.
func (c *camera) start(cfg vision.Config) {
	open := func() (vision.Source, error) {
		s, _, err := vision.Open(cfg)
		return s, err
	}
	src, note, err := vision.Open(cfg)
	switch {
	case err != nil:
		slog.Warn("camera unavailable; the idle choreography runs until it comes back", "err", err)
	case note != "":
		slog.Info(note)
	default:
		slog.Info("camera open", "source", src.Name())
	}
	w := vision.NewWatcher(cfg, src, open)
	ctx, stop := context.WithCancel(c.parent)
	done := make(chan struct{})
	c.stop, c.done = stop, done
	go func() {
		defer close(done)
		w.Run(ctx)
	}()
	c.mu.Lock()
	c.w = w
	c.mu.Unlock()
}

// restart stops the running watcher, then starts one with cfg, unless the
// piece is shutting down. The caller makes restarts take turns.
func (c *camera) restart(cfg vision.Config) {
	c.mu.Lock()
	c.w = nil
	c.mu.Unlock()
	c.stop()
	<-c.done
	if c.parent.Err() != nil {
		return
	}
	c.start(cfg)
}

package core

import (
	"strconv"

	"reverie/gen"
	"reverie/scene"
	"reverie/vision"
)

// live drives the installation in real time: the newest camera features move
// the game's director, the director's latent goes to the runner, and the
// newest generator frame goes on screen. Nothing here waits for another
// stage.
type live struct {
	cam    *camera // the current watcher; none runs the idle choreography alone
	runner *gen.Runner

	watcher  *vision.Watcher // the watcher feats came from
	feats    vision.Features
	featsSeq uint64 // the watcher's number for feats, 0 for none yet
	last     float64
	share    float64         // the frame budget's share last handed out
	paced    *vision.Watcher // the watcher it went to
}

// Tick implements scene.Driver.
func (l *live) Tick(g *scene.Game) error {
	now := g.Clock().Seconds()
	dt := now - l.last
	l.last = now
	if dt <= 0 || dt > 0.25 {
		dt = 1.0 / 60 // first tick, or a stall: never jump the spring
	}
	var f *vision.Features
	if w := l.cam.current(); w != l.watcher {
		// A restarted camera numbers its features afresh.
		l.watcher, l.featsSeq = w, 0
	}
	if l.watcher != nil {
		// Nothing new (most ticks: the display outruns the camera) copies
		// nothing.
		if seq, ok := l.watcher.Latest(&l.feats, l.featsSeq); ok {
			l.featsSeq = seq
		}
		if l.featsSeq > 0 {
			f = &l.feats
		}
	}
	g.SetFeatures(f)
	if s := g.Budget().Share; s != l.share || l.watcher != l.paced {
		// The generator, the detection and the person network share what
		// the display leaves, as the dream does.
		l.runner.SetShare(s)
		if l.watcher != nil {
			l.watcher.SetShare(s)
		}
		l.share, l.paced = s, l.watcher
	}
	if g.Sleeping() {
		return nil // the runner only works when handed a latent
	}
	l.runner.SetLatent(g.Director().Step(f, dt))
	if fr, ok := l.runner.Latest(); ok {
		g.Upload(fr)
	}
	return nil
}

// AfterChain implements scene.Driver: the live picture is only shown.
func (l *live) AfterChain(*scene.Game) error { return nil }

// AppendStatus implements scene.Driver: the generator's timing and the
// camera's state for the overlay.
func (l *live) AppendStatus(b []byte) []byte {
	st := l.runner.Stats()
	b = append(b, "generator "...)
	b = strconv.AppendFloat(b, st.GenMs, 'f', 1, 64)
	b = append(b, " ms  "...)
	b = strconv.AppendFloat(b, st.FPS, 'f', 1, 64)
	b = append(b, " fps\ncamera "...)
	if l.watcher == nil || l.watcher.Capture == nil {
		return append(b, "none"...)
	}
	s, err := l.watcher.Capture.State()
	b = append(b, s...)
	if err != nil {
		b = append(b, ": "...)
		b = append(b, err.Error()...)
	}
	return b
}

package scene

import (
	"reverie/gen"
	"reverie/vision"
)

// Live drives the installation in real time: the newest camera features move
// the director, the director's latent goes to the runner, and the newest
// generator frame goes on screen. Nothing here waits for another stage.
type Live struct {
	Watcher  *vision.Watcher // nil runs the idle choreography alone
	Runner   *gen.Runner
	Director *Director

	feats vision.Features
	last  float64
}

// Tick implements Driver.
func (l *Live) Tick(g *Game) error {
	now := g.Clock().Seconds()
	dt := now - l.last
	l.last = now
	if dt <= 0 || dt > 0.25 {
		dt = 1.0 / 60 // first tick, or a stall: never jump the spring
	}
	var f *vision.Features
	if l.Watcher != nil && l.Watcher.Latest(&l.feats) > 0 {
		f = &l.feats
	}
	l.Runner.SetLatent(l.Director.Step(f, dt))
	if fr, ok := l.Runner.Latest(); ok {
		g.Upload(fr)
	}
	return nil
}

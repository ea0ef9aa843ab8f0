package scene

import (
	"strconv"

	"github.com/hajimehoshi/ebiten/v2"

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

	feats    vision.Features
	featsSeq uint64 // the watcher's number for feats, 0 for none yet
	last     float64
}

// LatentDirector implements the game's director source.
func (l *Live) LatentDirector() *Director { return l.Director }

// Tick implements Driver.
func (l *Live) Tick(g *Game) error {
	now := g.Clock().Seconds()
	dt := now - l.last
	l.last = now
	if dt <= 0 || dt > 0.25 {
		dt = 1.0 / 60 // first tick, or a stall: never jump the spring
	}
	var f *vision.Features
	if l.Watcher != nil {
		// Nothing new (most ticks: the display outruns the camera) copies
		// nothing.
		if seq, ok := l.Watcher.Latest(&l.feats, l.featsSeq); ok {
			l.featsSeq = seq
		}
		if l.featsSeq > 0 {
			f = &l.feats
		}
	}
	g.SetFeatures(f)
	if g.Sleeping() {
		return nil // the runner only works when handed a latent
	}
	l.Runner.SetLatent(l.Director.Step(f, dt))
	if fr, ok := l.Runner.Latest(); ok {
		g.Upload(fr)
	}
	return nil
}

// AppendStatus implements the overlay's status source: the generator's
// timing and the camera's state.
func (l *Live) AppendStatus(b []byte) []byte {
	st := l.Runner.Stats()
	b = append(b, "generator "...)
	b = strconv.AppendFloat(b, st.GenMs, 'f', 1, 64)
	b = append(b, " ms  "...)
	b = strconv.AppendFloat(b, st.FPS, 'f', 1, 64)
	b = append(b, " fps\ncamera "...)
	if l.Watcher == nil || l.Watcher.Capture == nil {
		return append(b, "none"...)
	}
	s, err := l.Watcher.Capture.State()
	b = append(b, s...)
	if err != nil {
		b = append(b, ": "...)
		b = append(b, err.Error()...)
	}
	return b
}

// SetupDisplay opens the window as config says: full-screen on the chosen
// monitor with the cursor hidden, or a window; vsync on. It returns a note
// when the chosen monitor is missing and the primary one is used instead.
func SetupDisplay(cfg Config, windowed bool) string {
	note := ""
	mons := ebiten.AppendMonitors(nil)
	if cfg.Monitor < len(mons) {
		ebiten.SetMonitor(mons[cfg.Monitor])
	} else if cfg.Monitor > 0 {
		note = "scene.monitor " + strconv.Itoa(cfg.Monitor) + " is not connected (" + strconv.Itoa(len(mons)) + " found); using the primary monitor"
	}
	ebiten.SetWindowTitle("reverie")
	ebiten.SetWindowSize(cfg.RenderW, cfg.RenderH)
	ebiten.SetWindowResizingMode(ebiten.WindowResizingModeEnabled)
	full := cfg.Fullscreen && !windowed
	ebiten.SetFullscreen(full)
	if full {
		ebiten.SetCursorMode(ebiten.CursorModeHidden)
	}
	ebiten.SetVsyncEnabled(true)
	return note
}

package core

import (
	"strconv"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/inpututil"

	"reverie/gen"
	"reverie/scene"
	"reverie/videoout"
	"reverie/vision"
)

// live drives the installation in real time: the newest camera features move
// the game's director, the director's latent goes to the runner, and the
// newest generator frame goes on screen. Nothing here waits for another
// stage.
type live struct {
	cam    *camera // the current watcher; none runs the idle choreography alone
	runner *gen.Runner
	out    *videoout.Out // takes the displayed picture; nil for none
	read   func(pix []byte)
	// toggleRecording starts or stops a recording (key R), off the game
	// loop: opening a file must not hold up the display.
	toggleRecording func()

	watcher  *vision.Watcher // the watcher feats came from
	feats    vision.Features
	featsSeq uint64 // the watcher's number for feats, 0 for none yet
	last     float64
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
	if inpututil.IsKeyJustPressed(ebiten.KeyR) && l.toggleRecording != nil {
		go l.toggleRecording()
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

// AfterChain implements scene.Driver: the live picture is shown, and
// handed to the video outputs whose next frame is due.
func (l *live) AfterChain(g *scene.Game) error {
	if l.out != nil {
		if l.read == nil {
			l.read = g.ReadFrame // once: a method value allocates
		}
		l.out.Capture(g.Clock(), l.read)
	}
	return nil
}

// AppendStatus implements scene.Driver: the generator's timing and the
// camera's state for the overlay.
func (l *live) AppendStatus(b []byte) []byte {
	st := l.runner.Stats()
	b = append(b, "generator "...)
	b = strconv.AppendFloat(b, st.GenMs, 'f', 1, 64)
	b = append(b, " ms  "...)
	b = strconv.AppendFloat(b, st.FPS, 'f', 1, 64)
	b = append(b, " fps\n"...)
	if l.out != nil {
		if r := l.out.Stats().Record; r.Recording {
			b = append(b, "REC "...)
			b = strconv.AppendFloat(b, r.Seconds, 'f', 0, 64)
			b = append(b, " s, dropped "...)
			b = strconv.AppendUint(b, r.Dropped, 10)
			b = append(b, '\n')
		}
	}
	b = append(b, "camera "...)
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

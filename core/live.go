package core

import (
	"strconv"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/inpututil"

	"reverie/audio"
	"reverie/gen"
	"reverie/scene"
	"reverie/videoout"
	"reverie/vision"
)

// live drives the installation in real time: the newest camera and sound
// features reach the display's passes, and the newest generator frame goes
// on screen. The director steps on its own goroutine (steer, in run.go) as
// the camera's features arrive, not here: an answer then waits for no
// display tick. Nothing here waits for another stage.
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
	featsSeq uint64          // the watcher's number for feats, 0 for none yet
	share    float64         // the frame budget's share last handed out
	paced    *vision.Watcher // the watcher it went to

	snd    *sound // the sound input; nil or off for none
	heard  audio.Features
	sndSeq uint64

	// An image model's picture: the camera's, asked of the watcher at
	// the model's input size.
	feed   *imageFeed
	picSeq uint64
	picW   int // the size asked of the watcher, 0 for none
	picH   int
	imgErr func(error)
}

// Tick implements scene.Driver.
func (l *live) Tick(g *scene.Game) error {
	var f *vision.Features
	if w := l.cam.current(); w != l.watcher {
		// A restarted camera numbers its features and pictures afresh.
		l.watcher, l.featsSeq, l.picSeq, l.picW, l.picH = w, 0, 0, 0, 0
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
	var a *audio.Features
	if l.snd.listening() {
		if seq, ok := l.snd.live.Box().Latest(&l.heard, l.sndSeq); ok {
			l.sndSeq = seq
		}
		if l.sndSeq > 0 {
			a = &l.heard
		}
	}
	g.SetSound(a)
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
		return nil // the steering hands the runner nothing: no frames come
	}
	fr, shown := l.runner.Latest()
	if shown {
		g.Upload(fr)
	}
	l.handImage(g, f, shown)
	return nil
}

// handImage gives an image model its picture; a latent model needs none,
// and the watcher then makes none. A picture the runner refuses is logged
// (a few times): it never ends the game.
func (l *live) handImage(g *scene.Game, f *vision.Features, shown bool) {
	spec, ok := l.runner.Image()
	w, h := 0, 0
	if ok && spec.Source == gen.SourceCamera {
		w, h = spec.Width, spec.Height
	}
	if l.watcher != nil && (w != l.picW || h != l.picH) {
		l.watcher.WantPictures(w, h)
		l.picW, l.picH = w, h
	}
	if !ok {
		return
	}
	if l.feed == nil {
		l.feed, l.imgErr = newImageFeed(), rateLimited("image model's picture refused", 5)
	}
	if err := l.feed.hand(g, l.runner, spec, l, f, shown); err != nil {
		l.imgErr(err)
	}
}

// picture implements cameraPictures: the watcher's newest picture, copied
// straight into dst (the runner's next picture), once each.
func (l *live) picture(dst *gen.Picture, _ gen.ImageSpec) bool {
	if l.watcher == nil || l.picW == 0 {
		return false
	}
	seq, ok := l.watcher.LatestPicture(dst, l.picSeq)
	if ok {
		l.picSeq = seq
	}
	return ok
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
		b = append(b, "none"...)
	} else {
		s, err := l.watcher.Capture.State()
		b = append(b, s...)
		if err != nil {
			b = append(b, ": "...)
			b = append(b, err.Error()...)
		}
	}
	return l.appendSound(b)
}

// appendSound adds the sound input's line to the overlay: its state, and
// while it listens the level and the tempo.
func (l *live) appendSound(b []byte) []byte {
	if l.snd == nil || !l.snd.cfg.On() {
		return b
	}
	b = append(b, "\nsound "...)
	if !l.snd.listening() {
		return append(b, "lost"...)
	}
	b = append(b, "level "...)
	b = strconv.AppendFloat(b, float64(l.heard.Level), 'f', 2, 32)
	b = append(b, "  "...)
	b = strconv.AppendFloat(b, float64(l.heard.BPM), 'f', 1, 32)
	return append(b, " BPM"...)
}

package bench

import (
	"fmt"
	"image"
	"image/color"

	"github.com/hajimehoshi/ebiten/v2"

	"reverie/gen"
	"reverie/scene"
)

// Ebiten queues draws and runs them later on the GPU, so timing a draw call
// measures only the queueing. Reading back one pixel of the image a draw
// wrote makes the CPU wait until the GPU has finished it (and everything it
// depends on): every display time here ends with such a read-back. The
// baseline ends with the same read-back, so its cost cancels in the ratio.
type gpuSync struct {
	px   [4]byte
	subs map[*ebiten.Image]*ebiten.Image
}

// wait returns once every draw into img has completed.
func (s *gpuSync) wait(img *ebiten.Image) {
	if s.subs == nil {
		s.subs = map[*ebiten.Image]*ebiten.Image{}
	}
	sub, ok := s.subs[img]
	if !ok {
		b := img.Bounds()
		sub = img.SubImage(image.Rect(b.Min.X, b.Min.Y, b.Min.X+1, b.Min.Y+1)).(*ebiten.Image)
		s.subs[img] = sub
	}
	sub.ReadPixels(s.px[:])
}

// loop is the Ebiten game the display figures and the latency probe run in:
// Ebiten draws and reads pixels only inside its loop, on the main thread.
type loop struct {
	jobs  []func() error // display figures, one per Update
	probe *probe
	err   error
}

func (l *loop) Update() error {
	if len(l.jobs) > 0 {
		job := l.jobs[0]
		l.jobs = l.jobs[1:]
		if l.err = job(); l.err != nil {
			return ebiten.Termination
		}
		if len(l.jobs) == 0 {
			// The probe runs like `reverie run`: display ticks at 60 Hz.
			ebiten.SetVsyncEnabled(true)
			ebiten.SetTPS(ebiten.DefaultTPS)
		}
		return nil
	}
	if l.probe == nil {
		return ebiten.Termination
	}
	done, err := l.probe.update()
	if err != nil {
		l.err = err
		return ebiten.Termination
	}
	if done {
		return ebiten.Termination
	}
	return nil
}

func (l *loop) Draw(screen *ebiten.Image) {
	if l.probe != nil && len(l.jobs) == 0 {
		l.probe.draw(screen)
	}
}

func (l *loop) Layout(int, int) (int, int) {
	if l.probe != nil && len(l.jobs) == 0 {
		return l.probe.layout()
	}
	return 64, 64
}

// runLoop measures the display figures and the latency inside one Ebiten
// game loop.
func runLoop(cfg Config, clip string, n counts, r *Report) error {
	pix, gw, gh, err := sampleFrame(cfg.Generator)
	if err != nil {
		return err
	}
	r.Display.Passes = len(cfg.Scene.Passes)
	p, err := newProbe(cfg, clip, n.events)
	if err != nil {
		return err
	}
	defer p.close()
	l := &loop{probe: p}
	for _, s := range []struct {
		w, h int
		dst  *DisplayFigure
	}{{1280, 720, &r.Display.HD}, {1920, 1080, &r.Display.FullHD}} {
		l.jobs = append(l.jobs, func() (err error) {
			*s.dst, err = measureDisplay(cfg.Scene.Passes, s.w, s.h, n.display, pix, gw, gh)
			return err
		})
	}
	ebiten.SetWindowTitle("reverie bench")
	ebiten.SetWindowSize(cfg.Scene.RenderW, cfg.Scene.RenderH)
	ebiten.SetVsyncEnabled(false)
	ebiten.SetTPS(ebiten.SyncWithFPS)
	if err := ebiten.RunGame(l); err != nil && !scene.IsTermination(err) {
		return fmt.Errorf("bench: display: %w", err)
	}
	if l.err != nil {
		return l.err
	}
	r.Latency, err = p.report()
	return err
}

// sampleFrame renders one frame of the built-in CPPN at 320×180, the
// default generator size, for the display figures to show.
func sampleFrame(gc gen.Config) ([]byte, int, int, error) {
	c := gc.CPPN(320, 180)
	man, err := c.Build()
	if err != nil {
		return nil, 0, 0, err
	}
	m, _, err := gen.Load(man, gc.Session())
	if err != nil {
		return nil, 0, 0, err
	}
	defer m.Close()
	pix := make([]byte, 4*c.Width*c.Height)
	z := make([]float32, man.Latent.Dim)
	for i := range z {
		z[i] = float32(i%3) - 1
	}
	if err := m.Run(z, pix); err != nil {
		return nil, 0, 0, err
	}
	return pix, c.Width, c.Height, nil
}

// measureDisplay times the pass chain at w×h against one plain blit of the
// same size, alternating the two, each waited for on the GPU.
func measureDisplay(passes []scene.PassConfig, w, h, iters int, pix []byte, gw, gh int) (DisplayFigure, error) {
	small := ebiten.NewImage(gw, gh)
	defer small.Deallocate()
	small.WritePixels(pix)
	older, newer := ebiten.NewImage(w, h), ebiten.NewImage(w, h)
	defer older.Deallocate()
	defer newer.Deallocate()
	var up ebiten.DrawImageOptions
	up.GeoM.Scale(float64(w)/float64(gw), float64(h)/float64(gh))
	up.Filter = ebiten.FilterLinear
	older.DrawImage(small, &up)
	up.GeoM.Translate(float64(w)/8, 0) // the newer frame differs from the older
	newer.DrawImage(small, &up)

	chain, err := scene.NewChain(passes, w, h)
	if err != nil {
		return DisplayFigure{}, fmt.Errorf("bench: display %dx%d: %w", w, h, err)
	}
	defer chain.Dispose()
	for _, p := range chain.Passes {
		// Mid-crossfade, with an audience: every input is read.
		for _, u := range []string{"Fade", "Motion", "Level", "AudienceX", "AudienceY"} {
			p.Set(u, 0.5)
		}
	}
	chain.Seed(newer)
	// The camera inputs: a gentle flow to the right, and motion in a band.
	flow, audience := ebiten.NewImage(w, h), ebiten.NewImage(w, h)
	defer flow.Deallocate()
	defer audience.Deallocate()
	flow.Fill(color.RGBA{150, 128, 0, 255})
	audience.SubImage(image.Rect(w/4, 0, w/2, h)).(*ebiten.Image).Fill(color.RGBA{200, 200, 200, 255})
	in := &scene.Inputs{GenOlder: older, GenNewer: newer, Flow: flow, Audience: audience}

	blitDst := ebiten.NewImage(w, h)
	defer blitDst.Deallocate()
	blit := &ebiten.DrawImageOptions{Blend: ebiten.BlendCopy}

	var sync gpuSync
	chainT, blitT, _ := alternate(3, iters, func() error {
		sync.wait(chain.Step(in))
		return nil
	}, func() error {
		blitDst.DrawImage(newer, blit)
		sync.wait(blitDst)
		return nil
	})
	f := DisplayFigure{ChainMs: median(chainT), BlitMs: median(blitT), Draws: chain.Draws()}
	f.Ratio = ratio(f.ChainMs, f.BlitMs)
	return f, nil
}

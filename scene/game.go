package scene

import (
	"errors"
	"time"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/inpututil"

	"reverie/gen"
)

// Driver feeds the game once per tick: the live installation polls the camera
// and the runner, offline rendering steps everything in lockstep. Returning
// ebiten.Termination ends the game.
type Driver interface {
	Tick(g *Game) error
}

// Game is the Ebiten game: it uploads generator frames, crossfades between
// the two newest, runs the feedback chain and shows the result.
type Game struct {
	cfg    Config
	driver Driver
	Chain  *Chain

	in       Inputs
	genSmall *ebiten.Image // generator frames at their own size
	upOpts   ebiten.DrawImageOptions
	drawOpts ebiten.DrawImageOptions

	genSeq    uint64
	newestAt  time.Duration // clock time of the newest generator frame
	interval  time.Duration // measured time between generator frames
	clock     time.Duration // the game's clock: wall time live, virtual offline
	lastTick  time.Time
	virtual   bool
	tickDelta time.Duration
}

// NewGame builds the pass chain at the render size. genW×genH is the
// generator's frame size.
func NewGame(cfg Config, genW, genH int, driver Driver) (*Game, error) {
	chain, err := NewChain(cfg.Passes, cfg.RenderW, cfg.RenderH)
	if err != nil {
		return nil, err
	}
	g := &Game{cfg: cfg, driver: driver, Chain: chain}
	g.genSmall = ebiten.NewImage(genW, genH)
	g.in.GenOlder = ebiten.NewImage(cfg.RenderW, cfg.RenderH)
	g.in.GenNewer = ebiten.NewImage(cfg.RenderW, cfg.RenderH)
	g.upOpts.GeoM.Scale(float64(cfg.RenderW)/float64(genW), float64(cfg.RenderH)/float64(genH))
	g.upOpts.Filter = ebiten.FilterLinear
	g.upOpts.Blend = ebiten.BlendCopy
	g.interval = 100 * time.Millisecond
	return g, nil
}

// UseVirtualClock makes every tick advance the clock by dt, for offline
// rendering where ticks are not real time.
func (g *Game) UseVirtualClock(dt time.Duration) {
	g.virtual = true
	g.tickDelta = dt
}

// Clock is the game's current time.
func (g *Game) Clock() time.Duration { return g.clock }

// Upload shows a new generator frame: the newest becomes the older one of
// the crossfade, and the frame, scaled to the render size, the newest.
func (g *Game) Upload(f *gen.Frame) {
	if f.Seq == g.genSeq {
		return
	}
	g.genSmall.WritePixels(f.Pix)
	g.in.GenOlder, g.in.GenNewer = g.in.GenNewer, g.in.GenOlder
	g.in.GenNewer.DrawImage(g.genSmall, &g.upOpts)
	if g.genSeq == 0 {
		// Start the feedback from the first frame rather than from black.
		g.Chain.Seed(g.in.GenNewer)
		g.in.GenOlder.DrawImage(g.in.GenNewer, nil)
	} else {
		// Crossfade over the measured frame interval, smoothed.
		iv := g.clock - g.newestAt
		if iv > 0 {
			g.interval += (iv - g.interval) / 4
		}
	}
	g.genSeq = f.Seq
	g.newestAt = g.clock
}

// Update advances the clock, lets the driver feed the game, and runs the
// chain once.
func (g *Game) Update() error {
	if g.virtual {
		g.clock += g.tickDelta
	} else {
		now := time.Now()
		if !g.lastTick.IsZero() {
			g.clock += now.Sub(g.lastTick)
		}
		g.lastTick = now
	}
	if inpututil.IsKeyJustPressed(ebiten.KeyF) {
		ebiten.SetFullscreen(!ebiten.IsFullscreen())
	}
	if inpututil.IsKeyJustPressed(ebiten.KeyEscape) && g.cfg.AllowQuit {
		return ebiten.Termination
	}
	if err := g.driver.Tick(g); err != nil {
		return err
	}
	g.StepChain()
	if a, ok := g.driver.(AfterChain); ok {
		return a.AfterChain(g)
	}
	return nil
}

// AfterChain is implemented by drivers that use each frame's output, such as
// offline rendering reading it back.
type AfterChain interface {
	AfterChain(g *Game) error
}

// StepChain sets the crossfade position and runs every pass once.
func (g *Game) StepChain() {
	fade := float32(1)
	if g.interval > 0 {
		fade = min(1, float32(g.clock-g.newestAt)/float32(g.interval))
	}
	if g.virtual {
		fade = 1 // offline, every output frame has its own generator frame
	}
	for _, p := range g.Chain.Passes {
		p.Set("Fade", fade)
	}
	g.Chain.Step(&g.in)
}

// Draw shows the chain's output; Layout makes the screen the render size,
// and Ebiten scales it to the window.
func (g *Game) Draw(screen *ebiten.Image) {
	screen.DrawImage(g.Chain.Output(), &g.drawOpts)
}

// Layout fixes the logical screen at the render size.
func (g *Game) Layout(_, _ int) (int, int) { return g.cfg.RenderW, g.cfg.RenderH }

// Dispose frees the game's images and shaders.
func (g *Game) Dispose() {
	g.Chain.Dispose()
	g.genSmall.Deallocate()
	g.in.GenOlder.Deallocate()
	g.in.GenNewer.Deallocate()
}

// IsTermination reports whether err is Ebiten's regular end of the game.
func IsTermination(err error) bool { return errors.Is(err, ebiten.Termination) }

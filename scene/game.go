package scene

import (
	"errors"
	"image"
	"image/color"
	"math"
	"sync"
	"time"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/ebitenutil"
	"github.com/hajimehoshi/ebiten/v2/inpututil"

	"reverie/audio"
	"reverie/director"
	"reverie/gen"
	"reverie/scene/budget"
	"reverie/vision"
)

// Driver feeds the game: the live installation polls the camera and the
// runner, offline rendering steps everything in lockstep. Every method runs
// on the game loop. The game owns the director; it steps through Steer,
// live on the steering goroutine (Steering), offline in the driver's Tick.
type Driver interface {
	// Tick feeds the game before the chain runs. Returning
	// ebiten.Termination ends the game.
	Tick(g *Game) error
	// AfterChain uses the frame's output once the chain has run, such as
	// offline rendering reading it back.
	AfterChain(g *Game) error
	// AppendStatus adds the driver's lines to the technician's overlay.
	AppendStatus(b []byte) []byte
}

// Game is the Ebiten game: it uploads generator frames, crossfades between
// the two newest, runs the feedback chain and shows the result.
type Game struct {
	cfg      Config
	driver   Driver
	Chain    *Chain
	director *director.Director // stepped under steer (steer.go)
	man      *gen.Manifest      // the model the director is built for, nil if unknown
	inputs   ModelInputs        // the generator's inputs, for presets (nil until wired)
	genKeys  []string           // generator.* keys the presets set
	ctl      *Controls
	dream    *dreamer // the deepdream pass's neural dream, nil until it runs

	in         Inputs
	rw, rh     int           // the render size now: the configured one times the budget's scale
	genSmall   *ebiten.Image // generator frames at their own size
	genW, genH int
	fit        gen.Fit // how generator frames meet the canvas ("" is cover)
	upOpts     ebiten.DrawImageOptions
	geo        ebiten.GeoM
	screenPic  screenPic // the picture on screen for a feedback image model

	// The camera's flow field and motion grid, as small images scaled up
	// into the render-size inputs with a filtered draw.
	feats      vision.Features
	haveFeats  bool
	flowSmall  *ebiten.Image
	flowPix    []byte
	audSmall   *ebiten.Image
	audPix     []byte
	camOpts    ebiten.DrawImageOptions
	camDirty   bool    // features changed since the last upload
	camSettle  int     // frames since then; the blend stops once settled
	motion     float64 // smoothed, for the inject pass
	audX, audY float64 // smoothed centroid, for the warp pass

	snd     audio.Features // the newest sound features
	haveSnd bool
	senses  director.Senses // feature values for the drives
	drives  []drive

	params   []liveParam
	byName   map[string]int
	presets  [][]float64 // per preset, the target of every param
	presetAt int         // index into cfg.Presets, -1 for none
	from     []float64
	morphT   float64 // seconds into a preset switch, <0 when none runs

	view     *ebiten.Image // the presented frame at render size, for read-back
	overlay  bool
	sleeping bool
	// steer guards the director, the settings live parameters write into
	// it and steerAsleep (sleeping, for Steer), against Steer's goroutine.
	steer       sync.Mutex
	steerAsleep bool
	frames      uint64
	status      []byte

	genSeq    uint64
	newestAt  time.Duration // clock time of the newest generator frame
	interval  time.Duration // measured time between generator frames
	clock     time.Duration // the game's clock: wall time live, virtual offline
	dt        float64       // seconds of the last tick
	lastTick  time.Time
	virtual   bool
	tickDelta time.Duration

	budget     *budget.Controller
	budgetCfg  budget.Config        // what budget was built for (target 0 offline)
	frameClock func() time.Duration // the budget's clock
	unshown    bool                 // the chain ran and Draw has not shown it yet
}

// NewGame builds the pass chain at the render size. genW×genH is the
// generator's frame size (frames of another size are handled too). dir, the
// latent director, may be nil: its gains are then no live parameters.
func NewGame(cfg Config, genW, genH int, dir *director.Director, driver Driver) (*Game, error) {
	if genW < 1 || genH < 1 {
		return nil, errors.New("scene: generator frame size must be positive")
	}
	chain, err := NewChain(cfg.Passes, cfg.RenderW, cfg.RenderH)
	if err != nil {
		return nil, err
	}
	g := &Game{cfg: cfg, driver: driver, Chain: chain, director: dir, presetAt: -1, morphT: -1, rw: cfg.RenderW, rh: cfg.RenderH}
	start := time.Now()
	g.frameClock = func() time.Duration { return time.Since(start) }
	if g.director != nil {
		g.man = g.director.Manifest()
	}
	g.in.GenOlder = newTarget(cfg.RenderW, cfg.RenderH)
	g.in.GenNewer = newTarget(cfg.RenderW, cfg.RenderH)
	g.in.Flow = newTarget(cfg.RenderW, cfg.RenderH)
	g.in.Flow.Fill(color.RGBA{128, 128, 0, 255})
	g.in.Audience = newTarget(cfg.RenderW, cfg.RenderH)
	g.in.Audience.Fill(color.Black)
	g.in.Residual = newTarget(cfg.RenderW, cfg.RenderH)
	g.view = newTarget(cfg.RenderW, cfg.RenderH)
	g.resizeGen(genW, genH)
	g.startBudget()
	g.camDirty = true
	g.camOpts.Filter = ebiten.FilterLinear
	g.interval = 100 * time.Millisecond
	g.audX, g.audY = 0.5, 0.5
	g.status = make([]byte, 0, 512)
	g.buildParams()
	g.ctl = newControls(g)
	if cfg.Preset != "" {
		g.startPreset(g.presetIndex(cfg.Preset), 0)
	}
	return g, nil
}

// resizeGen (re)allocates the generator's small image: at start, and when a
// model swap changes the frame size.
func (g *Game) resizeGen(w, h int) {
	if g.genSmall != nil {
		g.genSmall.Deallocate()
	}
	g.genSmall = ebiten.NewImage(w, h)
	g.genW, g.genH = w, h
	g.placeGen()
}

// placeGen sets how the generator's frames are drawn onto the render-size
// inputs, by generator.fit, at the size the frame budget renders at now:
// the one place a frame's size meets the canvas, scaled on the GPU.
func (g *Game) placeGen() {
	sx, sy, tx, ty := g.fit.Place(g.genW, g.genH, g.rw, g.rh)
	g.upOpts.GeoM.Reset()
	g.upOpts.GeoM.Scale(sx, sy)
	g.upOpts.GeoM.Translate(tx, ty)
	g.upOpts.Filter = ebiten.FilterLinear
	g.upOpts.Blend = ebiten.BlendCopy
}

// setFit changes how generator frames meet the canvas from the next frame on.
func (g *Game) setFit(f gen.Fit) {
	if f == g.fit {
		return
	}
	g.fit = f
	g.placeGen()
}

// UseVirtualClock makes every tick advance the clock by dt, for offline
// rendering where ticks are not real time.
func (g *Game) UseVirtualClock(dt time.Duration) {
	g.virtual = true
	g.tickDelta = dt
	g.startBudget()
}

// Clock is the game's current time.
func (g *Game) Clock() time.Duration { return g.clock }

// Controls is the live control surface, safe from any goroutine.
func (g *Game) Controls() *Controls { return g.ctl }

// Sleeping reports whether the schedule has put the piece to sleep; drivers
// then stop feeding the generator.
func (g *Game) Sleeping() bool { return g.sleeping }

// Upload shows a new generator frame: the newest becomes the older one of
// the crossfade, and the frame, scaled to the render size, the newest. A
// frame whose pixels do not match its size is dropped.
func (g *Game) Upload(f *gen.Frame) {
	if f == nil || f.Seq == g.genSeq || f.Width < 1 || f.Height < 1 || len(f.Pix) != 4*f.Width*f.Height {
		return
	}
	if f.Width != g.genW || f.Height != g.genH {
		g.resizeGen(f.Width, f.Height)
	}
	g.genSmall.WritePixels(f.Pix)
	g.in.GenOlder, g.in.GenNewer = g.in.GenNewer, g.in.GenOlder
	if g.fit == gen.FitContain {
		g.in.GenNewer.Fill(color.Black) // the bars; the frame covers the rest
	}
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

// SetFeatures hands the game the newest camera features (nil when there is
// no camera). They are copied; nothing is allocated once sizes settle.
func (g *Game) SetFeatures(f *vision.Features) {
	if f == nil {
		g.camDirty = g.camDirty || g.haveFeats
		g.haveFeats = false
		return
	}
	if g.haveFeats && f.Frame == g.feats.Frame && f.T == g.feats.T {
		return // the same camera frame as last tick
	}
	g.feats.CopyFrom(f)
	g.haveFeats = true
	g.camDirty = true
}

// Update advances the clock, applies live control, lets the driver feed the
// game, and runs the chain once.
func (g *Game) Update() error {
	prev := g.clock
	if g.virtual {
		g.clock += g.tickDelta
	} else {
		now := time.Now()
		if !g.lastTick.IsZero() {
			g.clock += min(now.Sub(g.lastTick), 250*time.Millisecond)
		}
		g.lastTick = now
	}
	g.dt = (g.clock - prev).Seconds()
	g.ctl.reconfigure(g)
	g.ctl.apply(g)
	if inpututil.IsKeyJustPressed(ebiten.KeyF) {
		ebiten.SetFullscreen(!ebiten.IsFullscreen())
	}
	if inpututil.IsKeyJustPressed(ebiten.KeyD) {
		g.overlay = !g.overlay
	}
	if inpututil.IsKeyJustPressed(ebiten.KeyP) && len(g.presets) > 0 {
		g.startPreset((g.presetAt+1)%len(g.presets), g.cfg.PresetTime)
	}
	if inpututil.IsKeyJustPressed(ebiten.KeyEscape) && g.cfg.AllowQuit {
		return ebiten.Termination
	}
	g.stepPreset(g.dt)
	if err := g.driver.Tick(g); err != nil {
		return err
	}
	g.stepDrives(g.dt)
	g.applyDrives()
	// Live, Ebiten calls Update up to 60 times a second, several times
	// per displayed frame when the display is slower: the chain runs once
	// per displayed frame, so a slow display does not also pay for
	// frames nobody sees.
	if !g.sleeping && (g.virtual || !g.unshown) {
		g.dreamBefore()
		g.StepChain()
		g.dreamAfter()
		g.unshown = !g.virtual
		g.budgetFrame()
	}
	err := g.driver.AfterChain(g)
	g.restoreDrives()
	g.frames++
	g.ctl.publish(g)
	return err
}

// StepChain updates the camera inputs and the scene-set uniforms, then runs
// every pass once.
func (g *Game) StepChain() {
	fade := float32(1)
	if g.interval > 0 {
		fade = min(1, float32(g.clock-g.newestAt)/float32(g.interval))
	}
	if g.virtual {
		fade = 1 // offline, every output frame has its own generator frame
	}
	dt := g.dt
	if dt <= 0 {
		dt = 1.0 / 60
	}
	// Camera inputs follow with a short time constant: the camera runs
	// slower than the display, and a new grid must not pop.
	k := 1 - math.Exp(-dt/0.15)
	var motion, level float64
	tx, ty := 0.5, 0.5
	if w := g.Chain.Pass("warp"); w != nil {
		cx, _ := w.Get("center_x")
		cy, _ := w.Get("center_y")
		tx, ty = float64(cx), float64(cy)
	}
	if g.haveFeats {
		motion, level = float64(g.feats.Motion), float64(g.feats.Level)
		// Lean toward where the audience is, as far as they are there.
		tx += (float64(g.feats.Centroid[0]) - tx) * level
		ty += (float64(g.feats.Centroid[1]) - ty) * level
	}
	g.motion += (motion - g.motion) * k
	g.audX += (tx - g.audX) * k * 0.5
	g.audY += (ty - g.audY) * k * 0.5
	g.uploadCamera(k)

	g.Chain.SetAll("Fade", fade)
	g.Chain.SetAll("Motion", float32(g.motion))
	g.Chain.SetAll("Level", float32(level))
	g.Chain.SetAll("AudienceX", float32(g.audX))
	g.Chain.SetAll("AudienceY", float32(g.audY))
	g.Chain.Step(&g.in)
}

// screenGeo places the render-size picture on a w×h screen: fitted with bars,
// filled by cropping, or in between, as the output pass's fill says.
func (g *Game) screenGeo(w, h int) ebiten.GeoM {
	rw, rh := float64(g.rw), float64(g.rh)
	fit := math.Min(float64(w)/rw, float64(h)/rh)
	fill := math.Max(float64(w)/rw, float64(h)/rh)
	f, _ := g.Chain.Out.Get("fill")
	s := fit + (fill-fit)*float64(f)
	g.geo.Reset()
	g.geo.Scale(s, s)
	g.geo.Translate((float64(w)-rw*s)/2, (float64(h)-rh*s)/2)
	return g.geo
}

// Draw shows the chain's output through the output pass, scaled to the
// screen, and the technician's overlay when D has turned it on.
func (g *Game) Draw(screen *ebiten.Image) {
	g.unshown = false
	b := screen.Bounds()
	if !g.sleeping {
		g.applyDrives() // the output pass's parameters may be driven too
		g.Chain.Present(screen, g.screenGeo(b.Dx(), b.Dy()))
		g.restoreDrives()
	}
	if g.overlay {
		ebitenutil.DebugPrint(screen, string(g.overlayText()))
	}
}

// ReadFrame presents the latest result at the render size (output pass
// included) and reads it into pix (4·w·h bytes). Only inside the game loop.
func (g *Game) ReadFrame(pix []byte) {
	if g.sleeping {
		g.view.Fill(color.Black)
	} else {
		var geo ebiten.GeoM // the render scale's size back to the configured one
		geo.Scale(float64(g.cfg.RenderW)/float64(g.rw), float64(g.cfg.RenderH)/float64(g.rh))
		g.Chain.Present(g.view, geo)
	}
	g.view.ReadPixels(pix)
}

// Layout makes the logical screen the window's own size times the frame
// budget's scale, so the output pass scales the render size to it and, when
// the budget has lowered the scale, runs on that many fewer pixels too;
// Ebiten's own last draw then fills the window. A zero size (a monitor
// going away) falls back to the render size.
func (g *Game) Layout(w, h int) (int, int) {
	if w < 1 || h < 1 {
		return g.rw, g.rh
	}
	s := g.budget.State().Scale
	return max(1, int(math.Round(float64(w)*s))), max(1, int(math.Round(float64(h)*s)))
}

// Dispose frees the game's images and shaders.
func (g *Game) Dispose() {
	g.closeDream()
	g.Chain.Dispose()
	for _, img := range []*ebiten.Image{g.genSmall, g.in.GenOlder, g.in.GenNewer, g.in.Flow, g.in.Audience, g.in.Residual, g.view, g.flowSmall, g.audSmall, g.screenPic.img} {
		if img != nil {
			img.Deallocate()
		}
	}
}

// newRGBA is a frame-sized image for read-back.
func newRGBA(w, h int) *image.RGBA { return image.NewRGBA(image.Rect(0, 0, w, h)) }

// IsTermination reports whether err is Ebiten's regular end of the game.
func IsTermination(err error) bool { return errors.Is(err, ebiten.Termination) }

package scene

import (
	"errors"
	"image"
	"image/color"
	"math"
	"strconv"
	"time"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/ebitenutil"
	"github.com/hajimehoshi/ebiten/v2/inpututil"

	"reverie/director"
	"reverie/gen"
	"reverie/vision"
)

// Driver feeds the game: the live installation polls the camera and the
// runner, offline rendering steps everything in lockstep. Every method runs
// on the game loop. The game owns the director; a driver steps the one
// Director returns.
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

// flowRange is the flow, in frame widths per second, that the flow texture's
// full scale stands for (FlowRange in flow.kage).
const flowRange = 2.0

// liveParam is one parameter that presets and live control can change.
type liveParam struct {
	info ParamInfo // Value is the configured (base) value
	f32  *float32  // a pass uniform, or
	f64  *float64  // a director setting
	held bool      // set by hand since the last preset: presets leave it
}

func (p *liveParam) get() float64 {
	if p.f32 != nil {
		return float64(*p.f32)
	}
	return *p.f64
}

func (p *liveParam) set(v float64) {
	if p.f32 != nil {
		*p.f32 = float32(v)
	} else {
		*p.f64 = v
	}
}

// Game is the Ebiten game: it uploads generator frames, crossfades between
// the two newest, runs the feedback chain and shows the result.
type Game struct {
	cfg      Config
	driver   Driver
	Chain    *Chain
	director *director.Director
	man      *gen.Manifest // the model the director is built for, nil if unknown
	inputs   ModelInputs   // the generator's inputs, for presets (nil until wired)
	genKeys  []string      // generator.* keys the presets set
	ctl      *Controls
	dream    *dreamer // the deepdream pass's neural dream, nil until it runs

	in         Inputs
	genSmall   *ebiten.Image // generator frames at their own size
	genW, genH int
	upOpts     ebiten.DrawImageOptions
	geo        ebiten.GeoM

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

	params   []liveParam
	byName   map[string]int
	presets  [][]float64 // per preset, the target of every param
	presetAt int         // index into cfg.Presets, -1 for none
	from     []float64
	morphT   float64 // seconds into a preset switch, <0 when none runs

	view     *ebiten.Image // the presented frame at render size, for read-back
	overlay  bool
	sleeping bool
	frames   uint64
	status   []byte

	genSeq    uint64
	newestAt  time.Duration // clock time of the newest generator frame
	interval  time.Duration // measured time between generator frames
	clock     time.Duration // the game's clock: wall time live, virtual offline
	dt        float64       // seconds of the last tick
	lastTick  time.Time
	virtual   bool
	tickDelta time.Duration
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
	g := &Game{cfg: cfg, driver: driver, Chain: chain, director: dir, presetAt: -1, morphT: -1}
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

// buildParams lists every live parameter with where it lives, and each
// preset's target for it.
func (g *Game) buildParams() {
	specs := paramSpecs(&g.cfg)
	add := func(name string, f32 *float32, f64 *float64) {
		info, ok := specs[name]
		if !ok {
			return
		}
		lp := liveParam{info: info, f32: f32, f64: f64}
		lp.info.Value = lp.get()
		g.params = append(g.params, lp)
	}
	passes := g.Chain.Passes
	if g.Chain.OutCfg {
		passes = append(passes[:len(passes):len(passes)], g.Chain.Out)
	}
	for _, p := range passes {
		for _, prm := range p.Params() {
			add(p.ID+"."+prm.Name, p.slot(prm.Name), nil)
		}
	}
	if d := g.director; d != nil {
		// The director's own config names its mappings.
		dc := g.cfg
		dc.Director = d.Settings()
		for name, info := range paramSpecs(&dc) {
			if s := d.ParamSlot(name); s != nil {
				specs[name] = info
				add(name, nil, s)
			}
		}
	}
	g.byName = map[string]int{}
	for i, p := range g.params {
		g.byName[p.info.Name] = i
	}
	g.from = make([]float64, len(g.params))
	g.genKeys = genPresetKeys(g.cfg.Presets)
	for _, ps := range g.cfg.Presets {
		to := make([]float64, len(g.params))
		for i, p := range g.params {
			to[i] = p.info.Value
			if v, ok := ps.Params[p.info.Name]; ok {
				to[i] = v
			}
		}
		g.presets = append(g.presets, to)
	}
}

func (g *Game) presetIndex(name string) int {
	for i, p := range g.cfg.Presets {
		if p.Name == name {
			return i
		}
	}
	return -1
}

// startPreset begins interpolating every parameter not held by hand toward
// preset i over seconds.
func (g *Game) startPreset(i int, seconds float64) {
	if i < 0 || i >= len(g.presets) {
		return
	}
	g.presetAt = i
	g.applyModelPreset(i, nil)
	for k := range g.params {
		g.params[k].held = false
		g.from[k] = g.params[k].get()
	}
	g.morphT = 0
	if seconds <= 0 {
		g.morphT = -1
		for k := range g.params {
			g.params[k].set(g.presets[i][k])
		}
	}
}

// stepPreset advances a preset switch by dt seconds.
func (g *Game) stepPreset(dt float64) {
	if g.morphT < 0 || g.presetAt < 0 {
		return
	}
	g.morphT += dt
	s := 1.0
	if T := g.cfg.PresetTime; T > 0 {
		s = math.Min(1, g.morphT/T)
	}
	s = s * s * (3 - 2*s)
	to := g.presets[g.presetAt]
	for k := range g.params {
		if !g.params[k].held {
			g.params[k].set(g.from[k] + (to[k]-g.from[k])*s)
		}
	}
	if s >= 1 {
		g.morphT = -1
	}
}

// resizeGen (re)allocates the generator's small image: at start, and when a
// model swap changes the frame size.
func (g *Game) resizeGen(w, h int) {
	if g.genSmall != nil {
		g.genSmall.Deallocate()
	}
	g.genSmall = ebiten.NewImage(w, h)
	g.genW, g.genH = w, h
	g.upOpts.GeoM.Reset()
	g.upOpts.GeoM.Scale(float64(g.cfg.RenderW)/float64(w), float64(g.cfg.RenderH)/float64(h))
	g.upOpts.Filter = ebiten.FilterLinear
	g.upOpts.Blend = ebiten.BlendCopy
}

// UseVirtualClock makes every tick advance the clock by dt, for offline
// rendering where ticks are not real time.
func (g *Game) UseVirtualClock(dt time.Duration) {
	g.virtual = true
	g.tickDelta = dt
}

// Clock is the game's current time.
func (g *Game) Clock() time.Duration { return g.clock }

// Director is the latent director the driver steps, nil for none. A model
// swap or a reload replaces it in the game loop.
func (g *Game) Director() *director.Director { return g.director }

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
	if !g.sleeping {
		g.dreamBefore()
		g.StepChain()
		g.dreamAfter()
	}
	err := g.driver.AfterChain(g)
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

// uploadCamera encodes the flow field and the motion grid into their small
// images and blends them, scaled up, into the render-size inputs by k.
func (g *Game) uploadCamera(k float64) {
	if !g.camDirty {
		// The blend converges within a second; after that the inputs
		// are exact and need no redraw.
		if g.camSettle < 120 {
			g.camSettle++
			g.blendUp(g.in.Flow, g.flowSmall, k)
			g.blendUp(g.in.Audience, g.audSmall, k)
		}
		return
	}
	g.camDirty, g.camSettle = false, 0
	f := &g.feats
	fw, fh := 1, 1
	haveFlow := g.haveFeats && f.FlowW > 0 && f.FlowH > 0 && len(f.FlowField) == 2*f.FlowW*f.FlowH
	if haveFlow {
		fw, fh = f.FlowW, f.FlowH
	}
	g.flowSmall, g.flowPix = ensureSmall(g.flowSmall, g.flowPix, fw, fh)
	for i := 0; i < fw*fh; i++ {
		dx, dy := 0.0, 0.0
		if haveFlow {
			dx, dy = float64(f.FlowField[2*i]), float64(f.FlowField[2*i+1])
		}
		g.flowPix[4*i] = encode(dx)
		g.flowPix[4*i+1] = encode(dy)
		g.flowPix[4*i+2] = 0
		g.flowPix[4*i+3] = 255
	}
	g.flowSmall.WritePixels(g.flowPix)
	g.blendUp(g.in.Flow, g.flowSmall, k)

	// The audience map is the silhouette where the analysis sends one, and
	// the coarser motion grid otherwise.
	aw, ah := 1, 1
	haveMask := g.haveFeats && f.MaskW > 0 && f.MaskH > 0 && len(f.Mask) == f.MaskW*f.MaskH
	haveGrid := !haveMask && g.haveFeats && f.GridW > 0 && f.GridH > 0 && len(f.Grid) == f.GridW*f.GridH
	switch {
	case haveMask:
		aw, ah = f.MaskW, f.MaskH
	case haveGrid:
		aw, ah = f.GridW, f.GridH
	}
	g.audSmall, g.audPix = ensureSmall(g.audSmall, g.audPix, aw, ah)
	for i := 0; i < aw*ah; i++ {
		var e byte
		switch {
		case haveMask:
			e = f.Mask[i]
		case haveGrid:
			e = byte(255 * math.Max(0, math.Min(1, float64(f.Grid[i]))))
		}
		g.audPix[4*i], g.audPix[4*i+1], g.audPix[4*i+2], g.audPix[4*i+3] = e, e, e, 255
	}
	g.audSmall.WritePixels(g.audPix)
	g.blendUp(g.in.Audience, g.audSmall, k)
}

// encode maps a flow value to a byte, 128 meaning still.
func encode(v float64) byte {
	return byte(math.Max(0, math.Min(255, math.Round(127.5+127.5*v/flowRange))))
}

// ensureSmall keeps a w×h image and its pixel buffer, reallocating only when
// the size changes.
func ensureSmall(img *ebiten.Image, pix []byte, w, h int) (*ebiten.Image, []byte) {
	if img != nil {
		if b := img.Bounds(); b.Dx() == w && b.Dy() == h {
			return img, pix
		}
		img.Deallocate()
	}
	return ebiten.NewImage(w, h), make([]byte, 4*w*h)
}

// blendUp draws small scaled to dst's size with a linear filter, mixed in by k.
func (g *Game) blendUp(dst, small *ebiten.Image, k float64) {
	sb, db := small.Bounds(), dst.Bounds()
	g.camOpts.GeoM.Reset()
	g.camOpts.GeoM.Scale(float64(db.Dx())/float64(sb.Dx()), float64(db.Dy())/float64(sb.Dy()))
	g.camOpts.ColorScale.Reset()
	g.camOpts.ColorScale.ScaleAlpha(float32(k))
	dst.DrawImage(small, &g.camOpts)
}

// screenGeo places the render-size picture on a w×h screen: fitted with bars,
// filled by cropping, or in between, as the output pass's fill says.
func (g *Game) screenGeo(w, h int) ebiten.GeoM {
	rw, rh := float64(g.cfg.RenderW), float64(g.cfg.RenderH)
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
	b := screen.Bounds()
	if !g.sleeping {
		g.Chain.Present(screen, g.screenGeo(b.Dx(), b.Dy()))
	}
	if g.overlay {
		ebitenutil.DebugPrint(screen, string(g.overlayText()))
	}
}

func (g *Game) overlayText() []byte {
	s := g.status[:0]
	s = append(s, "fps "...)
	s = strconv.AppendFloat(s, ebiten.ActualFPS(), 'f', 1, 64)
	s = append(s, "  frames "...)
	s = strconv.AppendUint(s, g.frames, 10)
	s = append(s, "  render "...)
	s = strconv.AppendInt(s, int64(g.cfg.RenderW), 10)
	s = append(s, 'x')
	s = strconv.AppendInt(s, int64(g.cfg.RenderH), 10)
	s = append(s, "\npreset "...)
	if g.presetAt >= 0 {
		s = append(s, g.cfg.Presets[g.presetAt].Name...)
	} else {
		s = append(s, "(none)"...)
	}
	s = append(s, "\npresence "...)
	if g.haveFeats {
		s = strconv.AppendFloat(s, float64(g.feats.Level), 'f', 2, 32)
		if g.feats.Presence {
			s = append(s, " (someone is there)"...)
		}
		s = append(s, "  motion "...)
		s = strconv.AppendFloat(s, float64(g.feats.Motion), 'f', 2, 32)
	} else {
		s = append(s, "no camera features"...)
	}
	s = append(s, '\n')
	s = g.driver.AppendStatus(s)
	s = g.appendDream(s)
	if g.sleeping {
		s = append(s, "\nasleep (schedule)"...)
	}
	g.status = s
	return s
}

// ReadFrame presents the latest result at the render size (output pass
// included) and reads it into pix (4·w·h bytes). Only inside the game loop.
func (g *Game) ReadFrame(pix []byte) {
	if g.sleeping {
		g.view.Fill(color.Black)
	} else {
		var id ebiten.GeoM
		g.Chain.Present(g.view, id)
	}
	g.view.ReadPixels(pix)
}

// Layout makes the logical screen the window's own size, so the output pass
// scales the render size to it; a zero size (a monitor going away) falls
// back to the render size.
func (g *Game) Layout(w, h int) (int, int) {
	if w < 1 || h < 1 {
		return g.cfg.RenderW, g.cfg.RenderH
	}
	return w, h
}

// Dispose frees the game's images and shaders.
func (g *Game) Dispose() {
	g.closeDream()
	g.Chain.Dispose()
	for _, img := range []*ebiten.Image{g.genSmall, g.in.GenOlder, g.in.GenNewer, g.in.Flow, g.in.Audience, g.in.Residual, g.view, g.flowSmall, g.audSmall} {
		if img != nil {
			img.Deallocate()
		}
	}
}

// newRGBA is a frame-sized image for read-back.
func newRGBA(w, h int) *image.RGBA { return image.NewRGBA(image.Rect(0, 0, w, h)) }

// IsTermination reports whether err is Ebiten's regular end of the game.
func IsTermination(err error) bool { return errors.Is(err, ebiten.Termination) }

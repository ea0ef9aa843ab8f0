package scene

import (
	"log/slog"
	"math"
	"strconv"

	"github.com/hajimehoshi/ebiten/v2"

	"reverie/gen/dream"
)

// dreamer connects the deepdream pass to the neural dream: each frame it
// uploads the newest residual for the pass to add, and hands the dream the
// newest feedback picture, scaled down to the dream's size. It never waits:
// a frame without a new residual adds nothing.
type dreamer struct {
	cfg    dream.Config
	live   *dream.Live
	w, h   int
	small  *ebiten.Image // the residual at the dream's size
	pic    *ebiten.Image // the feedback picture at the dream's size
	res    []byte
	down   ebiten.DrawImageOptions
	up     ebiten.DrawImageOptions
	warned bool
}

// dreamPass is the chain's deepdream pass, or nil.
func (g *Game) dreamPass() *Pass { return g.Chain.Pass("deepdream") }

// dreamBefore runs before the chain: it starts the dream on the first frame
// that has a deepdream pass, and uploads a new residual when there is one.
func (g *Game) dreamBefore() {
	p := g.dreamPass()
	if p == nil {
		g.closeDream() // a reload took the pass out
		return
	}
	p.Set("Apply", 0)
	p.Set("Gain", dream.ResidualGain)
	d := g.dream
	if d == nil || d.cfg != g.cfg.Dream {
		g.closeDream()
		d = &dreamer{cfg: g.cfg.Dream, live: dream.Start(g.cfg.Dream, g.virtual)}
		d.live.SetShare(g.budget.State().Share)
		g.dream = d
	}
	if err := d.live.Err(); err != nil {
		if !d.warned {
			// One line: the pass then shows the picture unchanged.
			slog.Warn("deepdream pass is off; the picture passes through it unchanged", "err", err)
			d.warned = true
		}
		return
	}
	w, h := d.live.Size()
	if w != d.w || h != d.h {
		d.resize(w, h, g.rw, g.rh)
	}
	if d.res == nil {
		return
	}
	if !d.live.Take(d.res) {
		return
	}
	d.small.WritePixels(d.res)
	g.in.Residual.DrawImage(d.small, &d.up)
	p.Set("Apply", 1)
}

// dreamAfter hands the dream the chain's newest picture when it wants one,
// with the pass's parameters as the audience shapes them.
func (g *Game) dreamAfter() {
	p, d := g.dreamPass(), g.dream
	if p == nil || d == nil || d.res == nil || !d.live.Ready() {
		return
	}
	d.pic.DrawImage(g.Chain.Output(), &d.down)
	buf := d.live.InputBuffer()
	if len(buf) != len(d.res) {
		return
	}
	d.pic.ReadPixels(buf)
	level := float32(0)
	if g.haveFeats {
		level = g.feats.Level
	}
	get := func(name string) float32 { v, _ := p.Get(name); return v }
	layer := int(math.Round(float64(get("layer")+get("presence_layers")*level))) - 1
	if err := d.live.Submit(dream.Params{
		Step:        get("step") * (1 + get("presence_step")*level),
		Layer:       layer,
		Octaves:     int(math.Round(float64(get("octaves")))),
		OctaveScale: get("octave_scale"),
		Jitter:      get("jitter"),
	}); err != nil && !d.warned {
		slog.Warn("deepdream pass is off; the picture passes through it unchanged", "err", err)
		d.warned = true
	}
}

func (d *dreamer) resize(w, h, rw, rh int) {
	d.dispose()
	d.w, d.h = w, h
	d.small, d.pic = ebiten.NewImage(w, h), ebiten.NewImage(w, h)
	d.res = make([]byte, 4*w*h)
	d.place(rw, rh)
}

// place scales the dream's pictures to and from the render size rw×rh.
func (d *dreamer) place(rw, rh int) {
	d.up = ebiten.DrawImageOptions{Filter: ebiten.FilterLinear, Blend: ebiten.BlendCopy}
	d.up.GeoM.Scale(float64(rw)/float64(d.w), float64(rh)/float64(d.h))
	d.down = ebiten.DrawImageOptions{Filter: ebiten.FilterLinear, Blend: ebiten.BlendCopy}
	d.down.GeoM.Scale(float64(d.w)/float64(rw), float64(d.h)/float64(rh))
}

func (d *dreamer) dispose() {
	if d.small != nil {
		d.small.Deallocate()
		d.pic.Deallocate()
	}
}

// closeDream stops the dream, if one runs.
func (g *Game) closeDream() {
	if g.dream != nil {
		g.dream.live.Close()
		g.dream.dispose()
		g.dream = nil
	}
}

// dreamState is the dream's state for the overlay and /api/status: "" when
// the chain has no deepdream pass, "starting", "on", or "off: why".
func (g *Game) dreamState() (state string, steps uint64, stepMs float64) {
	if g.dreamPass() == nil || g.dream == nil {
		return "", 0, 0
	}
	if err := g.dream.live.Err(); err != nil {
		return "off: " + err.Error(), 0, 0
	}
	n, mean := g.dream.live.Stats()
	if n == 0 {
		return "starting", 0, 0
	}
	return "on", n, float64(mean.Microseconds()) / 1000
}

// appendDream adds the dream's line to the overlay.
func (g *Game) appendDream(s []byte) []byte {
	state, steps, ms := g.dreamState()
	if state == "" {
		return s
	}
	s = append(s, "\ndream "...)
	if state != "on" {
		return append(s, state...)
	}
	s = strconv.AppendUint(s, steps, 10)
	s = append(s, " steps, "...)
	s = strconv.AppendFloat(s, ms, 'f', 1, 64)
	return append(s, " ms each"...)
}

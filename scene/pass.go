package scene

import (
	"fmt"
	"image"
	"strings"

	"github.com/hajimehoshi/ebiten/v2"

	"reverie/shaders"
)

// Param is one tunable number of a pass, declared beside its Kage file.
type Param = shaders.Param

// Inputs are the images a pass may read besides the fed-back image. Each has
// the render size, because every source of one Kage draw must.
type Inputs struct {
	GenOlder, GenNewer *ebiten.Image // the two newest generator frames
	Flow               *ebiten.Image // camera flow: red x, green y, 0.5 still
	Audience           *ebiten.Image // where people move: red 0..1
	Residual           *ebiten.Image // the neural dream's newest change, around mid-grey
}

// passDef is a kind of pass: its declaration (shaders) and the images its
// declared sources name.
type passDef struct {
	params    []Param
	sources   []string // Inputs by name: gen_older, gen_newer, flow, audience, residual
	dynamic   []string // uniforms the scene sets every frame
	pointwise bool     // runs in the previous pass's draw (shaders.Pass.Pointwise)
}

// lookupPass finds a pass kind's declaration.
func lookupPass(name string) (passDef, bool) {
	p, ok := shaders.Lookup(name)
	return passDef{params: p.Params, sources: p.Sources, dynamic: p.Dynamic, pointwise: p.Pointwise}, ok
}

// image returns the input a pass's source name stands for.
func (in *Inputs) image(name string) *ebiten.Image {
	switch name {
	case "gen_older":
		return in.GenOlder
	case "gen_newer":
		return in.GenNewer
	case "flow":
		return in.Flow
	case "audience":
		return in.Audience
	case "residual":
		return in.Residual
	}
	return nil
}

// PassNames lists the kinds of pass the chain accepts.
func PassNames() []string { return shaders.Passes() }

// uniformName maps a config key to its Kage uniform: center_x → CenterX.
func uniformName(key string) string {
	parts := strings.Split(key, "_")
	for i, p := range parts {
		if p != "" {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, "")
}

// PassIDs names each pass of a chain: its kind, and "warp#2" for the second
// pass of one kind.
func PassIDs(passes []PassConfig) []string {
	seen := map[string]int{}
	ids := make([]string, len(passes))
	for i, pc := range passes {
		seen[pc.Pass]++
		ids[i] = pc.Pass
		if n := seen[pc.Pass]; n > 1 {
			ids[i] = fmt.Sprintf("%s#%d", pc.Pass, n)
		}
	}
	return ids
}

// Pass is one compiled step of the feedback chain with its live parameters.
type Pass struct {
	Name     string // the kind: warp, flow, …
	ID       string // the name live controls use: warp, or warp#2
	def      passDef
	shader   *ebiten.Shader
	uniforms map[string]any       // values are one-element slices, updated in place
	values   map[string][]float32 // the same slices, by config key or uniform name
	opts     ebiten.DrawRectShaderOptions
}

// NewPass compiles the named pass with the given parameters; missing ones
// take their defaults.
func NewPass(pc PassConfig) (*Pass, error) {
	def, ok := lookupPass(pc.Pass)
	if !ok {
		return nil, fmt.Errorf("pass %q: expected one of %s", pc.Pass, strings.Join(PassNames(), ", "))
	}
	src, err := shaders.Source(pc.Pass)
	if err != nil {
		return nil, err
	}
	sh, err := ebiten.NewShader(src)
	if err != nil {
		return nil, fmt.Errorf("shader %s.kage does not compile: %v", pc.Pass, err)
	}
	p := &Pass{Name: pc.Pass, ID: pc.Pass, def: def, shader: sh, uniforms: map[string]any{}, values: map[string][]float32{}}
	for _, prm := range def.params {
		v := []float32{float32(prm.Default)}
		if x, ok := pc.Params[prm.Name]; ok {
			v[0] = float32(x)
		}
		p.values[prm.Name] = v
		p.uniforms[uniformName(prm.Name)] = v
	}
	for _, u := range def.dynamic {
		v := []float32{0}
		p.values[u] = v
		p.uniforms[u] = v
	}
	p.opts.Uniforms = p.uniforms
	return p, nil
}

// Params lists the pass kind's parameters.
func (p *Pass) Params() []Param { return p.def.params }

// Set changes a parameter (config key) or a dynamic uniform. It allocates
// nothing.
func (p *Pass) Set(name string, v float32) bool {
	s, ok := p.values[name]
	if ok {
		s[0] = v
	}
	return ok
}

// Get reads a parameter's current value.
func (p *Pass) Get(name string) (float32, bool) {
	s, ok := p.values[name]
	if !ok {
		return 0, false
	}
	return s[0], true
}

// slot is where a parameter's value lives, for presets and live control.
func (p *Pass) slot(name string) *float32 {
	if s, ok := p.values[name]; ok {
		return &s[0]
	}
	return nil
}

// Draw runs the pass from src into dst. dst and src must differ.
func (p *Pass) Draw(dst, src *ebiten.Image, in *Inputs) {
	p.bind(src, in)
	p.opts.GeoM.Reset()
	b := src.Bounds()
	dst.DrawRectShader(b.Dx(), b.Dy(), p.shader, &p.opts)
}

// DrawScaled runs the pass with src placed on dst by geo, for the output
// pass, whose destination is the screen.
func (p *Pass) DrawScaled(dst, src *ebiten.Image, geo ebiten.GeoM) {
	p.bind(src, nil)
	p.opts.GeoM = geo
	b := src.Bounds()
	dst.DrawRectShader(b.Dx(), b.Dy(), p.shader, &p.opts)
}

func (p *Pass) bind(src *ebiten.Image, in *Inputs) { p.bindTo(&p.opts, src, in) }

// bindTo puts src and the pass's source images into o.
func (p *Pass) bindTo(o *ebiten.DrawRectShaderOptions, src *ebiten.Image, in *Inputs) {
	o.Images[0] = src
	for i := 1; i < len(o.Images); i++ {
		o.Images[i] = nil
	}
	if in != nil {
		for i, name := range p.def.sources {
			o.Images[i+1] = in.image(name)
		}
	}
}

// Dispose frees the compiled shader.
func (p *Pass) Dispose() { p.shader.Deallocate() }

// Chain is the ordered feedback chain over two offscreen images swapped each
// pass, since Ebiten cannot draw an image into itself. The output pass is
// not fed back: it runs only when the result goes on screen.
type Chain struct {
	Passes []*Pass // the feedback passes, in config order
	Out    *Pass   // the output pass; a plain one when the config has none
	OutCfg bool    // whether the config lists the output pass
	buf    [2]*ebiten.Image
	cur    int     // index of the buffer holding the latest output
	draws  []*draw // what Step draws: a pass, or a pass and the pointwise one after it
}

// draw is one full-size draw of the chain: a pass alone, or a pass with
// the pointwise pass after it fused into one shader (shaders.Fuse), which
// reads the first pass's images and both passes' uniforms (the same
// values, updated in place).
type draw struct {
	pass, then *Pass // then is nil for a pass alone
	shader     *ebiten.Shader
	opts       ebiten.DrawRectShaderOptions
}

// NewChain compiles the passes and allocates the buffers at w×h. A
// pointwise pass (color) runs in the draw of the pass before it.
func NewChain(passes []PassConfig, w, h int) (*Chain, error) {
	return newChain(passes, w, h, true)
}

// newChain is NewChain; fuse false draws every pass on its own (a test
// compares the two).
func newChain(passes []PassConfig, w, h int, fuse bool) (*Chain, error) {
	c := &Chain{}
	ids := PassIDs(passes)
	for i, pc := range passes {
		p, err := NewPass(pc)
		if err != nil {
			c.Dispose()
			return nil, fmt.Errorf("scene.passes[%d]: %w", i, err)
		}
		p.ID = ids[i]
		if pc.Pass == "output" {
			if c.Out != nil {
				p.Dispose()
				c.Dispose()
				return nil, fmt.Errorf("scene.passes[%d]: a second output pass; the chain has one screen", i)
			}
			c.Out, c.OutCfg = p, true
			continue
		}
		c.Passes = append(c.Passes, p)
	}
	if c.Out == nil {
		p, err := NewPass(PassConfig{Pass: "output", Params: map[string]float64{"vignette": 0}})
		if err != nil {
			c.Dispose()
			return nil, err
		}
		c.Out = p
	}
	c.planDraws(fuse)
	for i := range c.buf {
		c.buf[i] = newTarget(w, h)
	}
	return c, nil
}

// planDraws pairs each pointwise pass with the pass before it where the two
// fuse into one shader; a pair that does not compile is drawn apart.
func (c *Chain) planDraws(fuse bool) {
	for i := 0; i < len(c.Passes); i++ {
		d := &draw{pass: c.Passes[i]}
		c.draws = append(c.draws, d)
		if !fuse || i+1 == len(c.Passes) || !c.Passes[i+1].def.pointwise {
			continue
		}
		src, err := shaders.Fuse(d.pass.Name, c.Passes[i+1].Name)
		if err != nil {
			continue
		}
		sh, err := ebiten.NewShader(src)
		if err != nil {
			continue // drawn apart, as before fusing
		}
		d.then, d.shader = c.Passes[i+1], sh
		d.opts.Uniforms = make(map[string]any, len(d.pass.uniforms)+len(d.then.uniforms))
		for _, p := range []*Pass{d.pass, d.then} {
			for k, v := range p.uniforms {
				d.opts.Uniforms[k] = v
			}
		}
		i++
	}
}

// Step runs every pass once, each reading the previous one's output, and
// returns the final image, which is also the next frame's feedback input.
func (c *Chain) Step(in *Inputs) *ebiten.Image {
	for _, d := range c.draws {
		src, dst := c.buf[c.cur], c.buf[1-c.cur]
		if d.then == nil {
			d.pass.Draw(dst, src, in)
		} else {
			d.pass.bindTo(&d.opts, src, in)
			b := src.Bounds()
			dst.DrawRectShader(b.Dx(), b.Dy(), d.shader, &d.opts)
		}
		c.cur = 1 - c.cur
	}
	return c.buf[c.cur]
}

// Draws is how many full-size draws a Step makes.
func (c *Chain) Draws() int { return len(c.draws) }

// Resize resamples the feedback buffers to w×h: the chain goes on from the
// picture it had, at the new size.
func (c *Chain) Resize(w, h int) {
	for i := range c.buf {
		c.buf[i] = resample(c.buf[i], w, h)
	}
}

// SetAll sets a dynamic uniform on every pass that has it.
func (c *Chain) SetAll(name string, v float32) {
	for _, p := range c.Passes {
		p.Set(name, v)
	}
}

// Seed replaces the fed-back image with img.
func (c *Chain) Seed(img *ebiten.Image) {
	c.buf[c.cur].DrawImage(img, &ebiten.DrawImageOptions{Blend: ebiten.BlendCopy})
}

// Output is the latest result of the feedback passes (before the output
// pass).
func (c *Chain) Output() *ebiten.Image { return c.buf[c.cur] }

// Present draws the latest result through the output pass into dst, scaled
// by geo.
func (c *Chain) Present(dst *ebiten.Image, geo ebiten.GeoM) {
	c.Out.DrawScaled(dst, c.buf[c.cur], geo)
}

// Pass returns the first pass of the given kind, or nil.
func (c *Chain) Pass(name string) *Pass {
	for _, p := range c.Passes {
		if p.Name == name {
			return p
		}
	}
	if name == "output" {
		return c.Out
	}
	return nil
}

// newTarget makes a render-size image that shader draws read and write:
// an unmanaged one, with a texture of its own. Managed images share
// Ebiten's atlas, and a feedback buffer there was read stale on every
// other frame when the chain had an odd number of passes: a one-pass chain
// (inject at mix 1, then output) strobed at half the frame rate.
func newTarget(w, h int) *ebiten.Image {
	return ebiten.NewImageWithOptions(image.Rect(0, 0, w, h), &ebiten.NewImageOptions{Unmanaged: true})
}

// Dispose frees shaders and buffers.
func (c *Chain) Dispose() {
	for _, p := range c.Passes {
		p.Dispose()
	}
	for _, d := range c.draws {
		if d.shader != nil {
			d.shader.Deallocate()
		}
	}
	if c.Out != nil {
		c.Out.Dispose()
	}
	for _, b := range c.buf {
		if b != nil {
			b.Deallocate()
		}
	}
}

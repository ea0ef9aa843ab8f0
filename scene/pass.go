package scene

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hajimehoshi/ebiten/v2"

	"reverie/shaders"
)

// Param is one tunable number of a pass, as config.yaml names it.
type Param struct {
	Name     string // config key, e.g. "center_x"
	Default  float64
	Min, Max float64
	Doc      string
}

// Inputs are the images a pass may read besides the fed-back image. Each has
// the render size.
type Inputs struct {
	GenOlder, GenNewer *ebiten.Image // the two newest generator frames
}

// passDef is a kind of pass: its shader file, parameters and extra sources.
type passDef struct {
	params  []Param
	sources func(in *Inputs) []*ebiten.Image // images after the fed-back one
	dynamic []string                         // uniforms the scene sets every frame
}

var passDefs = map[string]passDef{
	"warp": {
		params: []Param{
			{"zoom", 1.01, 0.9, 1.2, "scale per frame; above 1 flows outward"},
			{"rotate", 0.002, -0.2, 0.2, "radians per frame"},
			{"center_x", 0.5, 0, 1, "zoom centre, 0..1 of the width"},
			{"center_y", 0.5, 0, 1, "zoom centre, 0..1 of the height"},
			{"translate_x", 0, -20, 20, "shift per frame, pixels"},
			{"translate_y", 0, -20, 20, "shift per frame, pixels"},
		},
	},
	"inject": {
		params: []Param{
			{"mix", 0.1, 0, 1, "share of the generator frame mixed in per frame"},
		},
		sources: func(in *Inputs) []*ebiten.Image { return []*ebiten.Image{in.GenOlder, in.GenNewer} },
		dynamic: []string{"Fade"},
	},
}

// PassNames lists the kinds of pass the chain accepts.
func PassNames() []string {
	var s []string
	for k := range passDefs {
		s = append(s, k)
	}
	sort.Strings(s)
	return s
}

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

// Pass is one compiled step of the feedback chain with its live parameters.
type Pass struct {
	Name     string
	def      passDef
	shader   *ebiten.Shader
	uniforms map[string]any       // values are one-element slices, updated in place
	values   map[string][]float32 // the same slices, by config key or uniform name
	opts     ebiten.DrawRectShaderOptions
}

// NewPass compiles the named pass with the given parameters; missing ones
// take their defaults.
func NewPass(pc PassConfig) (*Pass, error) {
	def, ok := passDefs[pc.Pass]
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
	p := &Pass{Name: pc.Pass, def: def, shader: sh, uniforms: map[string]any{}, values: map[string][]float32{}}
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

// Draw runs the pass from src into dst. dst and src must differ.
func (p *Pass) Draw(dst, src *ebiten.Image, in *Inputs) {
	p.opts.Images[0] = src
	for i := 1; i < len(p.opts.Images); i++ {
		p.opts.Images[i] = nil
	}
	if p.def.sources != nil {
		for i, img := range p.def.sources(in) {
			p.opts.Images[i+1] = img
		}
	}
	b := dst.Bounds()
	dst.DrawRectShader(b.Dx(), b.Dy(), p.shader, &p.opts)
}

// Dispose frees the compiled shader.
func (p *Pass) Dispose() { p.shader.Deallocate() }

// Chain is the ordered feedback chain over two offscreen images swapped each
// pass, since Ebiten cannot draw an image into itself.
type Chain struct {
	Passes []*Pass
	buf    [2]*ebiten.Image
	cur    int // index of the buffer holding the latest output
}

// NewChain compiles the passes and allocates the buffers at w×h.
func NewChain(passes []PassConfig, w, h int) (*Chain, error) {
	c := &Chain{}
	for i, pc := range passes {
		p, err := NewPass(pc)
		if err != nil {
			c.Dispose()
			return nil, fmt.Errorf("scene.passes[%d]: %w", i, err)
		}
		c.Passes = append(c.Passes, p)
	}
	for i := range c.buf {
		c.buf[i] = ebiten.NewImage(w, h)
	}
	return c, nil
}

// Step runs every pass once, each reading the previous one's output, and
// returns the final image, which is also the next frame's feedback input.
func (c *Chain) Step(in *Inputs) *ebiten.Image {
	for _, p := range c.Passes {
		src, dst := c.buf[c.cur], c.buf[1-c.cur]
		p.Draw(dst, src, in)
		c.cur = 1 - c.cur
	}
	return c.buf[c.cur]
}

// Seed replaces the fed-back image with img.
func (c *Chain) Seed(img *ebiten.Image) {
	c.buf[c.cur].DrawImage(img, &ebiten.DrawImageOptions{Blend: ebiten.BlendCopy})
}

// Output is the latest result.
func (c *Chain) Output() *ebiten.Image { return c.buf[c.cur] }

// Pass returns the first pass of the given kind, or nil.
func (c *Chain) Pass(name string) *Pass {
	for _, p := range c.Passes {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Dispose frees shaders and buffers.
func (c *Chain) Dispose() {
	for _, p := range c.Passes {
		p.Dispose()
	}
	for _, b := range c.buf {
		if b != nil {
			b.Deallocate()
		}
	}
}

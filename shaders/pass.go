package shaders

import "sort"

// Param is one tunable number of a pass, as config.yaml names it. Its name,
// default, range and doc are declared once, in the Go file beside the pass's
// Kage file; validation, live control, presets and the config.yaml check
// all read them from here.
type Param struct {
	Name     string // config key, e.g. "center_x"; the uniform is CenterX
	Default  float64
	Min, Max float64
	Doc      string
}

// Pass is what a pass declares besides its Kage source.
type Pass struct {
	Params []Param
	// Sources name the images the shader reads after the fed-back one
	// (imageSrc1, imageSrc2, …): gen_older, gen_newer (the two newest
	// generator frames), flow (the camera's flow), audience (where people
	// move), residual (the neural dream's change).
	Sources []string
	// Dynamic are uniforms the scene sets every frame.
	Dynamic []string
	// Pointwise says the pass works on each pixel of the fed-back image
	// alone, and reads no other image: its Kage file defines
	// func PerPixel(px vec4) vec4, and its Fragment returns
	// PerPixel(imageSrc0At(src)). The chain then runs it in the draw of the
	// pass before it (Fuse), which saves a full-size draw.
	Pointwise bool
}

var passes = map[string]Pass{}

// register records a pass's declaration; each pass's Go file calls it.
func register(name string, p Pass) bool {
	passes[name] = p
	return true
}

// Lookup returns the named pass's declaration.
func Lookup(name string) (Pass, bool) {
	p, ok := passes[name]
	return p, ok
}

// Passes lists the declared passes' names, sorted.
func Passes() []string {
	names := make([]string, 0, len(passes))
	for n := range passes {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

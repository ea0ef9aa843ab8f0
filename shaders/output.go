package shaders

// output puts the result on screen; it is not fed back. Its shader is output.kage.
var _ = register("output", Pass{
	Params: []Param{
		{"vignette", 0.4, 0, 1, "darkening of the corners"},
		{"fill", 0, 0, 1, "0 fits the screen with bars, 1 fills it by cropping"},
	},
})

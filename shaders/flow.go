package shaders

// flow drags the image along the camera's optical flow. Its shader is flow.kage.
var _ = register("flow", Pass{
	Params: []Param{
		{"amount", 6, 0, 40, "pixels per frame for a flow of one frame width per second"},
	},
	Sources: []string{"flow"},
})

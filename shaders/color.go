package shaders

// color grades the fed-back image every frame. Its shader is color.kage.
var _ = register("color", Pass{
	Pointwise: true,
	Params: []Param{
		{"hue", 0.003, -0.2, 0.2, "hue rotation, radians per frame"},
		{"saturation", 1.02, 0, 2, "1 keeps; above 1 richer, below paler (per frame)"},
		{"decay", 0.01, 0, 0.2, "share of brightness lost per frame"},
		{"gamma", 1.005, 0.9, 1.2, "1 keeps; above 1 deepens the shadows (per frame)"},
	},
})

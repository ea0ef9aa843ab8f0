package shaders

// warp zooms, rotates and shifts the previous output, so it flows into itself. Its shader is warp.kage.
var _ = register("warp", Pass{
	Params: []Param{
		{"zoom", 1.01, 0.9, 1.2, "scale per frame; above 1 flows outward"},
		{"rotate", 0.002, -0.2, 0.2, "radians per frame"},
		{"center_x", 0.5, 0, 1, "zoom centre, 0..1 of the width"},
		{"center_y", 0.5, 0, 1, "zoom centre, 0..1 of the height"},
		{"translate_x", 0, -20, 20, "shift per frame, pixels"},
		{"translate_y", 0, -20, 20, "shift per frame, pixels"},
		{"follow", 0, 0, 1, "how far the zoom centre follows the audience's centroid"},
	},
	Dynamic: []string{"AudienceX", "AudienceY"},
})

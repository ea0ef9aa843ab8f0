package shaders

// deepdream adds the neural dream's residual into the feedback (gen/dream computes it). Its shader is deepdream.kage.
var _ = register("deepdream", Pass{
	Params: []Param{
		{"step", 0.02, 0, 0.2, "normalised gradient step per dream tick, a share of the input range"},
		{"layer", 7, 1, 32, "which layer's energy the dream raises, 1 = the shallowest (posenet has 13: 4 woven textures, 7 figures and faces, 10 noisier figures)"},
		{"octaves", 3, 1, 4, "how many sizes the steps visit in turn, each octave_scale smaller"},
		{"octave_scale", 1.4, 1.1, 2, "size ratio between octaves"},
		{"jitter", 16, 0, 32, "random roll before each step, pixels at the dream's size"},
		{"mix", 1, 0, 2, "share of each dream step's change added into the feedback"},
		{"local", 0.5, 0, 2, "added share where people stand (the audience map)"},
		{"presence_step", 1, 0, 4, "the step grows by this factor at full presence"},
		{"presence_layers", 0, 0, 6, "layers deeper at full presence"},
	},
	Sources: []string{"residual", "audience"},
	Dynamic: []string{"Gain", "Apply"},
})

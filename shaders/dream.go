package shaders

// dream amplifies the image's own detail at several scales: a sharpening feedback, no network. Its shader is dream.kage.
var _ = register("dream", Pass{
	Params: []Param{
		{"strength", 0.1, 0, 1, "detail gain per octave per frame"},
		{"scale", 3, 0.5, 16, "radius of the finest octave, pixels"},
		{"octaves", 3, 1, 4, "how many octaves, each twice the size of the last"},
		{"relief", 0.02, 0, 0.5, "embossed light from the upper left"},
	},
})

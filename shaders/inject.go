package shaders

// inject mixes the newest generator frame in. Its shader is inject.kage.
var _ = register("inject", Pass{
	Params: []Param{
		{"mix", 0.1, 0, 1, "share of the generator frame mixed in per frame"},
		{"motion_mix", 0, 0, 1, "added share per unit of motion energy"},
		{"presence_mix", 0, 0, 1, "added share per unit of presence level"},
		{"local", 0, 0, 1, "added share where the audience moves"},
		{"silhouette", 0, 0, 1, "where the audience moves, show the inverted generator frame"},
	},
	Sources: []string{"gen_older", "gen_newer", "audience"},
	Dynamic: []string{"Fade", "Motion", "Level"},
})

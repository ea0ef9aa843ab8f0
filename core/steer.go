package core

import (
	"reverie/audio"
	"reverie/gen"
	"reverie/scene"
)

// newSteering wires the scene's steering loop to the live installation: the
// current camera's features, the sound input and the runner.
func newSteering(g *scene.Game, cam *camera, runner *gen.Runner, snd *sound) *scene.Steering {
	s := &scene.Steering{Game: g, Latent: runner.SetLatent, Hurry: runner.Hurry,
		Camera: func() scene.Sight {
			if w := cam.current(); w != nil {
				return w
			}
			return nil // not a typed nil: no camera runs
		}}
	if snd.cfg.On() {
		s.Sound = func(dst *audio.Features, since uint64) (uint64, bool) {
			if !snd.listening() {
				return 0, false // stale features from a lost input are not used
			}
			return snd.live.Box().Latest(dst, since)
		}
	}
	return s
}

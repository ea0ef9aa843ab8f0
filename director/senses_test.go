package director

import (
	"math"
	"testing"

	"reverie/audio"
	"reverie/vision"
)

// Sound pushes the latent as the camera does: the treble along its
// direction, and each beat a kick that the spring smooths and that dies
// away once the music stops.
func TestSoundPushesAlongItsDirections(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Mapping = []Mapping{{"audio.high", 0, 1}, {"audio.onset", 1, 1}}
	cfg.IdlePeriod, cfg.Smoothing = 600, 0.05
	quiet := New(cfg, 8)
	loud := New(cfg, 8)
	along := func(d *Director, k int) float64 {
		var s float64
		for i, u := range d.dirs[k] {
			s += float64(d.Latent()[i]-quiet.Latent()[i]) * float64(u)
		}
		return s
	}
	const dt = 1.0 / 60
	var snd audio.Features
	var peak float64
	for i := range 120 {
		snd.High = 0.5
		if i%30 == 0 { // a hit every half second
			snd.Onsets++
		}
		quiet.Step(nil, nil, dt)
		loud.Step(nil, &snd, dt)
		peak = max(peak, along(loud, 1))
	}
	if got, want := along(loud, 0), cfg.Gain*0.5; math.Abs(got-want) > 0.05 {
		t.Errorf("treble 0.5 moved the latent %.3f along its direction; want %.3f", got, want)
	}
	if peak < 0.2*cfg.Gain {
		t.Errorf("onsets kicked the latent at most %.3f along their direction; want a visible kick", peak)
	}
	for range 60 { // the music stops: the kicks die away
		quiet.Step(nil, nil, dt)
		loud.Step(nil, &audio.Features{Onsets: snd.Onsets}, dt)
	}
	if k := along(loud, 1); math.Abs(k) > 0.01*cfg.Gain {
		t.Errorf("a second after the last onset the kick is still %.3f", k)
	}
}

// A pulse is never lost between two ticks, whatever the tick rate, and
// every feature name parses back to itself.
func TestSensesPulsesAndNames(t *testing.T) {
	var s Senses
	s.Update(nil, &audio.Features{Onsets: 3, Beats: 1}, 0.5)
	if s.Value(SoundOnset) != 1 || s.Value(SoundBeat) != 1 {
		t.Errorf("onset %v, beat %v on the tick a hit arrives; want 1, 1", s.Value(SoundOnset), s.Value(SoundBeat))
	}
	s.Update(nil, &audio.Features{Onsets: 3, Beats: 1}, PulseDecay)
	if v := s.Value(SoundOnset); math.Abs(v-math.Exp(-1)) > 1e-9 {
		t.Errorf("one time constant later the pulse is %v; want 1/e", v)
	}
	s.Update(&vision.Features{Motion: 0.25}, nil, 0.01)
	if s.Value(Motion) != 0.25 || s.Value(SoundLevel) != 0 {
		t.Errorf("camera only: motion %v, sound level %v", s.Value(Motion), s.Value(SoundLevel))
	}
	for _, n := range FeatureNames() {
		if f, ok := ParseFeature(n); !ok || f.String() != n {
			t.Errorf("feature %q parses to %v, %v", n, f, ok)
		}
	}
	cam, snd := &vision.Features{}, &audio.Features{}
	if n := testing.AllocsPerRun(100, func() {
		snd.Onsets++
		s.Update(cam, snd, 0.01)
		_ = s.Value(SoundOnset) + s.Value(CentroidX)
	}); n != 0 {
		t.Errorf("Senses allocates %v times per tick", n)
	}
}

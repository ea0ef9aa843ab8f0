package gen

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"time"
)

// Trial is one timed test run of a model or network, as `reverie models
// inspect` reports it.
type Trial struct {
	Width, Height int           // a generator model's frame size
	Outputs       []TensorInfo  // a network's outputs, at the trial's input size
	Provider      string        // the execution provider it ran on
	Duration      time.Duration // the second run: the rate it will keep
}

// timed runs run twice and times the second: the first pays for kernel
// selection, so only the second is the rate the model will run at.
func timed(run func() error) (time.Duration, error) {
	var dur time.Duration
	for i := 0; i < 2; i++ {
		start := time.Now()
		if err := run(); err != nil {
			return 0, err
		}
		dur = time.Since(start)
	}
	return dur, nil
}

// TestFrame loads the model at file with man, its manifest, and runs one
// frame, checking that the output is finite. The latent is drawn normal from
// a fixed seed whatever the manifest says: the trial checks that the model
// runs and how fast, not what it shows.
// The warning is set, even with an error, once the model has loaded on a
// fallback provider. Init must have loaded ONNX Runtime.
func TestFrame(file string, man *Manifest, sc SessionConfig) (Trial, Warning, error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return Trial{}, "", err
	}
	man.Model = abs
	m, warning, err := Load(man, sc)
	if err != nil {
		return Trial{}, "", err
	}
	defer m.Close()
	z := make([]float32, man.Latent.Dim)
	SampleLatent(rand.New(rand.NewPCG(1, 1)), man.Latent.Distribution, z)
	pix := make([]byte, 4*m.Width()*m.Height())
	dur, err := timed(func() error { return m.Run(z, pix) })
	if err != nil {
		return Trial{}, warning, fmt.Errorf("test frame: %w", err)
	}
	return Trial{Width: m.Width(), Height: m.Height(), Provider: m.Provider, Duration: dur}, warning, nil
}

// TrialNet opens the network at file for input shape and runs it once on a
// ramp across lo..hi, the values its input expects. The warning is set, even
// with an error, once the network has opened on a fallback provider. Init
// must have loaded ONNX Runtime.
func TrialNet(file string, shape []int64, lo, hi float32, sc SessionConfig) (Trial, Warning, error) {
	net, warning, err := OpenNet(file, shape, sc)
	if err != nil {
		return Trial{}, "", err
	}
	defer net.Close()
	in := net.Input()
	for i := range in {
		in[i] = lo + (hi-lo)*float32(i%255)/255
	}
	dur, err := timed(net.Run)
	if err != nil {
		return Trial{}, warning, err
	}
	t := Trial{Provider: net.Provider, Duration: dur}
	for i, name := range net.Outputs() {
		_, shape := net.Output(i)
		t.Outputs = append(t.Outputs, TensorInfo{Name: name, Shape: shape, DType: "float32"})
	}
	return t, warning, nil
}

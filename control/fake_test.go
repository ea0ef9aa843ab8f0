package control

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"sort"
	"strings"
	"sync"
	"time"
)

// fakeEngine stands in for the scene, generator and camera at the control
// package's boundary. It validates like scene.Controls does, so the server's
// own checks and the engine's are both exercised.
type fakeEngine struct {
	mu       sync.Mutex
	params   map[string]*ParamInfo
	presets  []string
	preset   string
	latent   map[int]float64
	sleeping bool
	beat     time.Time
	camera   CameraStats
	// the neural dream, as the scene reports it
	dream      string
	dreamSteps uint64
	dreamMs    float64
	gen        GenStats
	swapErr    error
	snaps      int
	released   int // snapshots handed back
}

func newFake() *fakeEngine {
	return &fakeEngine{
		params: map[string]*ParamInfo{
			"warp.zoom":     {Name: "warp.zoom", Value: 1.01, Min: 0.9, Max: 1.2, Doc: "scale per frame"},
			"inject.mix":    {Name: "inject.mix", Value: 0.1, Min: 0, Max: 1, Doc: "generator share"},
			"director.gain": {Name: "director.gain", Value: 2.5, Min: 0, Max: 20},
		},
		presets: []string{"calm", "storm"},
		latent:  map[int]float64{},
		beat:    time.Now(),
		camera:  CameraStats{Source: "vtest.avi", State: "ok", Presence: true, Level: 0.7},
		gen:     GenStats{Model: "builtin:cppn", Ms: 12, FPS: 30, Frames: 1},
	}
}

func (f *fakeEngine) List() []ParamInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []ParamInfo
	for _, p := range f.params {
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (f *fakeEngine) Set(name string, v float64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.params[name]
	if !ok {
		return fmt.Errorf("unknown parameter %q", name)
	}
	if v < p.Min || v > p.Max {
		return fmt.Errorf("parameter %q: %g out of range %g..%g", name, v, p.Min, p.Max)
	}
	p.Value = v
	return nil
}

func (f *fakeEngine) value(name string) float64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.params[name].Value
}

func (f *fakeEngine) Presets() []string { return f.presets }

func (f *fakeEngine) ApplyPreset(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range f.presets {
		if p == name {
			f.preset = name
			return nil
		}
	}
	return fmt.Errorf("unknown preset %q; expected one of %s", name, strings.Join(f.presets, ", "))
}

func (f *fakeEngine) SetLatent(i int, v float64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if i < 0 || i >= 8 {
		return fmt.Errorf("latent index %d: expected 0..7", i)
	}
	f.latent[i] = v
	return nil
}

func (f *fakeEngine) Snapshot(ctx context.Context) (*image.RGBA, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.snaps++
	img := image.NewRGBA(image.Rect(0, 0, 64, 36))
	for y := range 36 {
		for x := range 64 {
			img.SetRGBA(x, y, color.RGBA{uint8(x * 4), uint8(y * 7), 128, 255})
		}
	}
	return img, nil
}

func (f *fakeEngine) ReleaseSnapshot(*image.RGBA) {
	f.mu.Lock()
	f.released++
	f.mu.Unlock()
}

func (f *fakeEngine) SetSleep(on bool) {
	f.mu.Lock()
	f.sleeping = on
	f.mu.Unlock()
}

func (f *fakeEngine) Stats() DisplayStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return DisplayStats{FPS: 59.8, Frames: 1234, Preset: f.preset, Sleeping: f.sleeping, Width: 1280, Height: 720, Heartbeat: f.beat,
		Dream: f.dream, DreamSteps: f.dreamSteps, DreamStepMs: f.dreamMs,
		Scale: 0.85, Share: 0.8, TargetFPS: 30, BudgetCause: "lowered", BudgetReason: "lowered: 24.0 fps is below the target 30"}
}

func (f *fakeEngine) Generator() GenStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.gen
}

func (f *fakeEngine) Models() []string { return []string{"builtin:cppn", "builtin:convdecoder"} }

func (f *fakeEngine) SwapModel(model string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.swapErr != nil {
		return f.swapErr
	}
	if !strings.HasPrefix(model, "builtin:") {
		return errors.New("no such manifest")
	}
	f.gen.Model = model
	return nil
}

func (f *fakeEngine) Camera() CameraStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.camera
}

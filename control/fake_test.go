package control

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
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
	rec        recorder
	camViews   int
	camJPEG    []byte // the camera view's bytes when set, else a small picture
}

func newFake() *fakeEngine {
	return &fakeEngine{
		params: map[string]*ParamInfo{
			"warp.zoom":     {Name: "warp.zoom", Value: 1.01, Min: 0.9, Max: 1.2, Doc: "scale per frame", Group: "warp", Order: 0},
			"inject.mix":    {Name: "inject.mix", Value: 0.1, Min: 0, Max: 1, Doc: "generator share", Group: "inject", Order: 1},
			"director.gain": {Name: "director.gain", Value: 2.5, Min: 0, Max: 20, Group: "director", Order: 2},
			"push.0":        {Name: "push.0", Value: 0, Min: -5, Max: 5, Doc: "push along latent direction 0", Group: "push", Order: 3},
			"push.1":        {Name: "push.1", Value: 0, Min: -5, Max: 5, Doc: "push along latent direction 1", Group: "push", Order: 3},
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

// recorder is the fake's recording: the folder is fixed, as config.yaml's.
type recorder struct {
	mu        sync.Mutex
	recording bool
	n         int
	startErr  error
	last      string
}

func (f *fakeEngine) StartRecording() (string, error) {
	r := &f.rec
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.startErr != nil {
		return "", r.startErr
	}
	if r.recording {
		return r.last, fmt.Errorf("already recording to %s", r.last)
	}
	r.n++
	r.recording, r.last = true, fmt.Sprintf("recordings/take-%d.mp4", r.n)
	return r.last, nil
}

func (f *fakeEngine) StopRecording() (string, error) {
	r := &f.rec
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.recording {
		return "", ErrNotRecording
	}
	r.recording = false
	return r.last, nil
}

func (f *fakeEngine) VideoOut() VideoOutStats {
	r := &f.rec
	r.mu.Lock()
	defer r.mu.Unlock()
	v := VideoOutStats{Record: RecordStats{Recording: r.recording, File: r.last, Frames: 30, Dropped: 2, TotalFrames: 90, TotalDropped: 5}}
	if r.startErr != nil {
		v.Record.Err = r.startErr.Error()
	}
	return v
}

// CameraJPEG is a small picture standing in for the camera's view.
func (f *fakeEngine) CameraJPEG(ctx context.Context) ([]byte, error) {
	f.mu.Lock()
	f.camViews++
	big := f.camJPEG
	f.mu.Unlock()
	if big != nil {
		return big, nil
	}
	img := image.NewRGBA(image.Rect(0, 0, 80, 60))
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

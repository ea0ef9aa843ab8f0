package main

import (
	"context"
	"image"
	"path/filepath"
	"sort"
	"sync"

	"reverie/control"
	"reverie/gen"
	"reverie/scene"
	"reverie/vision"
)

// engine adapts the running pipeline (the scene's controls, the generator's
// runner and the camera's watcher) to control.Engine.
type engine struct {
	ctl     *scene.Controls
	runner  *gen.Runner
	watcher *vision.Watcher

	mu    sync.Mutex
	gen   gen.Config // the running generator config; swaps change its model
	feats vision.Features
}

func newEngine(ctl *scene.Controls, runner *gen.Runner, watcher *vision.Watcher, g gen.Config) *engine {
	return &engine{ctl: ctl, runner: runner, watcher: watcher, gen: g}
}

func (e *engine) List() []control.ParamInfo {
	ps := e.ctl.List()
	out := make([]control.ParamInfo, len(ps))
	for i, p := range ps {
		out[i] = control.ParamInfo{Name: p.Name, Value: p.Value, Min: p.Min, Max: p.Max, Doc: p.Doc}
	}
	return out
}

func (e *engine) Set(name string, v float64) error                  { return e.ctl.Set(name, v) }
func (e *engine) Presets() []string                                 { return e.ctl.Presets() }
func (e *engine) ApplyPreset(name string) error                     { return e.ctl.ApplyPreset(name) }
func (e *engine) SetLatent(i int, v float64) error                  { return e.ctl.SetLatent(i, v) }
func (e *engine) SetSleep(on bool)                                  { e.ctl.SetSleep(on) }
func (e *engine) Snapshot(ctx context.Context) (*image.RGBA, error) { return e.ctl.Snapshot(ctx) }

func (e *engine) Stats() control.DisplayStats {
	s := e.ctl.Stats()
	return control.DisplayStats{FPS: s.FPS, Frames: s.Frames, Preset: s.Preset, Sleeping: s.Sleeping,
		Width: s.Width, Height: s.Height, Heartbeat: s.Heartbeat}
}

func (e *engine) Generator() control.GenStats {
	s := e.runner.Stats()
	// The model as configured (builtin:cppn, a manifest path): the name the
	// panel's picker and POST /api/model use.
	return control.GenStats{Model: e.generatorConfig().Model, Ms: s.GenMs, FPS: s.FPS, Frames: s.Frames, LastErr: s.LastErr}
}

// Models offers the built-in models and the manifests in models/.
func (e *engine) Models() []string {
	out := []string{"builtin:cppn", "builtin:convdecoder"}
	found, _ := filepath.Glob("models/*.yaml")
	sort.Strings(found)
	return append(out, found...)
}

// SwapModel loads model with the running generator settings through the
// runner's hot swap; on error the old model keeps running.
func (e *engine) SwapModel(model string) error {
	e.mu.Lock()
	c := e.gen
	e.mu.Unlock()
	c.Model = model
	return e.swapGenerator(c)
}

func (e *engine) swapGenerator(c gen.Config) error {
	if err := e.runner.Swap(c); err != nil {
		return err
	}
	e.mu.Lock()
	e.gen = c
	e.mu.Unlock()
	return nil
}

func (e *engine) generatorConfig() gen.Config {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.gen
}

func (e *engine) Camera() control.CameraStats {
	c := control.CameraStats{State: "none"}
	if e.watcher == nil {
		return c
	}
	st, err := e.watcher.Capture.State()
	c.State = string(st)
	if err != nil {
		c.Err = err.Error()
	}
	e.mu.Lock()
	if e.watcher.Latest(&e.feats) > 0 {
		c.Presence, c.Level = e.feats.Presence, float64(e.feats.Level)
	}
	e.mu.Unlock()
	return c
}

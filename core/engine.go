package core

import (
	"context"
	"fmt"
	"image"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"reverie/control"
	"reverie/gen"
	"reverie/internal/redact"
	"reverie/scene"
	"reverie/vision"
)

// engine adapts the running pipeline (the scene's controls, the generator's
// runner and the current camera) to control.Engine.
type engine struct {
	p      *pipeline
	ctl    *scene.Controls
	runner *gen.Runner

	mu       sync.Mutex
	watcher  *vision.Watcher // the watcher feats came from
	feats    vision.Features
	featsSeq uint64 // the watcher's number for feats, 0 for none yet
}

func newEngine(p *pipeline) *engine {
	return &engine{p: p, ctl: p.ctl, runner: p.runner}
}

// List is the scene's parameters and the model's controllable inputs
// (generator.NAME, from the manifest's inputs with param:), sorted by name.
func (e *engine) List() []control.ParamInfo {
	ps := e.ctl.List()
	gs := e.runner.Params()
	out := make([]control.ParamInfo, 0, len(ps)+len(gs))
	for _, p := range ps {
		out = append(out, control.ParamInfo{Name: p.Name, Value: p.Value, Min: p.Min, Max: p.Max, Doc: p.Doc})
	}
	model := e.runner.Stats().Model
	for _, p := range gs {
		out = append(out, control.ParamInfo{Name: genPrefix + p.Name, Value: float64(p.Value), Min: float64(p.Min), Max: float64(p.Max),
			Doc: fmt.Sprintf("the model's input %q (%s); its manifest starts it at %g", p.Input, model, p.Def)})
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Name < out[b].Name })
	return out
}

// genPrefix names the model's inputs among the live parameters.
const genPrefix = "generator."

// Set changes a scene parameter, or a model input named generator.NAME,
// which the runner applies between frames.
func (e *engine) Set(name string, v float64) error {
	if p, ok := strings.CutPrefix(name, genPrefix); ok {
		return e.runner.SetInput(p, v)
	}
	return e.ctl.Set(name, v)
}

func (e *engine) Presets() []string                                 { return e.ctl.Presets() }
func (e *engine) ApplyPreset(name string) error                     { return e.ctl.ApplyPreset(name) }
func (e *engine) SetLatent(i int, v float64) error                  { return e.ctl.SetLatent(i, v) }
func (e *engine) SetSleep(on bool)                                  { e.ctl.SetSleep(on) }
func (e *engine) Snapshot(ctx context.Context) (*image.RGBA, error) { return e.ctl.Snapshot(ctx) }
func (e *engine) ReleaseSnapshot(img *image.RGBA)                   { e.ctl.ReleaseSnapshot(img) }

func (e *engine) Stats() control.DisplayStats {
	s := e.ctl.Stats()
	return control.DisplayStats{FPS: s.FPS, Frames: s.Frames, Preset: s.Preset, Sleeping: s.Sleeping,
		Width: s.Width, Height: s.Height, Heartbeat: s.Heartbeat,
		Dream: s.Dream, DreamSteps: s.DreamSteps, DreamStepMs: s.DreamStepMs,
		Scale: s.Scale, Share: s.Share, TargetFPS: s.TargetFPS, BudgetCause: s.BudgetCause, BudgetReason: s.BudgetReason}
}

func (e *engine) Generator() control.GenStats {
	s := e.runner.Stats()
	// The model as configured (builtin:cppn, a manifest path): the name the
	// panel's picker and POST /api/model use.
	return control.GenStats{Model: e.p.generatorConfig().Model, Ms: s.GenMs, FPS: s.FPS, Frames: s.Frames, LastErr: s.LastErr}
}

// Models offers the built-in models and the manifests in models/.
func (e *engine) Models() []string {
	out := []string{"builtin:cppn", "builtin:convdecoder"}
	found, _ := filepath.Glob("models/*.yaml")
	sort.Strings(found)
	return append(out, found...)
}

// SwapModel loads model, named by a client over the network, with the
// running generator settings through the runner's hot swap; on error the
// old model keeps running. Only models inside generator.model_dirs load.
func (e *engine) SwapModel(model string) error {
	c := e.p.generatorConfig()
	if err := gen.CheckModelPath(c.NetworkModelDirs(e.p.configDir), model); err != nil {
		return err
	}
	c.Model = model
	return e.p.swapGenerator(c)
}

func (e *engine) Camera() control.CameraStats {
	c := control.CameraStats{State: "none"}
	w := e.p.cam.current()
	e.mu.Lock()
	defer e.mu.Unlock()
	if w != e.watcher {
		// A restarted camera numbers its features afresh.
		e.watcher, e.featsSeq = w, 0
	}
	if w == nil {
		return c
	}
	st, err := w.Capture.State()
	c.State, c.Source = string(st), describeSource(w.Capture.SourceName())
	if err != nil {
		c.Err = redact.URLs(err.Error())
	}
	if seq, ok := w.Latest(&e.feats, e.featsSeq); ok {
		e.featsSeq = seq
	}
	if e.featsSeq > 0 {
		c.Presence, c.Level = e.feats.Presence, float64(e.feats.Level)
	}
	return c
}

// describeSource says which source is open, for /api/status: a stream's
// user and password are left out.
func describeSource(name string) string {
	switch {
	case name == "":
		return ""
	case name == vision.SampleClip:
		return "sample clip " + name
	}
	switch vision.ParseSource(name) {
	case vision.KindDevice:
		idx, _ := vision.DeviceIndex(name)
		return fmt.Sprintf("camera %d (/dev/video%d)", idx, idx)
	case vision.KindURL:
		if u, err := url.Parse(name); err == nil {
			u.User = nil
			return "stream " + u.String()
		}
		return "stream " + redact.URLs(name)
	}
	return "file " + redact.URLs(name)
}

package core

import (
	"context"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"reverie/control"
	"reverie/gen"
	"reverie/internal/redact"
	"reverie/scene"
	"reverie/videoout"
	"reverie/vision"

	"gocv.io/x/gocv"
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
	order := map[string]int{}
	for i, g := range e.ctl.Groups() {
		order[g] = i
	}
	out := make([]control.ParamInfo, 0, len(ps)+len(gs))
	for _, p := range ps {
		g, _, _ := strings.Cut(p.Name, ".")
		out = append(out, control.ParamInfo{Name: p.Name, Value: p.Value, Min: p.Min, Max: p.Max, Doc: p.Doc, Group: g, Order: order[g]})
	}
	model := e.runner.Stats().Model
	for _, p := range gs {
		out = append(out, control.ParamInfo{Name: genPrefix + p.Name, Value: float64(p.Value), Min: float64(p.Min), Max: float64(p.Max),
			Doc: fmt.Sprintf("the model's input %q (%s); its manifest starts it at %g", p.Input, model, p.Def), Group: "generator", Order: len(order)})
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
	out := append([]string(nil), gen.Builtins...)
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

// StartRecording starts recording the displayed output into
// video_out.record.folder.
func (e *engine) StartRecording() (string, error) {
	if e.p.out == nil {
		return "", errNoOutputs
	}
	return e.p.out.StartRecording()
}

// errNoOutputs is the answer of a pipeline built without video outputs.
var errNoOutputs = errors.New("this pipeline has no video outputs")

// StopRecording finishes the recording and returns its file.
func (e *engine) StopRecording() (string, error) {
	if e.p.out == nil {
		return "", control.ErrNotRecording
	}
	path, err := e.p.out.StopRecording()
	if errors.Is(err, videoout.ErrNotRecording) {
		return "", control.ErrNotRecording
	}
	return path, err
}

// toggleRecording is key R: it starts a recording, or stops the one going.
func (e *engine) toggleRecording() {
	if e.p.out == nil {
		return
	}
	if e.p.out.Stats().Record.Recording {
		if path, err := e.StopRecording(); err == nil {
			slog.Info("recording stopped", "file", path, "by", "key R")
		}
		return
	}
	if path, err := e.StartRecording(); err == nil {
		slog.Info("recording started", "file", path, "by", "key R")
	}
}

// VideoOut is the outputs' state, for /api/status and /metrics.
func (e *engine) VideoOut() control.VideoOutStats {
	if e.p.out == nil {
		return control.VideoOutStats{}
	}
	s := e.p.out.Stats()
	r := s.Record
	out := control.VideoOutStats{
		Record: control.RecordStats{Recording: r.Recording, File: r.File, Seconds: r.Seconds, Frames: r.Frames, Dropped: r.Dropped,
			Err: r.Err, TotalFrames: r.TotalFrames, TotalDropped: r.TotalDropped},
	}
	for _, p := range []struct {
		from videoout.OutputStats
		to   *control.OutputStats
	}{{s.Stream, &out.Stream}, {s.Camera, &out.VirtualCamera}} {
		*p.to = control.OutputStats{Target: redact.URLs(p.from.Target), On: p.from.On, Frames: p.from.Frames, Dropped: p.from.Dropped, Err: redact.URLs(p.from.Err)}
	}
	return out
}

// CameraJPEG draws the newest camera frame with the silhouette and the
// centre of activity the analysis found, for the panel. The first request
// asks the watcher for frames and waits for one.
func (e *engine) CameraJPEG(ctx context.Context) ([]byte, error) {
	w := e.p.cam.current()
	if w == nil {
		return nil, errors.New("no camera is running")
	}
	img := gocv.NewMat()
	defer img.Close()
	var f vision.Features
	for !w.CameraView(&img, &f) {
		select {
		case <-ctx.Done():
			return nil, errors.New("the camera has delivered no frame yet")
		case <-time.After(20 * time.Millisecond):
		}
	}
	vision.DrawView(&img, &f)
	buf, err := gocv.IMEncode(gocv.JPEGFileExt, img)
	if err != nil {
		return nil, err
	}
	defer buf.Close()
	return append([]byte(nil), buf.GetBytes()...), nil
}

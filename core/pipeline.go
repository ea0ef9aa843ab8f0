package core

import (
	"log/slog"
	"sync"

	"reverie/control"
	"reverie/control/midi"
	"reverie/gen"
	"reverie/internal/redact"
	"reverie/scene"
	"reverie/videoout"
	"reverie/vision"
)

// pipeline is the running installation: what live control and a reload
// change while the piece runs.
type pipeline struct {
	srv    *control.Server
	eng    *engine
	ctl    *scene.Controls
	runner *gen.Runner
	cam    *camera
	out    *videoout.Out // recording, stream, virtual camera
	midi   *midi.Input

	// swapMu lets one change of model or camera run at a time (a control
	// request's swap, a reload's swap, a reload's camera restart), so the
	// director always ends up built for the running model and a device is
	// never opened twice.
	swapMu sync.Mutex
	mu     sync.Mutex
	gen    gen.Config // the running generator config; swaps change its model
	// configDir is the config file's folder, a model folder for the
	// network by default (gen.Config.NetworkModelDirs).
	configDir string
}

// swapGenerator hot-swaps the model, then has the scene's director follow
// it (the new latent size, distribution and directions file).
func (p *pipeline) swapGenerator(c gen.Config) error {
	p.swapMu.Lock()
	defer p.swapMu.Unlock()
	if err := p.runner.Swap(c); err != nil {
		return err
	}
	if note := p.runner.Stats().ParamNote; note != "" {
		slog.Info("model inputs after the swap", "model", c.Model, "inputs", note)
	}
	if m := p.runner.Model(); m != nil {
		if err := p.ctl.SetModel(m.Manifest); err != nil {
			slog.Warn("model swapped; its directions are not used", "model", c.Model, "err", err)
		}
	}
	p.mu.Lock()
	p.gen = c
	p.mu.Unlock()
	return nil
}

// setSwapRules applies a reload's generator.model_dirs and load_timeout,
// which need no model swap.
func (p *pipeline) setSwapRules(c gen.Config) {
	p.mu.Lock()
	p.gen.ModelDirs, p.gen.LoadTimeout = c.ModelDirs, c.LoadTimeout
	p.mu.Unlock()
}

func (p *pipeline) generatorConfig() gen.Config {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.gen
}

// restartCamera stops the running watcher (a device can be opened only
// once), then starts one with cfg. Meanwhile the scene has no camera and
// runs its idle choreography.
func (p *pipeline) restartCamera(cfg vision.Config) {
	p.swapMu.Lock()
	defer p.swapMu.Unlock()
	slog.Info("vision section changed: restarting the camera; the idle choreography runs meanwhile", "source", redact.URLs(cfg.Source))
	p.cam.restart(cfg)
}

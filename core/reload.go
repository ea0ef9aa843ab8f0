package core

import (
	"context"
	"log/slog"
	"reflect"
	"strings"
	"time"

	"reverie/conf"
	"reverie/director"
	"reverie/gen"
	"reverie/scene"
)

// reload applies a new config live: logging, the control section (listeners
// rebound, token swapped), the generator (hot swap), the scene (parameters
// set, or the chain rebuilt in the game loop), the vision section (the
// camera restarted) and the midi section (mapping and device). Only the
// window settings and the audio section wait for a restart.
func (p *pipeline) reload(old, next conf.Config) {
	if old.Log != next.Log {
		SetupLog(next.Log)
	}
	if !reflect.DeepEqual(old.Control, next.Control) {
		if err := p.srv.Reconfigure(next.Control); err != nil {
			slog.Error("control section not fully applied; the old listeners stay", "err", conf.OneLine(err))
		}
	}
	if old.Generator.MaxFPS != next.Generator.MaxFPS {
		// A rate cap only: no need to reload the model.
		p.runner.SetMaxFPS(next.Generator.MaxFPS)
		slog.Info("generator frame rate cap changed", "max_fps", next.Generator.MaxFPS)
	}
	if old.Generator.Fit != next.Generator.Fit {
		p.ctl.SetFit(next.Generator.Fit) // the scene's drawing only
		slog.Info("generator fit changed", "fit", next.Generator.Fit)
	}
	p.setSwapRules(next.Generator)
	if needsSwap(old.Generator, next.Generator) {
		go func() {
			if err := p.swapGenerator(next.Generator); err != nil {
				slog.Error("generator change not applied; the previous model keeps running", "model", next.Generator.Model, "err", err)
			} else {
				slog.Info("generator changed", "model", next.Generator.Model)
			}
		}()
	}
	if old.VideoOut != next.VideoOut {
		p.out.Reconfigure(next.VideoOut)
	}
	var restart []string
	restart = append(restart, p.applyScene(old.Scene, next.Scene)...)
	if !reflect.DeepEqual(old.Vision, next.Vision) {
		go p.restartCamera(next.Vision)
	}
	if !reflect.DeepEqual(old.MIDI, next.MIDI) && p.midi != nil {
		if err := p.midi.SetConfig(next.MIDI); err != nil {
			slog.Error("midi section not applied; the old mapping stays", "err", conf.OneLine(err))
		} else {
			slog.Info("midi section applied", "device", next.MIDI.Device, "controls", len(next.MIDI.Controls), "notes", len(next.MIDI.Notes))
		}
	}
	if !reflect.DeepEqual(old.Audio, next.Audio) {
		restart = append(restart, "audio")
	}
	if len(restart) > 0 {
		slog.Warn("config changes that take effect at the next restart", "keys", strings.Join(restart, ", "))
	}
}

// needsSwap says whether a generator change needs the model reloaded: any
// change but the rate cap, which the runner takes live, the fit, which the
// scene takes live, and the rules for swaps (model_dirs, load_timeout),
// which apply from the next swap.
func needsSwap(old, next gen.Config) bool {
	old.MaxFPS, old.Fit, old.ModelDirs, old.LoadTimeout = next.MaxFPS, next.Fit, next.ModelDirs, next.LoadTimeout
	return !reflect.DeepEqual(old, next)
}

// applyScene sets the passes' parameters live when only they changed, and
// otherwise rebuilds the chain, presets and director in the game loop. It
// returns the window settings, which wait for a restart.
func (p *pipeline) applyScene(o, n scene.Config) []string {
	var restart []string
	if o.RenderW != n.RenderW || o.RenderH != n.RenderH {
		restart = append(restart, "scene.render_width/render_height")
	}
	if o.Monitor != n.Monitor || o.Fullscreen != n.Fullscreen {
		restart = append(restart, "scene.monitor/fullscreen")
	}
	n.RenderW, n.RenderH, n.Monitor, n.Fullscreen = o.RenderW, o.RenderH, o.Monitor, o.Fullscreen
	if reflect.DeepEqual(o, n) {
		return restart
	}
	if paramsOnly(o, n) {
		p.setPassParams(o, n)
		return restart
	}
	// The director is built for the running model (its latent size and
	// directions file).
	dir, err := director.NewFor(n.Director, p.runner.Model().Manifest)
	if err != nil {
		slog.Error("scene change not applied; the running scene stays", "err", conf.OneLine(err))
		return restart
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.ctl.Reconfigure(ctx, n, dir); err != nil {
		slog.Error("scene change not applied; the running scene stays", "err", conf.OneLine(err))
		return restart
	}
	slog.Info("scene rebuilt", "passes", len(n.Passes), "presets", len(n.Presets))
	return restart
}

// paramsOnly reports whether only the passes' parameter values differ.
func paramsOnly(o, n scene.Config) bool {
	if len(o.Passes) != len(n.Passes) {
		return false
	}
	for i := range o.Passes {
		if o.Passes[i].Pass != n.Passes[i].Pass {
			return false
		}
	}
	o.Passes, n.Passes = nil, nil
	return reflect.DeepEqual(o, n)
}

func (p *pipeline) setPassParams(o, n scene.Config) {
	ids := scene.PassIDs(n.Passes)
	for i, pc := range n.Passes {
		prefix := ids[i]
		for k, v := range pc.Params {
			if old, ok := o.Passes[i].Params[k]; ok && old == v {
				continue
			}
			if err := p.eng.Set(prefix+"."+k, v); err != nil {
				slog.Warn("scene parameter not applied", "param", prefix+"."+k, "err", err)
			}
		}
	}
}

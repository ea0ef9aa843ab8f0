package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"time"

	"reverie/control"
	"reverie/gen"
	"reverie/internal/redact"
	"reverie/scene"
	"reverie/vision"
)

// journal keeps the recent warnings and errors for /api/status; setupLog
// routes the log through it.
var journal = control.NewJournal(64)

// reloadEvery is how often the config file is checked for changes.
const reloadEvery = 2 * time.Second

// settle is how long a changed config file must stay unchanged before it is
// read.
const settle = 300 * time.Millisecond

// watchConfig reloads path on SIGHUP and when its content changes, until
// ctx ends. A file that fails to load is rejected with the reason logged
// (and shown in /api/status); the running config stays.
func watchConfig(ctx context.Context, path string, cur Config, apply func(old, new Config)) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	sum := fileSum(path)
	tick := time.NewTicker(reloadEvery)
	defer tick.Stop()
	for {
		why := ""
		select {
		case <-ctx.Done():
			return
		case <-hup:
			why = "SIGHUP"
		case <-tick.C:
			s := fileSum(path)
			if bytes.Equal(s, sum) {
				continue
			}
			if s == nil {
				sum = s
				slog.Warn("config file is gone; the running config stays", "file", path)
				continue
			}
			why = "file changed"
		}
		// An editor or a script may be half-way through writing, whatever
		// the trigger: an empty or still-changing file would apply the
		// defaults (and move the listeners). Take it once it has settled.
		s, ok := settled(ctx, path)
		if !ok {
			continue
		}
		sum = s
		if st, err := os.Stat(path); err == nil && st.Size() == 0 {
			slog.Warn("config file is empty; the running config stays", "file", path, "trigger", why)
			continue
		}
		next, err := LoadConfig(path, true)
		if err != nil {
			slog.Error("config reload rejected; the running config stays", "trigger", why, "err", oneLine(err))
			continue
		}
		slog.Info("config reloaded", "file", path, "trigger", why)
		apply(cur, next)
		cur = next
	}
}

// settled waits until path's content stays the same for settle, trying for
// a few seconds, and returns its sum.
func settled(ctx context.Context, path string) ([]byte, bool) {
	prev := fileSum(path)
	for i := 0; i < 10; i++ {
		select {
		case <-ctx.Done():
			return nil, false
		case <-time.After(settle):
		}
		cur := fileSum(path)
		if cur != nil && bytes.Equal(cur, prev) {
			return cur, true
		}
		prev = cur
	}
	slog.Warn("config file keeps changing; the running config stays until it settles", "file", path)
	return nil, false
}

func fileSum(path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	s := sha256.Sum256(b)
	return s[:]
}

// pipeline is what a reload changes while the piece runs.
type pipeline struct {
	srv    *control.Server
	eng    *engine
	ctl    *scene.Controls
	runner *gen.Runner
	cam    *camera
}

// reload applies a new config live: logging, the control section (listeners
// rebound, token swapped), the generator (hot swap), the scene (parameters
// set, or the chain rebuilt in the game loop) and the vision section (the
// camera restarted). Only the window settings wait for a restart.
func (p *pipeline) reload(old, next Config) {
	if old.Log != next.Log {
		setupLog(next.Log)
	}
	if !reflect.DeepEqual(old.Control, next.Control) {
		if err := p.srv.Reconfigure(next.Control); err != nil {
			slog.Error("control section not fully applied; the old listeners stay", "err", oneLine(err))
		}
	}
	if old.Generator.MaxFPS != next.Generator.MaxFPS {
		// A rate cap only: no need to reload the model.
		p.runner.SetMaxFPS(next.Generator.MaxFPS)
		slog.Info("generator frame rate cap changed", "max_fps", next.Generator.MaxFPS)
	}
	if p.eng != nil {
		p.eng.setSwapRules(next.Generator)
	}
	if needsSwap(old.Generator, next.Generator) {
		go func() {
			if err := p.eng.swapGenerator(next.Generator); err != nil {
				slog.Error("generator change not applied; the previous model keeps running", "model", next.Generator.Model, "err", err)
			} else {
				slog.Info("generator changed", "model", next.Generator.Model)
			}
		}()
	}
	var restart []string
	restart = append(restart, p.applyScene(old.Scene, next.Scene)...)
	if !reflect.DeepEqual(old.Vision, next.Vision) {
		go p.cam.restart(next.Vision)
	}
	if len(restart) > 0 {
		slog.Warn("config changes that take effect at the next restart", "keys", strings.Join(restart, ", "))
	}
}

// needsSwap says whether a generator change needs the model reloaded: any
// change but the rate cap, which the runner takes live, and the rules for
// swaps (model_dirs, load_timeout), which apply from the next swap.
func needsSwap(old, next gen.Config) bool {
	old.MaxFPS, old.ModelDirs, old.LoadTimeout = next.MaxFPS, next.ModelDirs, next.LoadTimeout
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
	dir, err := scene.NewDirectorFor(n.Director, p.runner.Model().Manifest)
	if err != nil {
		slog.Error("scene change not applied; the running scene stays", "err", oneLine(err))
		return restart
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.ctl.Reconfigure(ctx, n, dir); err != nil {
		slog.Error("scene change not applied; the running scene stays", "err", oneLine(err))
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
	seen := map[string]int{}
	for i, pc := range n.Passes {
		seen[pc.Pass]++
		prefix := pc.Pass
		if seen[pc.Pass] > 1 {
			prefix = fmt.Sprintf("%s#%d", pc.Pass, seen[pc.Pass])
		}
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

// camera runs the vision watcher and restarts it when the vision section
// changes. Meanwhile the scene has no camera and runs its idle choreography.
type camera struct {
	parent context.Context
	ctl    *scene.Controls // set once the game exists
	eng    *engine

	mu   sync.Mutex // one restart at a time
	stop context.CancelFunc
	done chan struct{}
}

// start opens the configured source (a failure leaves the watcher
// reconnecting, as a lost camera does) and runs a watcher on it.
func (c *camera) start(cfg vision.Config) *vision.Watcher {
	open := func() (vision.Source, error) {
		s, _, err := vision.Open(cfg)
		return s, err
	}
	src, note, err := vision.Open(cfg)
	switch {
	case err != nil:
		slog.Warn("camera unavailable; the idle choreography runs until it comes back", "err", err)
	case note != "":
		slog.Info(note)
	default:
		slog.Info("camera open", "source", src.Name())
	}
	w := vision.NewWatcher(cfg, src, open)
	ctx, stop := context.WithCancel(c.parent)
	done := make(chan struct{})
	c.stop, c.done = stop, done
	go func() {
		defer close(done)
		w.Run(ctx)
	}()
	return w
}

// restart stops the running watcher (a device can be opened only once),
// then starts one with cfg.
func (c *camera) restart(cfg vision.Config) {
	c.mu.Lock()
	defer c.mu.Unlock()
	slog.Info("vision section changed: restarting the camera; the idle choreography runs meanwhile", "source", redact.URLs(cfg.Source))
	c.ctl.SetWatcher(nil)
	c.eng.setWatcher(nil)
	c.stop()
	<-c.done
	if c.parent.Err() != nil {
		return
	}
	w := c.start(cfg)
	c.ctl.SetWatcher(w)
	c.eng.setWatcher(w)
}

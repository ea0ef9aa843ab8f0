package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/hajimehoshi/ebiten/v2"

	"reverie/cmd/reverie/headless"
	"reverie/control"
	"reverie/scene"
)

func cmdRun(args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	cfgPath := configFlag(fs)
	windowed := fs.Bool("windowed", false, "open a window instead of going full-screen")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(fs, *cfgPath)
	if err != nil {
		return err
	}
	if headless.Virtual() {
		slog.Warn("DISPLAY is unset: running on a virtual display (Xvfb); nothing shows on a screen")
	}
	runner, err := openRunner(cfg.Generator)
	if err != nil {
		return err
	}
	defer runner.Close()
	runner.OnError(rateLimited("generator frame failed", 10))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cam := &camera{parent: ctx}
	watcher := cam.start(cfg.Vision)
	go runner.Run(ctx)

	m := runner.Model()
	director, err := scene.NewDirectorFor(cfg.Scene.Director, m.Manifest)
	if err != nil {
		return err
	}
	live := &scene.Live{Watcher: watcher, Runner: runner, Director: director}
	game, err := scene.NewGame(cfg.Scene, m.Width(), m.Height(), live)
	if err != nil {
		return err
	}
	defer game.Dispose()

	game.Controls().SetModelInputs(runner) // presets' generator.* values
	eng := newEngine(game.Controls(), runner, watcher, cfg.Generator)
	eng.configDir = filepath.Dir(*cfgPath)
	cam.ctl, cam.eng = game.Controls(), eng
	srv, err := control.New(cfg.Control, eng, journal)
	if err != nil {
		return err
	}
	registerMatGauge(srv)
	if err := srv.Start(ctx); err != nil {
		return err
	}
	p := &pipeline{srv: srv, eng: eng, ctl: game.Controls(), runner: runner, cam: cam}
	go watchConfig(ctx, *cfgPath, cfg, p.reload)

	if note := scene.SetupDisplay(cfg.Scene, *windowed); note != "" {
		slog.Warn(note)
	}
	if err := ebiten.RunGame(game); err != nil && !scene.IsTermination(err) {
		return fmt.Errorf("display: %w", err)
	}
	slog.Info("reverie stopped")
	return nil
}

// rateLimited logs at most n errors, then one line saying the rest are
// counted, so a failing stage never floods the log.
func rateLimited(msg string, n int) func(error) {
	count := 0
	return func(err error) {
		count++
		switch {
		case count <= n:
			slog.Error(msg, "err", err)
		case count == n+1:
			slog.Error(msg+"; further failures are not logged", "err", err)
		}
	}
}

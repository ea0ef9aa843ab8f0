package core

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"runtime/debug"

	"github.com/hajimehoshi/ebiten/v2"

	"reverie/conf"
	"reverie/control"
	"reverie/control/midi"
	"reverie/director"
	"reverie/scene"
	"reverie/videoout"
)

// Run opens the installation as cfg says and shows it until the window
// closes: the generator and the camera on their own goroutines, live
// control, and cfgPath watched for changes. windowed opens a window instead
// of going full-screen.
func Run(cfg conf.Config, cfgPath string, windowed bool) error {
	// Ebiten's ReadPixels allocates a new buffer after every draw, and the
	// dream reads its picture back several times a second (~2 MB/s of
	// garbage). With Go's default GC target the heap swings between its
	// live size and twice that, ~100 MiB of RSS noise over an hour that
	// hides real growth; a quarter keeps the swing near 25 MiB for a GC
	// every few seconds, negligible CPU at this rate.
	debug.SetGCPercent(25)
	runner, err := OpenRunner(cfg.Generator)
	if err != nil {
		return err
	}
	defer runner.Close()
	runner.OnError(rateLimited("generator frame failed", 10))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cam := &camera{parent: ctx}
	cam.start(cfg.Vision)
	go runner.Run(ctx)

	m := runner.Model()
	director, err := director.NewFor(cfg.Scene.Director, m.Manifest)
	if err != nil {
		return err
	}
	// The recording, the stream and the virtual camera take the displayed
	// picture at the render size.
	out := videoout.New(cfg.VideoOut, cfg.Scene.RenderW, cfg.Scene.RenderH, videoout.DefaultOpeners())
	defer out.Close()
	snd := startSound(ctx, cfg.Audio)
	drv := &live{cam: cam, runner: runner, out: out, snd: snd}
	game, err := scene.NewGame(cfg.Scene, m.Width(), m.Height(), director, drv)
	if err != nil {
		return err
	}
	defer game.Dispose()

	go newSteering(game, cam, runner, snd).Run(ctx)
	game.Controls().SetFit(cfg.Generator.Fit)
	game.Controls().SetModelInputs(runner) // presets' generator.* values
	p := &pipeline{ctl: game.Controls(), runner: runner, cam: cam, out: out, gen: cfg.Generator, configDir: filepath.Dir(cfgPath)}
	p.eng = newEngine(p)
	drv.toggleRecording = p.eng.toggleRecording
	srv, err := control.New(cfg.Control, p.eng, Journal)
	if err != nil {
		return err
	}
	p.srv = srv
	registerMatGauge(srv)
	srv.SetSound(snd.stats)
	if p.midi, err = midi.NewInput(cfg.MIDI, p.eng, slog.Default()); err != nil {
		return err
	}
	go p.midi.Run(ctx)
	srv.SetMIDI(p.midi)
	if err := srv.Start(ctx); err != nil {
		return err
	}
	go conf.Watch(ctx, cfgPath, cfg, p.reload)

	if note := scene.SetupDisplay(cfg.Scene, windowed); note != "" {
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

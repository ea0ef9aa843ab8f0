package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/hajimehoshi/ebiten/v2"

	"reverie/scene"
	"reverie/vision"
)

func cmdRender(args []string) error {
	fs := flag.NewFlagSet("render", flag.ContinueOnError)
	cfgPath := configFlag(fs)
	input := fs.String("input", "", "video file to render from (required)")
	frames := fs.Int("frames", 0, "number of output frames, one per input frame (required)")
	out := fs.String("out", "", "output folder for frame_00000.png … and trace.jsonl (required)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case *input == "":
		return errors.New("render: -input FILE is required")
	case *frames < 1:
		return fmt.Errorf("render: -frames %d: expected a positive number of frames", *frames)
	case *out == "":
		return errors.New("render: -out DIR is required")
	}
	if st, err := os.Stat(*input); err != nil {
		return fmt.Errorf("render: -input %s: %w", *input, unwrapPath(err))
	} else if st.IsDir() {
		return fmt.Errorf("render: -input %s is a folder, expected a video file", *input)
	}
	if err := checkWritable(*out); err != nil {
		return fmt.Errorf("render: -out %s: %w", *out, err)
	}
	cfg, err := loadConfig(fs, *cfgPath)
	if err != nil {
		return err
	}
	vc := cfg.Vision
	vc.Source, vc.AtEnd = *input, "loop"
	src, err := vision.OpenSource(vc, *input)
	if err != nil {
		return fmt.Errorf("render: %w", err)
	}
	defer src.Close()
	runner, err := openRunner(cfg.Generator)
	if err != nil {
		return err
	}
	defer runner.Close()
	an := vision.NewAnalyzer(vc)
	defer an.Close()
	m := runner.Model()
	director, err := scene.NewDirectorFor(cfg.Scene.Director, m.Manifest)
	if err != nil {
		return fmt.Errorf("render: %w", err)
	}
	off := &scene.Offline{
		Source: src, Analyzer: an, Runner: runner, Frames: *frames, OutDir: *out, Director: director,
	}
	if err := off.Start(cfg.Scene.RenderW, cfg.Scene.RenderH); err != nil {
		return fmt.Errorf("render: %w", err)
	}
	game, err := scene.NewGame(cfg.Scene, m.Width(), m.Height(), off)
	if err != nil {
		off.Close()
		return err
	}
	defer game.Dispose()
	game.Controls().SetModelInputs(runner) // the start preset's generator.* values
	game.UseVirtualClock(off.FrameStep())

	ebiten.SetWindowTitle("reverie render")
	ebiten.SetWindowSize(cfg.Scene.RenderW, cfg.Scene.RenderH)
	ebiten.SetVsyncEnabled(false)
	ebiten.SetTPS(ebiten.SyncWithFPS)
	runErr := ebiten.RunGame(game)
	closeErr := off.Close()
	if runErr != nil && !scene.IsTermination(runErr) {
		return fmt.Errorf("render: display: %w", runErr)
	}
	if off.Err != nil {
		return fmt.Errorf("render: %w", off.Err)
	}
	if closeErr != nil {
		return fmt.Errorf("render: %w", closeErr)
	}
	slog.Info("render done", "frames", off.Written(), "out", *out)
	return nil
}

// checkWritable makes dir if needed and proves a file can be created in it.
func checkWritable(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot create the folder: %w", unwrapPath(err))
	}
	f, err := os.CreateTemp(dir, ".reverie-write-test-*")
	if err != nil {
		return fmt.Errorf("folder is not writable: %w", unwrapPath(err))
	}
	name := f.Name()
	f.Close()
	return os.Remove(filepath.Clean(name))
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

package core

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/hajimehoshi/ebiten/v2"

	"reverie/audio"
	"reverie/conf"
	"reverie/director"
	"reverie/internal/userfile"
	"reverie/scene"
	"reverie/vision"
)

// A RenderJob is one offline render, as `reverie render` asks for it: the
// video file Input rendered through the whole pipeline, in lockstep on a
// virtual clock, to Frames output frames, one per input frame. They go to
// the folder Out as frame_00000.png … with trace.jsonl beside them, or to
// the video file Video (.mp4, .mkv or .avi, at the input's frame rate, in
// video_out.record.codec) with NAME.trace.jsonl beside it. With Sound (a
// WAV file, or "" for none) the sound is heard in lockstep with the frames,
// analysed as the audio section says.
type RenderJob struct {
	Input, Sound string
	Frames       int
	Out, Video   string
}

// Check says what is wrong with the job before any config is loaded. Its
// errors name each field by the command's flag.
func (j RenderJob) Check() error {
	switch {
	case j.Input == "":
		return errors.New("render: -input FILE is required")
	case j.Frames < 1:
		return fmt.Errorf("render: -frames %d: expected a positive number of frames", j.Frames)
	case j.Out == "" && j.Video == "":
		return errors.New("render: -out DIR or -video FILE is required")
	case j.Out != "" && j.Video != "":
		return errors.New("render: -out and -video both given: choose PNGs in a folder (-out) or one video file (-video)")
	}
	if j.Video != "" {
		switch strings.ToLower(filepath.Ext(j.Video)) {
		case ".mp4", ".mkv", ".avi":
		default:
			return fmt.Errorf("render: -video %s: expected a file ending in .mp4, .mkv or .avi", j.Video)
		}
	}
	if err := userfile.CheckInput(j.Input); err != nil {
		return fmt.Errorf("render: -input %s: %w; expected a video file", j.Input, err)
	}
	if j.Video != "" {
		if err := userfile.CheckWritable(filepath.Dir(j.Video)); err != nil {
			return fmt.Errorf("render: -video %s: %w", j.Video, err)
		}
	} else if err := userfile.CheckWritable(j.Out); err != nil {
		return fmt.Errorf("render: -out %s: %w", j.Out, err)
	}
	return nil
}

// Run renders the job with cfg. It does not call Check.
func (j RenderJob) Run(cfg conf.Config) error {
	if j.Video != "" {
		return render(cfg, j.Input, j.Sound, &offline{Frames: j.Frames, Video: j.Video, Codec: cfg.VideoOut.Record.Codec})
	}
	return render(cfg, j.Input, j.Sound, &offline{Frames: j.Frames, OutDir: j.Out})
}

func render(cfg conf.Config, input, sound string, off *offline) error {
	vc := cfg.Vision
	vc.Source, vc.AtEnd = input, "loop"
	src, err := vision.OpenSource(vc, input)
	if err != nil {
		return fmt.Errorf("render: %w", err)
	}
	defer src.Close()
	runner, err := OpenRunner(cfg.Generator)
	if err != nil {
		return err
	}
	defer runner.Close()
	an := vision.NewAnalyzer(vc)
	defer an.Close()
	m := runner.Model()
	director, err := director.NewFor(cfg.Scene.Director, m.Manifest)
	if err != nil {
		return fmt.Errorf("render: %w", err)
	}
	off.Source, off.Analyzer, off.Runner = src, an, runner
	if sound != "" {
		if off.Sound, err = audio.OpenLockstep(sound, cfg.Audio.Config); err != nil {
			return fmt.Errorf("render: %w", err)
		}
		defer off.Sound.Close()
	}
	if err := off.Start(cfg.Scene.RenderW, cfg.Scene.RenderH); err != nil {
		return fmt.Errorf("render: %w", err)
	}
	game, err := scene.NewGame(cfg.Scene, m.Width(), m.Height(), director, off)
	if err != nil {
		off.Close()
		return err
	}
	defer game.Dispose()
	game.Controls().SetFit(cfg.Generator.Fit)
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
	out := off.OutDir
	if off.Video != "" {
		out = off.Video
	}
	slog.Info("render done", "frames", off.Written(), "out", out)
	return nil
}

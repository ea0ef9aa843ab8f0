package core

import (
	"fmt"
	"log/slog"

	"github.com/hajimehoshi/ebiten/v2"

	"reverie/audio"
	"reverie/conf"
	"reverie/director"
	"reverie/scene"
	"reverie/vision"
)

// Render renders the video file input offline through the whole pipeline,
// in lockstep on a virtual clock: frames output frames, one per input
// frame, written to out as frame_00000.png … with trace.jsonl beside them.
// With sound (a WAV file, or "" for none) the sound is heard in lockstep
// with the frames, analysed as the audio section says.
func Render(cfg conf.Config, input, sound string, frames int, out string) error {
	return render(cfg, input, sound, &offline{Frames: frames, OutDir: out})
}

// RenderVideo renders as Render does into the video file video (.mp4, .mkv
// or .avi, at the input's frame rate, in video_out.record.codec), with
// NAME.trace.jsonl beside it.
func RenderVideo(cfg conf.Config, input, sound string, frames int, video string) error {
	return render(cfg, input, sound, &offline{Frames: frames, Video: video, Codec: cfg.VideoOut.Record.Codec})
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

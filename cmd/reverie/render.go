package main

import (
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"strings"

	"reverie/core"
	"reverie/internal/userfile"
)

func cmdRender(args []string) error {
	fs := flag.NewFlagSet("render", flag.ContinueOnError)
	cfgPath := configFlag(fs)
	input := fs.String("input", "", "video file to render from (required)")
	frames := fs.Int("frames", 0, "number of output frames, one per input frame (required)")
	out := fs.String("out", "", "output folder for frame_00000.png … and trace.jsonl (this or -video)")
	video := fs.String("video", "", "a video file (.mp4, .mkv or .avi) to write instead of PNGs, with NAME.trace.jsonl beside it")
	sound := fs.String("audio", "", "a WAV file heard in lockstep with the frames (optional): its features move the piece and go into trace.jsonl")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case *input == "":
		return errors.New("render: -input FILE is required")
	case *frames < 1:
		return fmt.Errorf("render: -frames %d: expected a positive number of frames", *frames)
	case *out == "" && *video == "":
		return errors.New("render: -out DIR or -video FILE is required")
	case *out != "" && *video != "":
		return errors.New("render: -out and -video both given: choose PNGs in a folder (-out) or one video file (-video)")
	}
	if *video != "" {
		switch strings.ToLower(filepath.Ext(*video)) {
		case ".mp4", ".mkv", ".avi":
		default:
			return fmt.Errorf("render: -video %s: expected a file ending in .mp4, .mkv or .avi", *video)
		}
	}
	if err := userfile.CheckInput(*input); err != nil {
		return fmt.Errorf("render: -input %s: %w; expected a video file", *input, err)
	}
	if *video != "" {
		if err := userfile.CheckWritable(filepath.Dir(*video)); err != nil {
			return fmt.Errorf("render: -video %s: %w", *video, err)
		}
	} else if err := userfile.CheckWritable(*out); err != nil {
		return fmt.Errorf("render: -out %s: %w", *out, err)
	}
	cfg, err := loadConfig(fs, *cfgPath)
	if err != nil {
		return err
	}
	if *video != "" {
		return core.RenderVideo(cfg, *input, *sound, *frames, *video)
	}
	return core.Render(cfg, *input, *sound, *frames, *out)
}

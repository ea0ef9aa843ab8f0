package main

import (
	"errors"
	"flag"
	"fmt"

	"reverie/core"
	"reverie/internal/userfile"
)

func cmdRender(args []string) error {
	fs := flag.NewFlagSet("render", flag.ContinueOnError)
	cfgPath := configFlag(fs)
	input := fs.String("input", "", "video file to render from (required)")
	frames := fs.Int("frames", 0, "number of output frames, one per input frame (required)")
	out := fs.String("out", "", "output folder for frame_00000.png … and trace.jsonl (required)")
	sound := fs.String("audio", "", "a WAV file heard in lockstep with the frames (optional): its features move the piece and go into trace.jsonl")
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
	if err := userfile.CheckInput(*input); err != nil {
		return fmt.Errorf("render: -input %s: %w; expected a video file", *input, err)
	}
	if err := userfile.CheckWritable(*out); err != nil {
		return fmt.Errorf("render: -out %s: %w", *out, err)
	}
	cfg, err := loadConfig(fs, *cfgPath)
	if err != nil {
		return err
	}
	return core.Render(cfg, *input, *sound, *frames, *out)
}

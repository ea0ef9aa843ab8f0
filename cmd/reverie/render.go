package main

import (
	"flag"

	"reverie/core"
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
	job := core.RenderJob{Input: *input, Sound: *sound, Frames: *frames, Out: *out, Video: *video}
	if err := job.Check(); err != nil {
		return err
	}
	cfg, err := loadConfig(fs, *cfgPath)
	if err != nil {
		return err
	}
	return job.Run(cfg)
}

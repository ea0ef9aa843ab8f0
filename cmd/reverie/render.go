package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

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
	if st, err := os.Stat(*input); err != nil {
		return fmt.Errorf("render: -input %s: %w", *input, userfile.StripPath(err))
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
	return core.Render(cfg, *input, *sound, *frames, *out)
}

// checkWritable makes dir if needed and proves a file can be created in it.
func checkWritable(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot create the folder: %w", userfile.StripPath(err))
	}
	f, err := os.CreateTemp(dir, ".reverie-write-test-*")
	if err != nil {
		return fmt.Errorf("folder is not writable: %w", userfile.StripPath(err))
	}
	name := f.Name()
	f.Close()
	return os.Remove(filepath.Clean(name))
}

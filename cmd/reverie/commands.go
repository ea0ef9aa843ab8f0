package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
)

// command is one subcommand.
type command struct {
	summary string
	run     func(args []string) error
}

var commands = map[string]command{
	"run":     {"open the installation (default camera, or the sample clip)", cmdRun},
	"render":  {"render a video file offline to PNG frames and a trace", cmdRender},
	"analyze": {"print the motion features of a camera, file or stream, one JSON line per frame", cmdAnalyze},
	"bench":   {"measure every stage against a bare baseline, and the input-to-response latency", cmdBench},
	"version": {"print the versions of reverie, OpenCV, ONNX Runtime and Ebiten", cmdVersion},
	"models":  {"list the trained networks, inspect a model against its manifest, or build a built-in one", cmdModels},
}

func dispatch(args []string) error {
	if len(args) == 0 {
		args = []string{"run"}
	}
	name := args[0]
	if name == "-h" || name == "-help" || name == "--help" || name == "help" {
		usage(os.Stdout)
		return nil
	}
	c, ok := commands[name]
	if !ok {
		return fmt.Errorf("unknown command %q; expected one of %s (reverie help lists them)", name, strings.Join(commandNames(), ", "))
	}
	return c.run(args[1:])
}

func commandNames() []string { return slices.Sorted(maps.Keys(commands)) }

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: reverie <command> [flags]; reverie <command> -h shows a command's flags")
	for _, n := range commandNames() {
		fmt.Fprintf(w, "  %-8s %s\n", n, commands[n].summary)
	}
}

// errHelp ends a command after -h printed its flags.
var errHelp = errors.New("help")

// parseFlags parses a subcommand's flags. A wrong flag is one line of error,
// not a page of usage; -h prints the flags.
func parseFlags(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(os.Stdout)
		fmt.Fprintf(os.Stdout, "usage: reverie %s [flags]\n", fs.Name())
		fs.PrintDefaults()
		return errHelp
	}
	if err != nil {
		return fmt.Errorf("%s: %v (reverie %s -h lists the flags)", fs.Name(), err, fs.Name())
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected argument %q (reverie %s -h lists the flags)", fs.Name(), fs.Arg(0), fs.Name())
	}
	return nil
}

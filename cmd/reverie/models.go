package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"reverie/gen"
	"reverie/gen/dream"
	"reverie/gen/networks"
)

// cmdModels is `reverie models inspect|build`.
func cmdModels(args []string) error {
	if len(args) == 0 {
		return errors.New("models: expected a subcommand: list, inspect FILE.onnx|NETWORK [-manifest M.yaml], or build -kind cppn|convdecoder|restyle -out FILE.onnx")
	}
	switch args[0] {
	case "list":
		return cmdModelsList(args[1:])
	case "inspect":
		return cmdModelsInspect(args[1:])
	case "layers":
		return cmdModelsLayers(args[1:])
	case "build":
		return cmdModelsBuild(args[1:])
	case "-h", "-help", "--help", "help":
		fmt.Println("usage: reverie models list")
		fmt.Println("       reverie models inspect FILE.onnx|NETWORK [-manifest M.yaml] [-config FILE]")
		fmt.Println("       reverie models layers FILE.onnx|NETWORK")
		fmt.Println("       reverie models build -kind cppn|convdecoder|restyle -seed N [-size WxH] [-look L] -out FILE.onnx [-preview FILE.png]")
		return nil
	}
	return fmt.Errorf("models: unknown subcommand %q; expected list, inspect, layers or build", args[0])
}

// cmdModelsList prints the trained networks set-up installs, with their
// state, input and credits.
func cmdModelsList(args []string) error {
	fs := flag.NewFlagSet("models list", flag.ContinueOnError)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	networks.WriteList(os.Stdout, networks.Dir())
	return nil
}

// cmdModelsInspect prints a model's inputs and outputs, checks its manifest
// against them and, when they fit, runs one frame.
func cmdModelsInspect(args []string) error {
	fs := flag.NewFlagSet("models inspect", flag.ContinueOnError)
	cfgPath := configFlag(fs)
	manPath := fs.String("manifest", "", "the model's manifest (default: FILE.yaml beside FILE.onnx, when it exists)")
	file, err := parseFlagsWithFile(fs, args)
	if err != nil {
		return err
	}
	if file == "" {
		return errors.New("models inspect: expected the model file or a trained network's name: reverie models inspect FILE.onnx|NETWORK [-manifest M.yaml]")
	}
	file, net, err := networks.Resolve(file)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(fs, *cfgPath)
	if err != nil {
		return err
	}
	return gen.InspectFile(os.Stdout, file, net, *manPath, &cfg.Generator)
}

// cmdModelsLayers lists a model's tensors: the names a dream manifest's
// layers can use.
func cmdModelsLayers(args []string) error {
	if len(args) != 1 || strings.HasPrefix(args[0], "-") {
		return errors.New("models layers: expected one model file or trained network: reverie models layers FILE.onnx|NETWORK")
	}
	return dream.WriteModelLayers(os.Stdout, args[0])
}

// parseFlagsWithFile parses flags and takes one positional argument, the
// file, from before or after them.
func parseFlagsWithFile(fs *flag.FlagSet, args []string) (file string, err error) {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		file, args = args[0], args[1:]
	}
	if file == "" && len(args) > 0 {
		last := args[len(args)-1]
		prevIsFlag := len(args) > 1 && strings.HasPrefix(args[len(args)-2], "-") && !strings.Contains(args[len(args)-2], "=")
		if !strings.HasPrefix(last, "-") && !prevIsFlag {
			file, args = last, args[:len(args)-1]
		}
	}
	return file, parseFlags(fs, args)
}

// cmdModelsBuild writes a built-in model and its manifest.
func cmdModelsBuild(args []string) error {
	def := gen.DefaultConfig()
	fs := flag.NewFlagSet("models build", flag.ContinueOnError)
	kind := fs.String("kind", "cppn", "cppn, convdecoder or restyle")
	seed := fs.Uint64("seed", def.Seed, "weights seed: each seed is a different piece")
	size := fs.String("size", fmt.Sprintf("%dx%d", def.Width, def.Height), "frame size WxH, 16..4096 each")
	look := fs.String("look", def.Look, "the CPPN's activation mix: "+strings.Join(gen.LookNames(), ", "))
	out := fs.String("out", "", "the .onnx file to write; the manifest goes beside it as .yaml")
	preview := fs.String("preview", "", "also write one frame of the model as this PNG file, to see what the seed looks like")
	cfgPath := configFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	c, err := gen.BuildJob{Kind: *kind, Seed: *seed, Size: *size, Look: *look, Out: *out, Preview: *preview}.Config()
	if err != nil {
		return err
	}
	man, manFile, err := gen.BuildModel(&c, *out)
	if err != nil {
		return fmt.Errorf("models build: %w", err)
	}
	fmt.Printf("wrote %s (%d KiB) and its manifest %s; use it with generator.model: %s\n", *out, len(man.ONNX())/1024, manFile, manFile)
	if *preview == "" {
		return nil
	}
	cfg, err := loadConfig(fs, *cfgPath) // for ort_library, provider and threads
	if err != nil {
		return err
	}
	warning, err := gen.WritePreview(man, &cfg.Generator, *seed, *preview)
	warning.WriteText(os.Stdout)
	if err != nil {
		return fmt.Errorf("models build: -preview %s: %w", *preview, err)
	}
	fmt.Printf("wrote %s, one frame from a latent drawn with seed %d\n", *preview, *seed)
	return nil
}

// Package gen runs generator models: the ONNX Runtime wrapper, model
// manifests, the Runner that produces frames continuously, and the built-in
// models it writes as ONNX from a seed.
package gen

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"reverie/internal/field"
)

// Config is the generator section of config.yaml.
type Config struct {
	Model  string `yaml:"model"` // builtin:cppn, builtin:convdecoder, or a manifest path
	Seed   uint64 `yaml:"seed"`  // weights of the built-in models
	Width  int    `yaml:"width"` // built-in models' output size
	Height int    `yaml:"height"`
	Look   string `yaml:"look"` // cppn activation mix
	// Fit is how the model's frames meet the scene's canvas when their
	// aspects differ: cover, contain or stretch.
	Fit        Fit    `yaml:"fit"`
	Provider   string `yaml:"provider"`    // cpu | cuda | tensorrt | coreml | directml
	Threads    int    `yaml:"threads"`     // intra-op threads, 0 = ONNX Runtime's choice
	Strict     bool   `yaml:"strict"`      // fail instead of falling back to CPU
	ORTLibrary string `yaml:"ort_library"` // path to libonnxruntime.so.1, "" to search
	// Crossfade is the seconds a hot swap takes to blend from the old model's
	// last frame to the new model's frames.
	Crossfade float64 `yaml:"crossfade"`
	// MaxFPS caps the frames made per second, 0 = as fast as the model
	// allows. It changes live (Runner.SetMaxFPS) without a swap.
	MaxFPS float64 `yaml:"max_fps"`
	// ModelDirs are the folders a model named over the network (HTTP, OSC)
	// must be in; empty means models/ and the config file's folder
	// (NetworkModelDirs). The config file itself may name any path.
	ModelDirs []string `yaml:"model_dirs"`
	// LoadTimeout is the seconds a hot swap's load (reading, session,
	// first run) may take before it is abandoned and the swap slot freed;
	// 0 means DefaultLoadTimeout.
	LoadTimeout float64 `yaml:"load_timeout"`
}

// Builtins are the models written from generator.seed, by their
// generator.model names.
var Builtins = []string{"builtin:cppn", "builtin:convdecoder", "builtin:restyle"}

// DefaultLoadTimeout is generator.load_timeout's default, in seconds.
const DefaultLoadTimeout = 60

// MaxFPSLimit is the highest generator.max_fps.
const MaxFPSLimit = 240

// DefaultConfig is the generator section's defaults, the same as config.yaml's.
func DefaultConfig() Config {
	return Config{Model: "builtin:cppn", Seed: 7, Width: 320, Height: 180, Look: "marble", Fit: FitCover, Provider: "cpu", Threads: 0, Crossfade: 1.5,
		ModelDirs: []string{}, LoadTimeout: DefaultLoadTimeout}
}

// FieldError names the config key a validation failure is about.
type FieldError = field.Error

// Validate checks every value.
func (c *Config) Validate() error {
	if c.Model == "" {
		return &FieldError{Key: "model", Msg: "empty; expected " + strings.Join(Builtins, ", ") + " or a manifest path"}
	}
	if strings.HasPrefix(c.Model, "builtin:") && !slices.Contains(Builtins, c.Model) {
		return &FieldError{Key: "model", Msg: fmt.Sprintf("%q: expected %s or a manifest path", c.Model, strings.Join(Builtins, ", "))}
	}
	if c.Width < 16 || c.Width > 4096 {
		return &FieldError{Key: "width", Msg: fmt.Sprintf("%d: expected 16..4096", c.Width)}
	}
	if c.Height < 16 || c.Height > 4096 {
		return &FieldError{Key: "height", Msg: fmt.Sprintf("%d: expected 16..4096", c.Height)}
	}
	if _, ok := CPPNLooks[c.Look]; !ok {
		return &FieldError{Key: "look", Msg: fmt.Sprintf("%q: expected one of %s", c.Look, strings.Join(LookNames(), ", "))}
	}
	if err := c.Fit.Check(); err != nil {
		return &FieldError{Key: "fit", Msg: err.Error()}
	}
	ok := false
	for _, p := range Providers {
		ok = ok || p == c.Provider
	}
	if !ok {
		return &FieldError{Key: "provider", Msg: fmt.Sprintf("%q: expected one of %s", c.Provider, strings.Join(Providers, ", "))}
	}
	if c.Threads < 0 || c.Threads > 256 {
		return &FieldError{Key: "threads", Msg: fmt.Sprintf("%d: expected 0 (automatic) .. 256", c.Threads)}
	}
	if c.Crossfade < 0 || c.Crossfade > 60 {
		return &FieldError{Key: "crossfade", Msg: fmt.Sprintf("%g: expected 0 (cut) .. 60 seconds", c.Crossfade)}
	}
	if !(c.MaxFPS >= 0 && c.MaxFPS <= MaxFPSLimit) { // also refuses NaN
		return &FieldError{Key: "max_fps", Msg: fmt.Sprintf("%g: expected 0 (as fast as the model allows) .. %d frames per second", c.MaxFPS, MaxFPSLimit)}
	}
	for i, d := range c.ModelDirs {
		if strings.TrimSpace(d) == "" {
			return &FieldError{Key: fmt.Sprintf("model_dirs[%d]", i), Msg: "empty; expected a folder"}
		}
	}
	if !(c.LoadTimeout >= 0 && c.LoadTimeout <= 3600) {
		return &FieldError{Key: "load_timeout", Msg: fmt.Sprintf("%g: expected 0 (the default, %d) .. 3600 seconds", c.LoadTimeout, DefaultLoadTimeout)}
	}
	return nil
}

// loadTimeout is the configured load timeout, or the default.
func (c *Config) loadTimeout() time.Duration {
	s := c.LoadTimeout
	if s <= 0 {
		s = DefaultLoadTimeout
	}
	return time.Duration(s * float64(time.Second))
}

// Session is the session part of the config.
func (c *Config) Session() SessionConfig {
	return SessionConfig{Provider: c.Provider, Threads: c.Threads, Strict: c.Strict}
}

// Manifest resolves the configured model to a manifest: a built-in one built
// from the seed, or a user's manifest file.
func (c *Config) Manifest() (*Manifest, error) { return c.manifest(false) }

// manifest is Manifest; portable builds a built-in with ONNX's own
// operators only, for a file other tools open (see CPPN.Portable).
func (c *Config) manifest(portable bool) (*Manifest, error) {
	switch c.Model {
	case "builtin:cppn":
		cp := c.CPPN(c.Width, c.Height)
		cp.Portable = cp.Portable || portable
		return cp.Build()
	case "builtin:convdecoder":
		return DefaultConvDecoder(c.Seed, c.Width, c.Height).Build()
	case "builtin:restyle":
		return DefaultRestyle(c.Seed, c.Width, c.Height).Build()
	}
	return LoadManifest(c.Model)
}

// CPPN is the built-in CPPN at w×h with the configured seed and look. On a
// GPU provider it is Portable: reverie's kernels run on the CPU, and each
// would copy its tile from the GPU and back.
func (c *Config) CPPN(w, h int) CPPN {
	cp := DefaultCPPN(c.Seed, w, h)
	cp.Look = c.Look
	cp.Portable = c.Provider != "" && c.Provider != "cpu"
	return cp
}

// Open resolves the configured model and loads it.
func (c *Config) Open() (*Model, Warning, error) {
	man, err := c.Manifest()
	if err != nil {
		return nil, "", err
	}
	return Load(man, c.Session())
}

// Package conf loads config.yaml: one section per package, each owning its
// options, with every error naming the key and its line; and it watches the
// file, reloading it once it has settled.
package conf

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"reverie/audio"
	"reverie/control"
	"reverie/control/midi"
	"reverie/gen"
	"reverie/internal/field"
	"reverie/internal/personnet"
	"reverie/scene"
	"reverie/videoout"
	"reverie/vision"
)

// Config is config.yaml: one section per package, each owning its options.
type Config struct {
	Log       LogConfig       `yaml:"log"`
	Vision    vision.Config   `yaml:"vision"`
	Generator gen.Config      `yaml:"generator"`
	Scene     scene.Config    `yaml:"scene"`
	Control   control.Config  `yaml:"control"`
	Audio     audio.Section   `yaml:"audio"`
	MIDI      midi.Config     `yaml:"midi"`
	VideoOut  videoout.Config `yaml:"video_out"`
}

// LogConfig is the log section.
type LogConfig struct {
	Level  string `yaml:"level"`  // debug | info | warn | error
	Format string `yaml:"format"` // text | json
}

// DefaultConfig is every default, the same values config.yaml documents.
func DefaultConfig() Config {
	return withPersonNets(Config{
		Log:       LogConfig{Level: "info", Format: "text"},
		Vision:    vision.DefaultConfig(),
		Generator: gen.DefaultConfig(),
		Scene:     scene.DefaultConfig(),
		Control:   control.DefaultConfig(),
		VideoOut:  videoout.DefaultConfig(),
		Audio:     audio.DefaultSection(),
		MIDI:      midi.DefaultConfig(),
	})
}

// withPersonNets wires ONNX Runtime into vision's person evidence
// (vision.person): vision and gen do not know each other, so every loaded
// config hands vision an adapter that opens gen's trained networks with the
// configured runtime library.
func withPersonNets(c Config) Config {
	// One intra-op thread: the person network runs beside the generator,
	// the dream and the display, and on a few cores two threads' spin-
	// waiting takes more than it gives (gen/grad's measurements).
	c.Vision.Nets = personnet.Nets{Library: c.Generator.ORTLibrary, Session: gen.SessionConfig{Threads: 1}}
	return c
}

// DefaultFile is read when -config is not given and it exists.
const DefaultFile = "config.yaml"

// Error is a problem in a config file, located by key and line.
type Error struct {
	File string
	Line int
	Key  string
	Msg  string
}

func (e *Error) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc += ":" + strconv.Itoa(e.Line)
	}
	if e.Key != "" {
		return fmt.Sprintf("%s: %s: %s", loc, e.Key, e.Msg)
	}
	return fmt.Sprintf("%s: %s", loc, e.Msg)
}

// Load reads path over the defaults. An unknown key, a wrong type or an
// out-of-range value is an error naming the key and its line: the program
// never starts on a config it only half understood. explicit says whether
// the user named the file; a missing default file means the defaults.
func Load(path string, explicit bool) (Config, error) {
	cfg := DefaultConfig()
	data, err := os.ReadFile(path)
	if err != nil {
		if !explicit && errors.Is(err, os.ErrNotExist) {
			return cfg, nil
		}
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return cfg, &Error{File: path, Msg: "cannot read it: " + err.Error()}
	}
	return Parse(path, data)
}

var (
	lineRE    = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	unknownRE = regexp.MustCompile(`^field (\S+) not found in type (\S+)$`)
	typeRE    = regexp.MustCompile("^cannot unmarshal !!(\\w+) `(.*)` into (\\S+)$")
)

// Parse parses config data named file over the defaults.
func Parse(file string, data []byte) (Config, error) {
	cfg := DefaultConfig()
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return cfg, yamlError(file, nil, err)
	}
	if empty(&root) {
		return withPersonNets(cfg), &Error{File: file, Msg: ErrEmpty.Error()}
	}
	keys := keyLines(&root)
	if err := checkPoints(file, &root); err != nil {
		return cfg, err
	}
	if len(bytes.TrimSpace(data)) > 0 {
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&cfg); err != nil {
			return cfg, yamlError(file, keys, err)
		}
	}
	const oldKey, newKey = "scene.director.idle_speed", "scene.director.idle_period"
	if _, both := keys[newKey]; both && cfg.Scene.Director.OldIdleSpeed != nil {
		return cfg, &Error{File: file, Line: lineOf(keys, oldKey), Key: oldKey, Msg: "the old name of idle_period, which is also set: keep only idle_period"}
	}
	for _, n := range cfg.Scene.Upgrade() {
		key := "scene." + n.Key
		slog.Warn("config: an old key name", "file", file, "line", lineOf(keys, key), "key", key, "note", n.Msg)
	}
	for _, s := range []struct {
		name string
		err  error
	}{
		{"log", cfg.Log.Validate()},
		{"vision", cfg.Vision.Validate()},
		{"generator", cfg.Generator.Validate()},
		{"scene", cfg.Scene.Validate()},
		{"control", cfg.Control.Validate()},
		{"video_out", cfg.VideoOut.Validate()},
		{"audio", cfg.Audio.Validate()},
		{"midi", checkMIDI(cfg.MIDI, &cfg.Scene)},
	} {
		if s.err == nil {
			continue
		}
		key, msg := s.name, s.err.Error()
		var fe interface{ FieldKey() string }
		if errors.As(s.err, &fe) {
			key += "." + fe.FieldKey()
			msg = strings.TrimPrefix(msg, fe.FieldKey()+": ")
		}
		return cfg, &Error{File: file, Line: lineOf(keys, key), Key: key, Msg: msg}
	}
	return withPersonNets(cfg), nil
}

// checkMIDI checks the midi section against the scene it drives: each
// control names one of its parameters, within that parameter's range, and
// each note one of its presets, so a typo names its line at start.
func checkMIDI(m midi.Config, sc *scene.Config) error {
	if err := m.Check(sc.HasParam, sc.HasPreset); err != nil {
		return err
	}
	for i, k := range m.Controls {
		lo, hi, ok := sc.ParamRange(k.Param)
		if !ok {
			continue // a model input: the running model checks it
		}
		for _, end := range []struct {
			key string
			v   float64
		}{{"min", k.Min}, {"max", k.Max}} {
			if end.v < lo || end.v > hi {
				return &field.Error{Key: fmt.Sprintf("controls[%d].%s", i, end.key), Msg: fmt.Sprintf("%g: outside %s's range %g..%g", end.v, k.Param, lo, hi)}
			}
		}
	}
	return nil
}

// ErrEmpty is a config file with no settings: empty, or only comments.
// Taken as the defaults it would reset every setting (and move the
// listeners), so a reload refuses it and the start says so.
var ErrEmpty = errors.New("the file holds no settings (it is empty or only comments); expected config.yaml's sections, such as generator: and scene:")

// IsEmpty says whether err is Parse's refusal of a file with no settings;
// the Config that comes with it is the defaults.
func IsEmpty(err error) bool {
	var ce *Error
	return errors.As(err, &ce) && ce.Msg == ErrEmpty.Error()
}

// empty says whether a parsed YAML document holds nothing.
func empty(root *yaml.Node) bool {
	return root.Kind == 0 || (root.Kind == yaml.DocumentNode && (len(root.Content) == 0 || root.Content[0].Tag == "!!null"))
}

// checkPoints finds a point of vision.regions or vision.ignore that is not
// [x, y], by key and line: the YAML decoder's own message ("invalid array:
// want 2 elements but got 3") names neither.
func checkPoints(file string, root *yaml.Node) error {
	child := func(n *yaml.Node, key string) *yaml.Node {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				return n.Content[i+1]
			}
		}
		return nil
	}
	if root.Kind != yaml.DocumentNode || len(root.Content) == 0 {
		return nil
	}
	vis := child(root.Content[0], "vision")
	for _, name := range []string{"regions", "ignore"} {
		polys := child(vis, name)
		if polys == nil || polys.Kind != yaml.SequenceNode {
			continue
		}
		for i, poly := range polys.Content {
			if poly.Kind != yaml.SequenceNode {
				continue // the decoder names a polygon of the wrong type
			}
			for j, pt := range poly.Content {
				if pt.Kind == yaml.SequenceNode && len(pt.Content) == 2 {
					continue
				}
				n := 1
				if pt.Kind == yaml.SequenceNode {
					n = len(pt.Content)
				}
				return &Error{File: file, Line: pt.Line, Key: fmt.Sprintf("vision.%s[%d]", name, i),
					Msg: fmt.Sprintf("point %d has %d values; expected [x, y], fractions 0..1 of the picture's width and height", j, n)}
			}
		}
	}
	return nil
}

// Validate checks the log section.
func (c *LogConfig) Validate() error {
	switch c.Level {
	case "debug", "info", "warn", "error":
	default:
		return &field.Error{Key: "level", Msg: fmt.Sprintf("%q: expected debug, info, warn or error", c.Level)}
	}
	if c.Format != "text" && c.Format != "json" {
		return &field.Error{Key: "format", Msg: fmt.Sprintf("%q: expected text or json", c.Format)}
	}
	return nil
}

// yamlError turns a yaml error into a Error naming the key and line.
func yamlError(file string, keys map[string]int, err error) error {
	var te *yaml.TypeError
	msgs := []string{err.Error()}
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	m := lineRE.FindStringSubmatch(strings.TrimSpace(msgs[0]))
	if m == nil {
		return &Error{File: file, Msg: strings.TrimPrefix(msgs[0], "yaml: ")}
	}
	line, _ := strconv.Atoi(m[1])
	msg := m[2]
	key := keyAt(keys, line)
	if u := unknownRE.FindStringSubmatch(msg); u != nil {
		msg = fmt.Sprintf("unknown key %q; see config.yaml for the keys this section takes", u[1])
	} else if t := typeRE.FindStringSubmatch(msg); t != nil {
		msg = fmt.Sprintf("%q is a %s, expected a value of type %s", t[2], t[1], strings.TrimPrefix(t[3], "[]"))
	}
	return &Error{File: file, Line: line, Key: key, Msg: msg}
}

// keyLines maps each dotted key path (scene.passes[0].zoom) to its line.
func keyLines(root *yaml.Node) map[string]int {
	out := map[string]int{}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i]
				p := k.Value
				if path != "" {
					p = path + "." + k.Value
				}
				out[p] = k.Line
				walk(n.Content[i+1], p)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				p := fmt.Sprintf("%s[%d]", path, i)
				out[p] = c.Line
				walk(c, p)
			}
		}
	}
	walk(root, "")
	return out
}

// lineOf finds the line of key or, failing that, of its nearest parent.
func lineOf(keys map[string]int, key string) int {
	for k := key; k != ""; {
		if l, ok := keys[k]; ok {
			return l
		}
		i := strings.LastIndexAny(k, ".[")
		if i < 0 {
			break
		}
		k = k[:i]
	}
	return 0
}

// keyAt names the most specific key on a line.
func keyAt(keys map[string]int, line int) string {
	best := ""
	for k, l := range keys {
		if l == line && len(k) > len(best) {
			best = k
		}
	}
	return best
}

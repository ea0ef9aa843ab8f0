package gen

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"reverie/internal/userfile"
)

// NetworkModelDirs is the folders a model named over the network must be
// in: generator.model_dirs, or when that is empty, models/ and configDir
// (the config file's folder).
func (c *Config) NetworkModelDirs(configDir string) []string {
	if len(c.ModelDirs) > 0 {
		return c.ModelDirs
	}
	if configDir == "" {
		configDir = "."
	}
	return []string{"models", configDir}
}

// ErrOutsideModelDirs is wrapped by CheckModelPath's refusals.
var ErrOutsideModelDirs = errors.New("outside generator.model_dirs")

// CheckModelPath says whether model, named by a client over the network,
// may be loaded: a built-in model, or a file inside one of dirs once every
// symbolic link on the way is resolved (so a link in models/ to /etc/shadow
// is refused). The path is first checked as written, so a client learns
// nothing about files outside dirs, not even whether they exist. The error
// names the path and the rule, never a file's contents.
func CheckModelPath(dirs []string, model string) error {
	if strings.HasPrefix(model, "builtin:") {
		return nil // Validate names the built-in models
	}
	rule := func(what string) error {
		return fmt.Errorf("model %s: %s %w (%s); over the network only manifests in those folders load: put the model there or add its folder to generator.model_dirs",
			model, what, ErrOutsideModelDirs, strings.Join(dirs, ", "))
	}
	abs, err := filepath.Abs(model)
	if err != nil {
		return fmt.Errorf("model %s: %v", model, err)
	}
	type dir struct{ abs, real string }
	var ds []dir
	for _, d := range dirs {
		a, err := filepath.Abs(d)
		if err != nil {
			continue
		}
		r, err := filepath.EvalSymlinks(a)
		if err != nil {
			r = "" // a folder that does not exist holds nothing
		}
		ds = append(ds, dir{a, r})
	}
	inside := func(p string, real bool) bool {
		for _, d := range ds {
			if within(d.real, p) || (!real && within(d.abs, p)) {
				return true
			}
		}
		return false
	}
	if !inside(abs, false) {
		return rule("is")
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("model %s: no such file; GET /api/models lists the models", model)
		}
		return fmt.Errorf("model %s: cannot resolve the path: %v", model, userfile.StripPath(err))
	}
	if !inside(real, true) {
		return rule("is a link to a file")
	}
	return nil
}

// within says whether p is dir or inside it; both are absolute and clean.
func within(dir, p string) bool {
	if dir == "" {
		return false
	}
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

package main

import (
	"bytes"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"reverie/conf"
)

// At start, a config file with no settings runs on the defaults and the
// log says so (a reload refuses it: conf's TestEmptyConfig).
func TestEmptyConfigAtStart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte("# everything commented out\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	prev := slog.Default()
	defer slog.SetDefault(prev)
	// loadConfig sets up logging to stderr: catch its warning there.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stderr
	os.Stderr = w
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	p := configFlag(fs)
	fs.Parse([]string{"-config", path})
	cfg, err := loadConfig(fs, *p)
	os.Stderr = saved
	w.Close()
	var logBuf bytes.Buffer
	logBuf.ReadFrom(r)
	want, _ := conf.Parse("defaults.yaml", []byte("log:\n  level: info\n"))
	if err != nil || cfg.Generator.Model != want.Generator.Model || cfg.Control.Listen != want.Control.Listen {
		t.Errorf("start on an empty file: %v, want the defaults", err)
	}
	if !strings.Contains(logBuf.String(), "holds no settings") || !strings.Contains(logBuf.String(), path) {
		t.Errorf("start on an empty file does not say so:\n%s", logBuf.String())
	}
}

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An artist's round trip: build a model to files, inspect it against its
// own manifest (it fits and runs), then against another model's manifest
// (every mismatch is named).
func TestModelsBuildAndInspect(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "none.yaml")
	os.WriteFile(cfg, []byte("{}\n"), 0o644)
	cd := filepath.Join(dir, "cd.onnx")
	if log, err := reverie(t, ".", nil, "models", "build", "-kind", "convdecoder", "-seed", "3", "-size", "96x64", "-out", cd); err != nil {
		t.Fatalf("build: %v\n%s", err, log)
	}
	cp := filepath.Join(dir, "cp.onnx")
	if log, err := reverie(t, ".", nil, "models", "build", "-kind", "cppn", "-look", "cells", "-size", "64x48", "-out", cp); err != nil {
		t.Fatalf("build: %v\n%s", err, log)
	}
	log, err := reverie(t, ".", nil, "models", "inspect", cd, "-config", cfg)
	if err != nil {
		t.Fatalf("inspect: %v\n%s", err, log)
	}
	for _, want := range []string{"input    z [1 64] float32", "input    psi [1] float32", "output   image [1 3 64 96] float32", "cd.yaml fits", "96x64 frame", "output finite"} {
		if !strings.Contains(log, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, log)
		}
	}
	log, err = reverie(t, ".", nil, "models", "inspect", "-config", cfg, "-manifest", filepath.Join(dir, "cd.yaml"), cp)
	if err == nil {
		t.Fatalf("inspect with the wrong manifest succeeded:\n%s", log)
	}
	for _, want := range []string{"cp.onnx does not fit", `latent input "z": the model's shape is [1 16], the manifest implies [1 64]`, `output "image": the model has none by that name`} {
		if !strings.Contains(log, want) {
			t.Errorf("mismatch report lacks %q:\n%s", want, log)
		}
	}
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"build", "-kind", "gan", "-out", filepath.Join(dir, "x.onnx")}, `-kind "gan"`},
		{[]string{"build", "-kind", "cppn", "-size", "big", "-out", filepath.Join(dir, "x.onnx")}, `-size "big"`},
		{[]string{"build", "-kind", "cppn", "-size", "8x8", "-out", filepath.Join(dir, "x.onnx")}, "-size: 8: expected 16..4096"},
		{[]string{"build", "-kind", "cppn", "-out", filepath.Join(dir, "x.bin")}, "x.bin"},
		{[]string{"inspect", "-config", cfg, filepath.Join(dir, "none.yaml")}, "none.yaml: not a readable ONNX model"},
		{[]string{"inspect", "-config", cfg, filepath.Join(dir, "gone.onnx")}, "gone.onnx: no such file"},
	} {
		log, err := reverie(t, ".", nil, append([]string{"models"}, bad.args...)...)
		if err == nil || !strings.Contains(log, bad.want) {
			t.Errorf("models %v: got %v, want an error with %q:\n%s", bad.args, err, bad.want, log)
		}
	}
}

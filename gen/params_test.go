package gen

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"reverie/gen/onnxpb"
)

// gainModel is a user-style model from files: its 8×8 grey image is the
// extra input "gain" (plus 0·z), declared controllable as param "level".
func gainModel(t *testing.T, dir string) string {
	t.Helper()
	g := onnxpb.NewGraph("gain")
	z := g.Input("z", onnxpb.Float, 1, 1)
	gain := g.Input("gain", onnxpb.Float, 1)
	ones := make([]float32, 3*8*8)
	for i := range ones {
		ones[i] = 1
	}
	img := g.Op("Mul", []string{g.Const("", []int64{1, 3, 8, 8}, ones), gain})
	g.OpTo("image", "Add", []string{img, g.Op("Mul", []string{z, g.Scalar(0)})})
	g.Output("image", onnxpb.Float, 1, 3, 8, 8)
	man := fixedManifest("NCHW", "float32", 0, 1, 8, 8)
	man.Inputs = []InputSpec{{Name: "gain", Shape: []int64{1}, Value: 0.2, Param: "level", Min: 0, Max: 1}}
	return writeModel(t, dir, "gain", g.Model("test", "0"), man)
}

// A user's model with a controllable input, loaded from its manifest file:
// the runner starts at the manifest's value and SetInput changes the picture
// to exactly the value set.
func TestUserModelParam(t *testing.T) {
	c := DefaultConfig()
	c.Model = gainModel(t, t.TempDir())
	m, _, err := c.Open()
	if err != nil {
		t.Fatal(err)
	}
	r := NewRunner(m)
	defer r.Close()
	z := []float32{0}
	for i, v := range []float64{0.2, 1, 0.5} {
		if i > 0 { // the first frame shows the manifest's value
			if err := r.SetInput("level", v); err != nil {
				t.Fatal(err)
			}
		}
		f, err := r.Step(z)
		if err != nil {
			t.Fatal(err)
		}
		want := byte(v*255 + 0.5)
		if f.Pix[0] != want || f.Pix[4*63+2] != want {
			t.Errorf("level %g: pixels %d, %d, want %d", v, f.Pix[0], f.Pix[4*63+2], want)
		}
	}
	if err := r.SetInput("level", 1.5); err == nil || !strings.Contains(err.Error(), "generator.level: 1.5 is out of range: expected 0..1") || !strings.Contains(err.Error(), "gain.onnx") {
		t.Errorf("level 1.5: %v, want an error naming generator.level, the range and the model", err)
	}
}

// A param in a manifest needs a usable name, a range and a start value in it.
func TestManifestParamErrors(t *testing.T) {
	base := "name: x\nmodel: x.onnx\nlatent: {input: z, dim: 4}\noutput: {name: image, layout: NCHW, range: [-1, 1], width: 8, height: 8}\ninputs:\n"
	for _, bad := range []struct{ inputs, want string }{
		{"  - {name: psi, shape: [1], value: 0.5, param: psi}", `inputs[0] "psi": param "psi": min 0, max 0: expected min < max`},
		{"  - {name: psi, shape: [1], value: 3, param: psi, min: 0, max: 2}", `param "psi": value 3 is outside min..max 0..2`},
		{"  - {name: psi, shape: [1], value: 1, param: trunc.psi, min: 0, max: 2}", `param "trunc.psi": expected letters, digits, _ or -`},
		{"  - {name: c, shape: [2], values: [0, 1], param: c, min: 0, max: 1}", `param "c": a controllable input takes one value`},
		{"  - {name: a, shape: [1], param: p, max: 1}\n  - {name: b, shape: [1], param: p, max: 1}", `inputs[1] "b": param "p": already used by input "a"`},
	} {
		p := filepath.Join(t.TempDir(), "x.yaml")
		os.WriteFile(p, []byte(base+bad.inputs+"\n"), 0o644)
		_, err := LoadManifest(p)
		if err == nil || !strings.Contains(err.Error(), bad.want) || !strings.Contains(err.Error(), p) {
			t.Errorf("inputs %q: got %v, want an error naming %s with %q", bad.inputs, err, p, bad.want)
		}
	}
}

// A manifest's directions file resolves against the manifest's folder, not
// the working directory, through Config.Manifest as the running program
// loads it; a missing or mis-sized file is an error when the manifest loads.
func TestManifestDirections(t *testing.T) {
	dir := t.TempDir()
	man := Manifest{Name: "d", Latent: LatentSpec{Input: "z", Dim: 4, Distribution: "normal"},
		Output: OutputSpec{Name: "image", Layout: "NCHW", Range: [2]float32{-1, 1}, DType: "float32", Width: 8, Height: 8}}
	os.MkdirAll(filepath.Join(dir, "pca"), 0o755)
	man.Directions = "pca/dirs.bin"
	p := filepath.Join(dir, "d.yaml")
	if err := man.Write(p, "d.onnx"); err != nil {
		t.Fatal(err)
	}
	c := DefaultConfig()
	c.Model = p
	if _, err := c.Manifest(); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "pca", "dirs.bin")) || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing directions file: %v, want an error naming it", err)
	}
	rows := make([]byte, 3*4*4)
	for i := 0; i < 12; i++ {
		binary.LittleEndian.PutUint32(rows[4*i:], math.Float32bits(float32(i%5)-2))
	}
	os.WriteFile(filepath.Join(dir, "pca", "dirs.bin"), rows[:20], 0o644)
	if _, err := c.Manifest(); err == nil || !strings.Contains(err.Error(), "20 bytes, expected k rows of 4 float32 values") {
		t.Errorf("directions file of 20 bytes: %v, want an error about its size", err)
	}
	os.WriteFile(filepath.Join(dir, "pca", "dirs.bin"), rows, 0o644)
	got, err := c.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "pca", "dirs.bin"); got.DirectionsPath() != want {
		t.Errorf("DirectionsPath %q, want %q beside the manifest", got.DirectionsPath(), want)
	}
	abs := &Manifest{Directions: "/abs/d.bin", path: p}
	if abs.DirectionsPath() != "/abs/d.bin" {
		t.Errorf("an absolute directions path became %q", abs.DirectionsPath())
	}
}

package gen

import (
	"errors"
	"fmt"
	"image"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"reverie/internal/userfile"
)

// ManifestBeside is where a model file's manifest lives: beside it, with the
// extension .yaml. Both `reverie models build` and `inspect` rely on it.
func ManifestBeside(model string) string {
	return strings.TrimSuffix(model, filepath.Ext(model)) + ".yaml"
}

// BuildModel writes the built-in model c names to out, an .onnx file, and
// its manifest beside it. It returns the manifest and the manifest's path.
// c must be valid. The file uses ONNX's own operators only, so any ONNX
// tool opens it.
func BuildModel(c *Config, out string) (*Manifest, string, error) {
	man, err := c.manifest(true)
	if err != nil {
		return nil, "", err
	}
	if err := os.WriteFile(out, man.ONNX(), 0o644); err != nil {
		return nil, "", err
	}
	manFile := ManifestBeside(out)
	if err := man.Write(manFile, filepath.Base(out)); err != nil {
		return nil, "", fmt.Errorf("manifest %s: %w", manFile, err)
	}
	return man, manFile, nil
}

// WritePreview runs one frame of man, from a latent drawn from its
// distribution with seed, and saves it as a PNG. The warning is set, even
// with an error, once the model has loaded on a fallback provider.
func WritePreview(man *Manifest, c *Config, seed uint64, path string) (Warning, error) {
	if _, err := Init(c.ORTLibrary); err != nil {
		return "", err
	}
	m, warning, err := Load(man, c.Session())
	if err != nil {
		return "", err
	}
	defer m.Close()
	rng := rand.New(rand.NewPCG(seed, 0x7072657669657721))
	z := make([]float32, man.Latent.Dim)
	SampleLatent(rng, man.Latent.Distribution, z)
	img := image.NewRGBA(image.Rect(0, 0, m.Width(), m.Height()))
	if err := m.Run(z, img.Pix); err != nil {
		return warning, err
	}
	f, err := os.Create(path)
	if err != nil {
		return warning, userfile.StripPath(err)
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return warning, err
	}
	return warning, f.Close()
}

// A BuildJob is `reverie models build`'s request: the built-in model Kind
// (cppn, convdecoder or restyle) with weights Seed at Size (WxH) and Look,
// written to Out, with a Preview PNG when it is set.
type BuildJob struct {
	Kind         string
	Seed         uint64
	Size, Look   string
	Out, Preview string
}

// Config checks the job and returns the generator config that builds it.
// Its errors name each field by the command's flag.
func (j BuildJob) Config() (Config, error) {
	if j.Out == "" || filepath.Ext(j.Out) != ".onnx" {
		return Config{}, fmt.Errorf("models build: -out %q: expected a file name ending in .onnx", j.Out)
	}
	if j.Preview != "" && !strings.EqualFold(filepath.Ext(j.Preview), ".png") {
		return Config{}, fmt.Errorf("models build: -preview %q: expected a file name ending in .png", j.Preview)
	}
	if !slices.Contains(Builtins, "builtin:"+j.Kind) {
		return Config{}, fmt.Errorf("models build: -kind %q: expected cppn, convdecoder or restyle", j.Kind)
	}
	w, h, err := parseSize(j.Size)
	if err != nil {
		return Config{}, fmt.Errorf("models build: -size %q: %v", j.Size, err)
	}
	c := DefaultConfig()
	c.Model, c.Seed, c.Width, c.Height, c.Look = "builtin:"+j.Kind, j.Seed, w, h, j.Look
	if err := c.Validate(); err != nil {
		var fe *FieldError
		if errors.As(err, &fe) {
			flagFor := map[string]string{"model": "kind", "width": "size", "height": "size"}
			name := fe.FieldKey()
			if f, ok := flagFor[name]; ok {
				name = f
			}
			return Config{}, fmt.Errorf("models build: -%s: %s", name, fe.Msg)
		}
		return Config{}, fmt.Errorf("models build: %v", err)
	}
	return c, nil
}

func parseSize(s string) (int, int, error) {
	ws, hs, ok := strings.Cut(s, "x")
	w, err1 := strconv.Atoi(ws)
	h, err2 := strconv.Atoi(hs)
	if !ok || err1 != nil || err2 != nil {
		return 0, 0, errors.New("expected WIDTHxHEIGHT, such as 320x180")
	}
	return w, h, nil
}

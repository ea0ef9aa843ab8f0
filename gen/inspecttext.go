package gen

import (
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	"reverie/gen/networks"
)

// WriteText prints what the file declares, one fact a line, as `reverie
// models inspect` shows it.
func (i *Info) WriteText(w io.Writer) {
	fmt.Fprintf(w, "model    %s\n", i.Path)
	if i.Producer != "" {
		fmt.Fprintf(w, "producer %s\n", i.Producer)
	}
	for _, t := range i.Inputs {
		fmt.Fprintf(w, "input    %s\n", t)
	}
	for _, t := range i.Outputs {
		fmt.Fprintf(w, "output   %s\n", t)
	}
	keys := make([]string, 0, len(i.Metadata))
	for k := range i.Metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "meta     %s = %s\n", k, i.Metadata[k])
	}
}

// InspectManifest checks the model against its manifest (manPath, or the
// one beside the model when manPath is empty) and runs one frame, printing
// each step to w. A model without a manifest is not an error: w is told
// where to write one.
func (i *Info) InspectManifest(w io.Writer, manPath string, sc SessionConfig) error {
	if manPath == "" {
		beside := ManifestBeside(i.Path)
		if _, err := os.Stat(beside); err != nil {
			fmt.Fprintf(w, "manifest none: write %s (models/README.md shows how) to use this model\n", beside)
			return nil
		}
		manPath = beside
	}
	man, err := LoadManifest(manPath)
	if err != nil {
		return err
	}
	notes, err := i.Check(man)
	if err != nil {
		return fmt.Errorf("manifest %s: %w", manPath, err)
	}
	fmt.Fprintf(w, "manifest %s fits\n", manPath)
	for _, n := range notes {
		fmt.Fprintf(w, "assumed  %s\n", n)
	}
	t, warning, err := TestFrame(i.Path, man, sc)
	warning.WriteText(w)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "run      %dx%d frame in %.1f ms on %s, output finite\n", t.Width, t.Height, Millis(t.Duration), t.Provider)
	return nil
}

// InspectFile is `reverie models inspect`: it loads ONNX Runtime as c says,
// prints what file declares and then runs it once, as the trained network
// net when net is set, or else checked against its manifest (manPath, or
// the one beside it).
func InspectFile(w io.Writer, file string, net *networks.Network, manPath string, c *Config) error {
	if _, err := Init(c.ORTLibrary); err != nil {
		return err
	}
	info, err := Inspect(file)
	if err != nil {
		return err
	}
	info.WriteText(w)
	if net != nil {
		fmt.Fprintf(w, "network  %s: %s\n", net.Name, net.Title)
		fmt.Fprintf(w, "license  %s\n", net.License)
		return InspectNetwork(w, file, net.Shape, net.Range[0], net.Range[1], c.Session())
	}
	return info.InspectManifest(w, manPath, c.Session())
}

// InspectNetwork runs the trained network at file once at its nominal
// input shape, values in [lo, hi], and prints its outputs and time.
func InspectNetwork(w io.Writer, file string, shape []int64, lo, hi float32, sc SessionConfig) error {
	t, warning, err := TrialNet(file, shape, lo, hi, sc)
	warning.WriteText(w)
	if err != nil {
		return err
	}
	for _, o := range t.Outputs {
		fmt.Fprintf(w, "result   %s %v\n", o.Name, o.Shape)
	}
	fmt.Fprintf(w, "run      %v input in %.1f ms on %s\n", shape, Millis(t.Duration), t.Provider)
	return nil
}

// WriteText prints a non-empty warning on its own line.
func (wn Warning) WriteText(w io.Writer) {
	if wn != "" {
		fmt.Fprintf(w, "warning  %s\n", wn)
	}
}

// WriteTensors prints one tensor a line: its op and its name.
func WriteTensors(w io.Writer, tensors []Tensor) {
	for _, t := range tensors {
		fmt.Fprintf(w, "%-18s %s\n", t.Op, t.Name)
	}
}

// Millis is d in milliseconds with microsecond resolution, as trials print it.
func Millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

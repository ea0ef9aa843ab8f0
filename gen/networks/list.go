package networks

import (
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
)

// WriteList prints the catalog as `reverie models list` shows it: each
// network with its file in dir and whether set-up has made it, its input,
// outputs, use and credits.
func WriteList(w io.Writer, dir string) {
	fmt.Fprintf(w, "trained networks in %s (from %s@%s; `make setup` installs them)\n", dir, Package, PackageVersion)
	for _, n := range Catalog {
		state := n.Check(dir).String()
		switch n.Check(dir) {
		case NoSources:
			state = "not installed: run `make setup`"
		case Stale:
			state = "stale (sources or converter changed): run `make setup`"
		}
		size := fmt.Sprint(n.Shape)
		if n.Dynamic {
			size += ", any height and width"
		}
		outs := make([]string, 0, len(n.Outputs))
		for _, o := range n.Outputs {
			outs = append(outs, o)
		}
		sort.Strings(outs)
		fmt.Fprintf(w, "\n%s  %s\n", n.Name, n.Title)
		fmt.Fprintf(w, "  file     %s (%s)\n", filepath.Join(dir, n.File()), state)
		fmt.Fprintf(w, "  input    %s %s %s, values %g..%g\n", n.Input, size, n.Layout, n.Range[0], n.Range[1])
		fmt.Fprintf(w, "  outputs  %s\n", strings.Join(outs, ", "))
		fmt.Fprintf(w, "  use      %s\n", n.Use)
		fmt.Fprintf(w, "  license  %s\n", n.License)
		fmt.Fprintf(w, "  origin   %s\n", n.Origin)
	}
}

// Resolve takes what a user typed where a model file is expected: a
// catalog network's name becomes its installed file (or Find's error saying
// to run `make setup`) and the network; anything else is returned as the
// path it is, with a nil network.
func Resolve(arg string) (string, *Network, error) {
	n, ok := Lookup(arg)
	if !ok {
		return arg, nil, nil
	}
	p, err := Find(arg)
	return p, n, err
}

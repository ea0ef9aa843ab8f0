// Package shaders holds reverie's Kage feedback passes, one pass per file,
// embedded so the binary is self-contained.
package shaders

import (
	"embed"
	"fmt"
	"sort"
	"strings"
)

//go:embed *.kage
var files embed.FS

// Source returns the Kage source of the named pass ("warp" reads warp.kage).
func Source(name string) ([]byte, error) {
	b, err := files.ReadFile(name + ".kage")
	if err != nil {
		return nil, fmt.Errorf("no shader pass named %q (have %s)", name, strings.Join(Names(), ", "))
	}
	return b, nil
}

// Names lists the embedded passes.
func Names() []string {
	entries, _ := files.ReadDir(".")
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".kage"))
	}
	sort.Strings(names)
	return names
}

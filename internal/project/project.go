// Package project finds the files set-up installs under the project's own
// folder (third_party/…), from wherever reverie was started: the working
// directory or the executable's folder, and the folders above them.
package project

import (
	"os"
	"path/filepath"
)

// maxDepth is how many folders above the start Find climbs: bin/ and
// cmd/reverie/ sit at most two below the root, tests a few more.
const maxDepth = 6

// Roots are the folders Find starts from: the working directory, then the
// executable's folder.
func Roots() []string {
	var roots []string
	if wd, err := os.Getwd(); err == nil {
		roots = append(roots, wd)
	}
	if exe, err := os.Executable(); err == nil {
		roots = append(roots, filepath.Dir(exe))
	}
	return roots
}

// Find returns the first existing path named rel (relative to the project
// root) in a root or a folder above it, and whether one exists. match, when
// set, decides whether a candidate counts.
func Find(rel string, match func(path string) bool) (string, bool) {
	for _, root := range Roots() {
		for dir, i := root, 0; i < maxDepth; dir, i = filepath.Dir(dir), i+1 {
			p := filepath.Join(dir, rel)
			if _, err := os.Stat(p); err != nil {
				continue
			}
			if match == nil || match(p) {
				return p, true
			}
		}
	}
	return "", false
}

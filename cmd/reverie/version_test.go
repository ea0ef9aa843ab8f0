package main

import (
	"testing"

	"reverie/gen"
)

// The models the command builds carry the build's version, not a constant.
func TestModelsCarryTheBuildVersion(t *testing.T) {
	if gen.Version != version {
		t.Errorf("gen.Version %q, the command's version %q", gen.Version, version)
	}
}

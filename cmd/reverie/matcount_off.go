//go:build !matprofile

package main

import "reverie/control"

// registerMatGauge does nothing without -tags matprofile: gocv counts Mats
// only in such builds.
func registerMatGauge(*control.Server) {}

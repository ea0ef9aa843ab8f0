//go:build matprofile

package main

import (
	"github.com/prometheus/client_golang/prometheus"
	"gocv.io/x/gocv"

	"reverie/control"
)

// registerMatGauge exposes gocv's live Mat count on /metrics in builds with
// -tags matprofile, so the soak test can see a leak as a rising line.
func registerMatGauge(srv *control.Server) {
	_ = srv.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "reverie_gocv_mats", Help: "gocv Mats alive (matprofile builds only).",
	}, func() float64 { return float64(gocv.MatProfile.Count()) }))
}

package core

import (
	"github.com/prometheus/client_golang/prometheus"

	"reverie/control"
	"reverie/internal/matcount"
)

// registerMatGauge exposes gocv's live Mat count on /metrics in builds with
// -tags matprofile, so the soak test can see a leak as a rising line. Other
// builds keep no count and register nothing.
func registerMatGauge(srv *control.Server) {
	if _, counted := matcount.Count(); !counted {
		return
	}
	_ = srv.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "reverie_gocv_mats", Help: "gocv Mats alive (matprofile builds only).",
	}, func() float64 { n, _ := matcount.Count(); return float64(n) }))
}

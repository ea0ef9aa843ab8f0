package control

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"reverie/scene/budget"
)

// metrics is the server's Prometheus registry: its own, so nothing another
// library registers globally leaks into /metrics.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	osc      *prometheus.CounterVec
	swaps    *prometheus.CounterVec
}

func newMetrics(eng Engine, j *Journal, start time.Time) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "reverie_http_requests_total", Help: "HTTP requests by route and status code."}, []string{"route", "code"})
	m.osc = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "reverie_osc_messages_total", Help: "OSC messages received, by result (ok, rejected, malformed, refused, dropped: a bundle for later over the held limits)."}, []string{"result"})
	m.swaps = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "reverie_model_swaps_total", Help: "Model switches by result (ok, failed)."}, []string{"result"})
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f)
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.osc, m.swaps,
		gauge("reverie_uptime_seconds", "Seconds since the control server started.", func() float64 { return time.Since(start).Seconds() }),
		gauge("reverie_display_fps", "Displayed frames per second.", func() float64 { return eng.Stats().FPS }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "reverie_display_frames_total", Help: "Frames drawn."}, func() float64 { return float64(eng.Stats().Frames) }),
		gauge("reverie_sleeping", "1 while the schedule has the piece closed.", func() float64 { return b2f(eng.Stats().Sleeping) }),
		gauge("reverie_generator_seconds", "Model time per generated frame in seconds, averaged.", func() float64 { return eng.Generator().Ms / 1000 }),
		gauge("reverie_generator_fps", "Generated frames per second.", func() float64 { return eng.Generator().FPS }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "reverie_generator_frames_total", Help: "Frames generated."}, func() float64 { return float64(eng.Generator().Frames) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "reverie_dream_steps_total", Help: "Neural dream steps taken (the deepdream pass)."}, func() float64 { return float64(eng.Stats().DreamSteps) }),
		gauge("reverie_dream_step_seconds", "Time per neural dream step in seconds, averaged; 0 while the dream is off or starting.", func() float64 { return eng.Stats().DreamStepMs / 1000 }),
		gauge("reverie_render_scale", "The frame budget's internal render scale, of scene.render_width × render_height.", func() float64 { return eng.Stats().Scale }),
		gauge("reverie_background_share", "The share of a core the frame budget leaves each of the generator, the dream and the person network, 0.1..1.", func() float64 { return eng.Stats().Share }),
		gauge("reverie_camera_ok", "1 while the camera delivers frames.", func() float64 { return b2f(eng.Camera().State == "ok") }),
		gauge("reverie_presence", "1 while someone is in front of the piece.", func() float64 { return b2f(eng.Camera().Presence) }),
	)
	m.reg.MustRegister(videoOutMetrics(eng)...)
	for _, cause := range budget.Causes {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "reverie_render_scale_reason", Help: "1 for why the frame budget's render scale is what it is, 0 for the other reasons.", ConstLabels: prometheus.Labels{"reason": cause},
		}, func() float64 { return b2f(eng.Stats().BudgetCause == cause) }))
	}
	for _, lv := range []string{"warn", "error"} {
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "reverie_log_events_total", Help: "Warnings and errors logged, by level.", ConstLabels: prometheus.Labels{"level": lv},
		}, func() float64 { return float64(j.Counts()[lv]) }))
	}
	return m
}

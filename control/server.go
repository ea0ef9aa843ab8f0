package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"reverie/control/midi"
)

// maxBody bounds every request body: the largest legitimate one, a PATCH of
// every parameter, is a few kilobytes.
const maxBody = 64 << 10

// Server is the control server: HTTP, OSC, the schedule and the watchdog.
type Server struct {
	eng     Engine
	journal *Journal
	start   time.Time
	metrics *metrics
	preview *preview
	camView *cameraView

	mu    sync.Mutex
	cfg   Config
	sched *Schedule
	allow *allowList
	auth  *auth

	health *health
	swapMu sync.Mutex // one model load at a time

	// The running listeners, rebound by Reconfigure.
	lnMu     sync.Mutex
	run      context.Context // Start's; nil before
	httpStop context.CancelFunc
	oscStop  context.CancelFunc
	badReqs  *limiter
	oscLogs  *oscLog
	held     *heldBundles

	sound func() SoundStats // the sound input, nil for none (SetSound)
	midi  *midi.Input       // the MIDI input, nil for none (SetMIDI)
}

// New builds a server over eng. The journal is where warnings and errors are
// kept for /api/status; give it the one the logger feeds.
func New(cfg Config, eng Engine, j *Journal) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("control.%w", err)
	}
	sched, _ := ParseSchedule(cfg.Schedule.Open)
	allow, _ := parseAllow(cfg.OSC.Allow)
	s := &Server{
		eng: eng, journal: j, start: time.Now(), cfg: cfg, sched: sched,
		allow: &allowList{prefixes: allow}, auth: newAuth(cfg.AccessToken()),
		badReqs: newLimiter(10 * time.Second), oscLogs: newOSCLog(), held: &heldBundles{},
	}
	s.metrics = newMetrics(eng, j, s.start)
	s.preview = newPreview(eng, cfg.PreviewFPS)
	s.camView = newCameraView()
	s.health = newHealth()
	return s, nil
}

// Register adds a collector to /metrics (the Mat count, for example).
func (s *Server) Register(c prometheus.Collector) error { return s.metrics.reg.Register(c) }

// Reconfigure applies a reloaded control section while running. A changed
// HTTP or OSC address is bound first and the old listener closed only once
// the new one is up; a bind failure keeps the old listener and address and
// is returned, naming the key. A new token takes effect at the next request
// (panel sessions opened with the old one must open the panel again).
func (s *Server) Reconfigure(c Config) error {
	if err := c.Validate(); err != nil {
		return fmt.Errorf("control.%w", err)
	}
	s.lnMu.Lock()
	defer s.lnMu.Unlock()
	old := s.config()
	var errs []error
	if s.run != nil && c.Listen != old.Listen {
		if err := s.bindHTTP(c.Listen); err != nil {
			errs = append(errs, err)
			c.Listen = old.Listen
		}
	}
	if s.run != nil && c.OSC.Listen != old.OSC.Listen {
		if err := s.bindOSC(c.OSC); err != nil {
			errs = append(errs, err)
			c.OSC.Listen = old.OSC.Listen
		}
	}
	if c.Listen != old.Listen && !IsLoopback(c.Listen) && c.AccessToken() == "" {
		// Validate guarantees a token off loopback; this guards the
		// combination of a failed bind and a dropped token.
		c.Listen = old.Listen
	}
	s.mu.Lock()
	s.sched, _ = ParseSchedule(c.Schedule.Open)
	prefixes, _ := parseAllow(c.OSC.Allow)
	s.allow.set(prefixes)
	s.preview.setFPS(c.PreviewFPS)
	if c.AccessToken() != old.AccessToken() {
		s.auth = newAuth(c.AccessToken())
		slog.Info("control: access token changed", "token_required", c.AccessToken() != "")
	}
	s.cfg = c
	s.mu.Unlock()
	return errors.Join(errs...)
}

// bindHTTP listens on addr and serves there, then stops the old listener.
// Called with lnMu held, after Start.
func (s *Server) bindHTTP(addr string) error {
	var ln net.Listener
	if addr != "" {
		var err error
		if ln, err = net.Listen("tcp", addr); err != nil {
			return fmt.Errorf("control.listen %s not bound, still serving the old address: %w", addr, err)
		}
	}
	if s.httpStop != nil {
		s.httpStop()
		s.httpStop = nil
	}
	if ln == nil {
		slog.Warn("control server off: control.listen is empty")
		return nil
	}
	ctx, stop := context.WithCancel(s.run)
	s.httpStop = stop
	slog.Info("control server listening", "url", "http://"+ln.Addr().String()+"/", "token_required", s.currentAuth().token != "")
	go func() {
		if err := s.Serve(ctx, ln); err != nil {
			slog.Error("control server stopped", "err", err)
		}
	}()
	return nil
}

// bindOSC is bindHTTP for the OSC socket.
func (s *Server) bindOSC(c OSCConfig) error {
	var pc net.PacketConn
	if c.Listen != "" {
		var err error
		if pc, err = net.ListenPacket("udp", c.Listen); err != nil {
			return fmt.Errorf("control.osc.listen %s not bound, still listening on the old address: %w", c.Listen, err)
		}
	}
	if s.oscStop != nil {
		s.oscStop()
		s.oscStop = nil
	}
	if pc == nil {
		slog.Warn("OSC off: control.osc.listen is empty")
		return nil
	}
	if !IsLoopback(c.Listen) && len(c.Allow) == 0 {
		slog.Warn("OSC listens beyond this machine and control.osc.allow is empty: anyone on the network can drive the piece", "listen", c.Listen)
	}
	ctx, stop := context.WithCancel(s.run)
	s.oscStop = stop
	slog.Info("OSC listening", "addr", pc.LocalAddr().String())
	go func() {
		if err := s.ServeOSC(ctx, pc); err != nil {
			slog.Error("OSC stopped", "err", err)
		}
	}()
	return nil
}

func (s *Server) currentAuth() *auth {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.auth
}

func (s *Server) config() Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg
}

// Handler is the HTTP API and panel, behind the token check. Every answer
// is counted, refusals included, by route pattern: a path that matches no
// route counts as "unmatched", so a client cannot grow the label set.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	route := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, h) }
	route("GET /healthz", s.handleHealth)
	route("GET /api/status", s.handleStatus)
	route("GET /api/params", s.handleParams)
	route("PATCH /api/params", s.handlePatchParams)
	route("GET /api/presets", s.handlePresets)
	route("POST /api/preset/{name}", s.handlePreset)
	route("GET /api/models", s.handleModels)
	route("POST /api/model", s.handleModel)
	route("GET /api/snapshot.png", s.handleSnapshot)
	route("GET /api/midi", s.handleMIDI)
	route("POST /api/midi/learn", s.handleMIDILearn)
	route("GET /stream.mjpeg", s.handleStream)
	route("POST /api/record/start", s.handleRecordStart)
	route("POST /api/record/stop", s.handleRecordStop)
	route("GET /api/camera.jpg", s.handleCameraView)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
	route("GET /{$}", s.handlePanel)
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("Cache-Control", "no-store")
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		}
		mux.ServeHTTP(w, r)
	})
	// The token can change on reload: each request checks the current one.
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := "unmatched"
		if _, pattern := mux.Handler(r); pattern != "" {
			name = pattern[strings.IndexByte(pattern, ' ')+1:]
		}
		sw := &statusWriter{ResponseWriter: w, code: 200}
		s.currentAuth().wrap(inner).ServeHTTP(sw, r)
		s.metrics.requests.WithLabelValues(name, strconv.Itoa(sw.code)).Inc()
	})
}

// statusWriter remembers the status code for the request counter.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(c int)           { w.code = c; w.ResponseWriter.WriteHeader(c) }
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Serve runs the HTTP server on ln until ctx ends.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second, // the MJPEG stream extends its own deadline
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(slog.Default().Handler(), slog.LevelDebug),
	}
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_ = hs.Shutdown(sctx)
		case <-done:
		}
	}()
	err := hs.Serve(ln)
	close(done)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Start listens on the configured addresses, so a port already in use is an
// error naming it before the piece opens, then serves HTTP and OSC and runs
// the supervisor until ctx ends.
func (s *Server) Start(ctx context.Context) error {
	cfg := s.config()
	s.lnMu.Lock()
	defer s.lnMu.Unlock()
	s.run = ctx
	if cfg.Listen != "" {
		if err := s.bindHTTP(cfg.Listen); err != nil {
			return fmt.Errorf("control.listen %s: %w", cfg.Listen, errors.Unwrap(err))
		}
	}
	if cfg.OSC.Listen != "" {
		if err := s.bindOSC(cfg.OSC); err != nil {
			if s.httpStop != nil {
				s.httpStop()
			}
			return fmt.Errorf("control.osc.listen %s: %w", cfg.OSC.Listen, errors.Unwrap(err))
		}
	}
	go s.Supervise(ctx)
	return nil
}

// --- handlers ---

type apiError struct {
	Error string `json:"error"`
}

func httpError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, apiError{msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// badRequest answers 400 and logs it, at most once per 10 s per route, so
// a misbehaving client shows in /api/status without flooding the log.
func (s *Server) badRequest(w http.ResponseWriter, r *http.Request, msg string) {
	s.refuse(w, r, http.StatusBadRequest, msg)
}

// badBody answers a body readJSON refused: 413 when it is too large, 400
// otherwise.
func (s *Server) badBody(w http.ResponseWriter, r *http.Request, err error) {
	code := http.StatusBadRequest
	var tl *tooLargeError
	if errors.As(err, &tl) {
		code = http.StatusRequestEntityTooLarge
	}
	s.refuse(w, r, code, err.Error())
}

func (s *Server) refuse(w http.ResponseWriter, r *http.Request, code int, msg string) {
	if ok, n := s.badReqs.allow(r.URL.Path); ok {
		slog.Warn("control: bad request", "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr, "code", code, "err", msg, "similar_since_last_log", n)
	}
	httpError(w, code, msg)
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	ok, reason := s.alive()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if !ok {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, reason)
		return
	}
	fmt.Fprintln(w, "ok")
}

// alive says whether the render loop has drawn recently.
func (s *Server) alive() (bool, string) {
	hb := s.eng.Stats().Heartbeat
	stall := time.Duration(s.config().StallAfter * float64(time.Second))
	switch {
	case hb.IsZero():
		return false, "render loop has not started"
	case time.Since(hb) > stall:
		return false, fmt.Sprintf("render loop stalled: no frame for %s (limit %s)", time.Since(hb).Round(time.Second), stall)
	}
	return true, ""
}

// Status is /api/status.
type Status struct {
	Alive     bool    `json:"alive"`
	Reason    string  `json:"reason,omitempty"`
	UptimeS   float64 `json:"uptime_s"`
	FPS       float64 `json:"fps"`
	Frames    uint64  `json:"frames"`
	Width     int     `json:"width"`
	Height    int     `json:"height"`
	Preset    string  `json:"preset"`
	Sleeping  bool    `json:"sleeping"`
	Open      bool    `json:"open"` // inside the opening hours
	Model     string  `json:"model"`
	GenMs     float64 `json:"generator_ms"`
	GenFPS    float64 `json:"generator_fps"`
	GenFrames uint64  `json:"generator_frames"`
	GenErr    string  `json:"generator_error,omitempty"`
	Camera    string  `json:"camera"`
	CameraErr string  `json:"camera_error,omitempty"`
	Source    string  `json:"source,omitempty"`
	Dream     string  `json:"dream,omitempty"` // the neural dream: starting, on, or "off: why"
	DreamMs   float64 `json:"dream_step_ms,omitempty"`
	// The frame budget: width×height is the render size at render_scale.
	TargetFPS   float64       `json:"target_fps"`
	Scale       float64       `json:"render_scale"`
	ScaleCause  string        `json:"render_scale_cause"`  // off, measuring, full, holding, lowered, raised, floor
	ScaleReason string        `json:"render_scale_reason"` // the same as a sentence
	Share       float64       `json:"background_share"`    // of a core, for each of the generator, the dream and the person network
	Presence    bool          `json:"presence"`
	Level       float64       `json:"presence_level"`
	Sound       *SoundStats   `json:"sound,omitempty"`
	MIDI        *MIDIStats    `json:"midi,omitempty"`
	VideoOut    VideoOutStats `json:"video_out"`
	Degraded    []string      `json:"degraded"`
	Faults      []Fault       `json:"faults"`
	Errors      []Event       `json:"errors"`
	Time        time.Time     `json:"time"`
}

func (s *Server) status() Status {
	d, g, c := s.eng.Stats(), s.eng.Generator(), s.eng.Camera()
	alive, reason := s.alive()
	s.mu.Lock()
	open := s.sched.Open(time.Now())
	s.mu.Unlock()
	return Status{
		Alive: alive, Reason: reason, UptimeS: time.Since(s.start).Seconds(),
		FPS: d.FPS, Frames: d.Frames, Width: d.Width, Height: d.Height, Preset: d.Preset, Sleeping: d.Sleeping, Open: open,
		Model: g.Model, GenMs: g.Ms, GenFPS: g.FPS, GenFrames: g.Frames, GenErr: g.LastErr,
		Camera: c.State, CameraErr: c.Err, Source: c.Source, Presence: c.Presence, Level: c.Level,
		Dream: d.Dream, DreamMs: d.DreamStepMs, Sound: s.soundStats(), MIDI: s.midiStats(), VideoOut: s.eng.VideoOut(),
		TargetFPS: d.TargetFPS, Scale: d.Scale, ScaleCause: d.BudgetCause, ScaleReason: d.BudgetReason, Share: d.Share,
		Degraded: s.health.current(), Faults: s.health.history(), Errors: s.journal.Recent(), Time: time.Now(),
	}
}

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.status())
}

func (s *Server) handleParams(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.eng.List())
}

// handlePatchParams sets several parameters at once. Everything is checked
// before anything is set, so a bad request changes nothing.
func (s *Server) handlePatchParams(w http.ResponseWriter, r *http.Request) {
	var body map[string]json.RawMessage
	if err := readJSON(r, &body); err != nil {
		s.badBody(w, r, err)
		return
	}
	if len(body) == 0 {
		s.badRequest(w, r, `empty: expected a JSON object of parameter names and numbers, such as {"warp.zoom": 1.02}`)
		return
	}
	known := map[string]ParamInfo{}
	for _, p := range s.eng.List() {
		known[p.Name] = p
	}
	names := make([]string, 0, len(body))
	for n := range body {
		names = append(names, n)
	}
	sort.Strings(names)
	vals := make([]float64, len(names))
	for i, n := range names {
		p, ok := known[n]
		if !ok {
			s.badRequest(w, r, fmt.Sprintf("unknown parameter %q; GET /api/params lists them", n))
			return
		}
		// A pointer, as null leaves a float64 untouched: a silent 0.
		var v *float64
		if err := json.Unmarshal(body[n], &v); err != nil || v == nil {
			s.badRequest(w, r, fmt.Sprintf("parameter %q: %s is not a number; expected %g..%g", n, body[n], p.Min, p.Max))
			return
		}
		vals[i] = *v
		if vals[i] < p.Min || vals[i] > p.Max {
			s.badRequest(w, r, fmt.Sprintf("parameter %q: %g is out of range; expected %g..%g", n, vals[i], p.Min, p.Max))
			return
		}
	}
	for i, n := range names {
		if err := s.eng.Set(n, vals[i]); err != nil {
			s.badRequest(w, r, err.Error())
			return
		}
	}
	writeJSON(w, http.StatusOK, s.eng.List())
}

// tooLargeError is a body over maxBody: 413, as the client must send less.
type tooLargeError struct{ limit int64 }

func (e *tooLargeError) Error() string {
	return fmt.Sprintf("body larger than %d bytes: send fewer or shorter values", e.limit)
}

// readJSON decodes a JSON request body into v, with an error a person can
// act on.
func readJSON(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return fmt.Errorf("content type %q: expected application/json", ct)
	}
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &tooLargeError{mbe.Limit}
		}
		if errors.Is(err, io.EOF) {
			return errors.New("empty body: expected JSON")
		}
		return fmt.Errorf("body is not valid JSON: %v", err)
	}
	if dec.More() {
		return errors.New("body holds more than one JSON value")
	}
	return nil
}

func (s *Server) handlePresets(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"presets": nonNil(s.eng.Presets()), "current": s.eng.Stats().Preset})
}

func (s *Server) handlePreset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := s.eng.ApplyPreset(name); err != nil {
		s.badRequest(w, r, err.Error())
		return
	}
	slog.Info("preset applied", "preset", name, "by", "http")
	writeJSON(w, http.StatusOK, map[string]string{"preset": name})
}

func (s *Server) handleModels(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"models": nonNil(s.eng.Models()), "current": s.eng.Generator().Model})
}

// handleModel switches the model through the runner's hot swap: the new
// model loads while the old one keeps rendering, and a model that fails to
// load leaves the old one running.
func (s *Server) handleModel(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Model string `json:"model"`
	}
	if err := readJSON(r, &body); err != nil {
		s.badBody(w, r, err)
		return
	}
	switch err := s.requestSwap(body.Model, "http", nil, true); {
	case errors.Is(err, errNoModel):
		s.badRequest(w, r, err.Error())
	case errors.Is(err, errSwapBusy):
		httpError(w, http.StatusConflict, err.Error())
	case err != nil:
		httpError(w, http.StatusUnprocessableEntity, err.Error())
	default:
		writeJSON(w, http.StatusOK, map[string]string{"model": s.eng.Generator().Model})
	}
}

var (
	errNoModel  = errors.New(`"model" is empty: expected one of GET /api/models, or a manifest path`)
	errSwapBusy = errors.New("another model is loading; try again when it is done")
)

// requestSwap is the one way a client over the network (HTTP, OSC)
// switches the model: one load at a time, refused at once while another
// runs. With wait false the load runs in the background once the slot is
// taken. logf, when not nil, replaces slog for the outcome (OSC rate-limits
// its lines).
func (s *Server) requestSwap(model, by string, logf func(lvl slog.Level, msg string, args ...any), wait bool) error {
	if model == "" {
		return errNoModel
	}
	if !s.swapMu.TryLock() {
		return errSwapBusy
	}
	run := func() error {
		defer s.swapMu.Unlock()
		return s.swapModel(model, by, logf)
	}
	if wait {
		return run()
	}
	go run()
	return nil
}

// SwapModel switches the model and logs the outcome either way.
func (s *Server) SwapModel(model, by string) error { return s.swapModel(model, by, nil) }

func (s *Server) swapModel(model, by string, logf func(lvl slog.Level, msg string, args ...any)) error {
	if logf == nil {
		logf = func(lvl slog.Level, msg string, args ...any) { slog.Log(context.Background(), lvl, msg, args...) }
	}
	start := time.Now()
	if err := s.eng.SwapModel(model); err != nil {
		s.metrics.swaps.WithLabelValues("failed").Inc()
		logf(slog.LevelError, "model switch failed; the previous model keeps running", "model", model, "by", by, "err", err)
		s.health.record("model switch to " + model + " failed: " + err.Error())
		return fmt.Errorf("model %q: %w; the previous model keeps running", model, err)
	}
	s.metrics.swaps.WithLabelValues("ok").Inc()
	logf(slog.LevelInfo, "model switched", "model", model, "by", by, "load_ms", time.Since(start).Milliseconds())
	s.health.record("model switched to " + model)
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

package control

import (
	"bytes"
	"context"
	"encoding/json"
	"image/jpeg"
	"image/png"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// logBuffer is a log sink that the server's goroutines write while the
// test reads it.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// captureLog sends slog through a journal into a buffer for the test's length.
func captureLog(t *testing.T, j *Journal) *logBuffer {
	t.Helper()
	buf := &logBuffer{}
	old := slog.Default()
	slog.SetDefault(slog.New(j.Handler(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	t.Cleanup(func() { slog.SetDefault(old) })
	return buf
}

func newTestServer(t *testing.T, cfg Config) (*Server, *fakeEngine, *httptest.Server, *Journal) {
	t.Helper()
	eng := newFake()
	j := NewJournal(16)
	s, err := New(cfg, eng, j)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return s, eng, ts, j
}

func do(t *testing.T, method, url, body string, hdr ...string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func TestConfigValidate(t *testing.T) {
	t.Setenv(TokenEnv, "")
	def := DefaultConfig()
	if err := def.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	cases := []struct {
		name string
		mod  func(c *Config)
		want []string
	}{
		{"network without token", func(c *Config) { c.Listen = "0.0.0.0:8080" }, []string{"token", "0.0.0.0:8080", TokenEnv}},
		{"all interfaces without token", func(c *Config) { c.Listen = ":8080" }, []string{"token"}},
		{"short token", func(c *Config) { c.Token = "abc" }, []string{"token", "at least 16"}},
		{"bad listen", func(c *Config) { c.Listen = "8080" }, []string{"listen", `"8080"`}},
		{"preview", func(c *Config) { c.PreviewFPS = 0 }, []string{"preview_fps"}},
		{"stall", func(c *Config) { c.StallAfter = 0 }, []string{"stall_after"}},
		{"osc listen", func(c *Config) { c.OSC.Listen = "nine" }, []string{"osc.listen"}},
		{"osc allow", func(c *Config) { c.OSC.Allow = []string{"10.0.0.1", "somebody"} }, []string{"osc.allow", "[1]", `"somebody"`}},
		{"status_to", func(c *Config) { c.OSC.StatusTo = "host" }, []string{"osc.status_to"}},
		{"schedule", func(c *Config) { c.Schedule.Open = []string{"mon-fry 10:00-18:00"} }, []string{"schedule.open", "mon-fry"}},
		{"outside", func(c *Config) { c.Schedule.Outside = "" }, []string{"schedule.outside"}},
	}
	for _, c := range cases {
		cfg := DefaultConfig()
		c.mod(&cfg)
		err := cfg.Validate()
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not mention %q", c.name, err, w)
			}
		}
	}
	cfg := DefaultConfig()
	cfg.Listen = "0.0.0.0:8080"
	t.Setenv(TokenEnv, "0123456789abcdef-env")
	if err := cfg.Validate(); err != nil {
		t.Errorf("token from the environment: %v", err)
	}
}

func TestTokenGuardsEverythingButHealth(t *testing.T) {
	const token = "s3cret-token-for-tests-for-tests"
	cfg := DefaultConfig()
	cfg.Token = token
	_, eng, ts, j := newTestServer(t, cfg)
	logs := captureLog(t, j)

	if code, _, _ := do(t, "GET", ts.URL+"/api/status", ""); code != 401 {
		t.Errorf("no token: %d", code)
	}
	if code, _, _ := do(t, "GET", ts.URL+"/api/status", "", "Authorization", "Bearer wrong-token-xxxxxxx"); code != 401 {
		t.Errorf("wrong token: %d", code)
	}
	if code, _, _ := do(t, "PATCH", ts.URL+"/api/params", `{"warp.zoom":1.1}`); code != 401 || eng.value("warp.zoom") != 1.01 {
		t.Errorf("unauthenticated PATCH: %d, zoom %g", code, eng.value("warp.zoom"))
	}
	if code, _, _ := do(t, "GET", ts.URL+"/api/status", "", "Authorization", "Bearer "+token); code != 200 {
		t.Errorf("bearer: %d", code)
	}
	if code, _, _ := do(t, "GET", ts.URL+"/healthz", ""); code != 200 {
		t.Errorf("healthz needs no token: %d", code)
	}
	// ?token= once: a cookie and a redirect to the address without it.
	code, _, hdr := do(t, "GET", ts.URL+"/?token="+token+"&x=1", "")
	if code != http.StatusSeeOther || strings.Contains(hdr.Get("Location"), token) || !strings.Contains(hdr.Get("Location"), "x=1") {
		t.Fatalf("?token=: %d, location %q", code, hdr.Get("Location"))
	}
	cookie := hdr.Get("Set-Cookie")
	if !strings.Contains(cookie, "HttpOnly") || !strings.Contains(cookie, "SameSite=Strict") || strings.Contains(cookie, token) {
		t.Errorf("cookie %q", cookie)
	}
	if code, body, _ := do(t, "GET", ts.URL+"/", "", "Cookie", strings.Split(cookie, ";")[0]); code != 200 || !strings.Contains(body, "<title>reverie</title>") {
		t.Errorf("panel with the cookie: %d", code)
	}
	if !strings.Contains(logs.String(), "without a valid token") {
		t.Errorf("refusals are not logged: %s", logs)
	}
	if strings.Contains(logs.String(), token) {
		t.Errorf("the token appears in the log: %s", logs)
	}
}

func TestPatchParamsValidates(t *testing.T) {
	_, eng, ts, j := newTestServer(t, DefaultConfig())
	captureLog(t, j)
	cases := []struct {
		body string
		want []string
	}{
		{`{"warp.zom": 1.1}`, []string{`"warp.zom"`, "unknown parameter"}},
		{`{"warp.zoom": 3}`, []string{`"warp.zoom"`, "out of range", "0.9..1.2"}},
		{`{"warp.zoom": "fast"}`, []string{`"warp.zoom"`, "not a number"}},
		{`{"inject.mix": 0.5, "warp.zoom": 9}`, []string{`"warp.zoom"`}}, // nothing set: checked first
		{`{}`, []string{"empty"}},
		{`{"warp.zoom":`, []string{"not valid JSON"}},
		{`{"warp.zoom": 1.1} {}`, []string{"more than one"}},
	}
	for _, c := range cases {
		code, body, _ := do(t, "PATCH", ts.URL+"/api/params", c.body)
		body = errText(body)
		if code != 400 {
			t.Errorf("%.40s: status %d", c.body, code)
		}
		for _, w := range c.want {
			if !strings.Contains(body, w) {
				t.Errorf("%.40s: %s does not mention %s", c.body, body, w)
			}
		}
	}
	if eng.value("inject.mix") != 0.1 {
		t.Error("a rejected PATCH changed a parameter")
	}
	code, body, _ := do(t, "PATCH", ts.URL+"/api/params", `{"warp.zoom": 1.05, "inject.mix": 0.4}`)
	if code != 200 || eng.value("warp.zoom") != 1.05 || eng.value("inject.mix") != 0.4 {
		t.Fatalf("valid PATCH: %d %s", code, body)
	}
	var list []ParamInfo
	if err := json.Unmarshal([]byte(body), &list); err != nil || len(list) != 5 || list[4].Name != "warp.zoom" || list[4].Value != 1.05 {
		t.Errorf("PATCH answer: %v %+v", err, list)
	}
	if got := j.Recent(); len(got) == 0 || !strings.Contains(got[0].Msg, "bad request") {
		t.Errorf("bad requests are not in the journal: %+v", got)
	}
}

func TestHealthz(t *testing.T) {
	_, eng, ts, _ := newTestServer(t, DefaultConfig())
	if code, body, _ := do(t, "GET", ts.URL+"/healthz", ""); code != 200 || body != "ok\n" {
		t.Errorf("alive: %d %q", code, body)
	}
	eng.mu.Lock()
	eng.beat = time.Now().Add(-30 * time.Second)
	eng.mu.Unlock()
	if code, body, _ := do(t, "GET", ts.URL+"/healthz", ""); code != 503 || !strings.Contains(body, "stalled") {
		t.Errorf("stalled: %d %q", code, body)
	}
	eng.mu.Lock()
	eng.beat = time.Time{}
	eng.mu.Unlock()
	if code, body, _ := do(t, "GET", ts.URL+"/healthz", ""); code != 503 || !strings.Contains(body, "not started") {
		t.Errorf("not started: %d %q", code, body)
	}
}

func TestStatusShowsDegradations(t *testing.T) {
	s, eng, ts, j := newTestServer(t, DefaultConfig())
	logs := captureLog(t, j)
	s.checkHealth(s.alive())
	eng.mu.Lock()
	eng.camera.State, eng.camera.Err = "reconnecting", "cannot open /dev/video0"
	eng.mu.Unlock()
	s.checkHealth(s.alive())
	s.checkHealth(s.alive()) // a second check must not log again

	_, body, _ := do(t, "GET", ts.URL+"/api/status", "")
	var st Status
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	if !st.Alive || st.FPS != 59.8 || st.Model != "builtin:cppn" || st.Camera != "reconnecting" || !st.Presence || st.Width != 1280 {
		t.Errorf("status: %+v", st)
	}
	if len(st.Degraded) != 1 || !strings.Contains(st.Degraded[0], "camera: reconnecting (cannot open /dev/video0)") {
		t.Errorf("degraded: %q", st.Degraded)
	}
	if len(st.Errors) == 0 || st.Errors[0].Msg != "degraded: camera" {
		t.Errorf("errors: %+v", st.Errors)
	}
	if n := strings.Count(logs.String(), "degraded: camera"); n != 1 {
		t.Errorf("logged %d times, want once", n)
	}
	eng.mu.Lock()
	eng.camera.State, eng.camera.Err = "ok", ""
	eng.mu.Unlock()
	s.checkHealth(s.alive())
	_, body, _ = do(t, "GET", ts.URL+"/api/status", "")
	st = Status{}
	_ = json.Unmarshal([]byte(body), &st)
	if len(st.Degraded) != 0 || len(st.Faults) != 1 || st.Faults[0].What != "camera" || st.Faults[0].Cleared == nil {
		t.Errorf("after recovery: degraded %q faults %+v", st.Degraded, st.Faults)
	}
	if !strings.Contains(logs.String(), "recovered: camera") {
		t.Errorf("recovery not logged")
	}
}

func TestGeneratorStallIsADegradation(t *testing.T) {
	cfg := DefaultConfig()
	cfg.StallAfter = 1
	s, eng, _, j := newTestServer(t, cfg)
	captureLog(t, j)
	s.checkHealth(s.alive())
	eng.mu.Lock()
	eng.gen.LastErr = "onnxruntime: bad input"
	eng.mu.Unlock()
	s.health.mu.Lock()
	s.health.genAt = time.Now().Add(-3 * time.Second) // no frame since
	s.health.mu.Unlock()
	s.checkHealth(s.alive())
	d := s.health.current()
	if len(d) != 1 || !strings.Contains(d[0], "generator: no new frame") || !strings.Contains(d[0], "bad input") {
		t.Errorf("degraded: %q", d)
	}
	eng.mu.Lock()
	eng.gen.Frames++
	eng.mu.Unlock()
	s.checkHealth(s.alive())
	if d := s.health.current(); len(d) != 0 {
		t.Errorf("after a new frame: %q", d)
	}
}

func TestPresetsAndModels(t *testing.T) {
	_, eng, ts, j := newTestServer(t, DefaultConfig())
	captureLog(t, j)
	if code, _, _ := do(t, "POST", ts.URL+"/api/preset/storm", ""); code != 200 || eng.Stats().Preset != "storm" {
		t.Errorf("preset: %d %q", code, eng.Stats().Preset)
	}
	if code, body, _ := do(t, "POST", ts.URL+"/api/preset/drizzle", ""); code != 400 || !strings.Contains(errText(body), `"drizzle"`) || !strings.Contains(body, "calm, storm") {
		t.Errorf("unknown preset: %d %s", code, body)
	}
	if code, body, _ := do(t, "POST", ts.URL+"/api/model", `{"model":"builtin:convdecoder"}`); code != 200 || eng.Generator().Model != "builtin:convdecoder" {
		t.Errorf("swap: %d %s", code, body)
	}
	code, body, _ := do(t, "POST", ts.URL+"/api/model", `{"model":"models/missing.yaml"}`)
	if code != 422 || !strings.Contains(body, "missing.yaml") || !strings.Contains(body, "previous model keeps running") || eng.Generator().Model != "builtin:convdecoder" {
		t.Errorf("failed swap: %d %s", code, body)
	}
	if code, _, _ := do(t, "POST", ts.URL+"/api/model", `{"modle":"x"}`); code != 400 {
		t.Errorf("empty model: %d", code)
	}
	_, body, _ = do(t, "GET", ts.URL+"/api/status", "")
	if !strings.Contains(body, "model switch to models/missing.yaml failed") || !strings.Contains(body, "model switched to builtin:convdecoder") {
		t.Errorf("status lacks the swaps: %s", body)
	}
	_, body, _ = do(t, "GET", ts.URL+"/metrics", "")
	if !strings.Contains(body, `reverie_model_swaps_total{result="failed"} 1`) || !strings.Contains(body, `reverie_http_requests_total{code="400",route="/api/model"} 1`) {
		t.Errorf("metrics lack the swaps:\n%s", grepLines(body, "reverie_"))
	}
}

// errText is the message of an API error answer.
func errText(body string) string {
	var e apiError
	if json.Unmarshal([]byte(body), &e) != nil {
		return body
	}
	return e.Error
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestSnapshotAndStream(t *testing.T) {
	_, eng, ts, _ := newTestServer(t, DefaultConfig())
	resp, err := http.Get(ts.URL + "/api/snapshot.png")
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(resp.Body)
	resp.Body.Close()
	if err != nil || img.Bounds().Dx() != 64 || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("snapshot: %v %v", err, resp.Header)
	}
	if r, g, _, _ := img.At(10, 2).RGBA(); r>>8 != 40 || g>>8 != 14 {
		t.Errorf("snapshot pixel: %d %d", r>>8, g>>8)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/stream.mjpeg", nil)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/x-mixed-replace" {
		t.Fatalf("stream type %q", resp.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(resp.Body, params["boundary"])
	for i := range 2 {
		part, err := mr.NextPart()
		if err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
		if _, err := jpeg.Decode(part); err != nil {
			t.Fatalf("part %d is not a JPEG: %v", i, err)
		}
	}
	eng.mu.Lock()
	snaps, released := eng.snaps, eng.released
	eng.mu.Unlock()
	if snaps != 3 || released != 3 {
		t.Errorf("%d snapshots for one PNG and two stream frames, %d handed back for reuse; want 3 and 3", snaps, released)
	}
}

func TestJournalRing(t *testing.T) {
	j := NewJournal(3)
	for i := range 5 {
		j.Add(Event{Msg: string(rune('a' + i)), Level: "warn"})
	}
	var got []string
	for _, e := range j.Recent() {
		got = append(got, e.Msg)
	}
	if strings.Join(got, "") != "edc" || j.Counts()["warn"] != 5 {
		t.Errorf("ring: %v %v", got, j.Counts())
	}
	l := slog.New(j.Handler(slog.NewTextHandler(io.Discard, nil))).With("stage", "gen")
	l.Info("not kept")
	l.Error("kept", "err", "boom")
	if e := j.Recent()[0]; e.Msg != "kept" || e.Level != "error" || e.Attrs != "stage=gen err=boom" {
		t.Errorf("from slog: %+v", e)
	}
}

// A reload rebinds HTTP and OSC on their new addresses and swaps the token
// without a restart; an address that cannot be bound keeps the old listener.
func TestReconfigureRebinds(t *testing.T) {
	free := func(network string) string {
		if network == "udp" {
			pc, _ := net.ListenPacket("udp", "127.0.0.1:0")
			defer pc.Close()
			return pc.LocalAddr().String()
		}
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		defer ln.Close()
		return ln.Addr().String()
	}
	cfg := DefaultConfig()
	cfg.Listen, cfg.OSC.Listen = free("tcp"), free("udp")
	s, eng, _, _ := newTestServer(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if c, _, _ := do(t, "GET", "http://"+cfg.Listen+"/api/status", ""); c != 200 {
		t.Fatalf("before the reload: %d", c)
	}

	next := cfg
	next.Listen, next.OSC.Listen, next.Token = free("tcp"), free("udp"), "s3cret-token-for-tests"
	next.Schedule.Open = []string{"daily 10:00-18:00"}
	if err := s.Reconfigure(next); err != nil {
		t.Fatal(err)
	}
	if c, _, _ := do(t, "GET", "http://"+next.Listen+"/api/status", ""); c != 401 {
		t.Errorf("new address without the new token: %d, want 401", c)
	}
	if c, _, _ := do(t, "GET", "http://"+next.Listen+"/api/status", "", "Authorization", "Bearer s3cret-token-for-tests"); c != 200 {
		t.Errorf("new address with the new token: %d, want 200", c)
	}
	eventually(t, "the old HTTP address closed", func() bool {
		conn, err := net.DialTimeout("tcp", cfg.Listen, time.Second)
		if err == nil {
			conn.Close()
		}
		return err != nil
	})
	conn, err := net.Dial("udp", next.OSC.Listen)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Write(packet(t, "/reverie/param/warp.zoom", float32(1.1)))
	eventually(t, "a packet on the new OSC address applied", func() bool { return float32(eng.value("warp.zoom")) == 1.1 })
	if s.config().Schedule.Open[0] != "daily 10:00-18:00" {
		t.Errorf("schedule not applied: %+v", s.config().Schedule)
	}

	// An address in use: the error names the key, the old listener stays.
	busy, _ := net.Listen("tcp", "127.0.0.1:0")
	defer busy.Close()
	third := next
	third.Listen = busy.Addr().String()
	err = s.Reconfigure(third)
	if err == nil || !strings.Contains(err.Error(), "control.listen "+third.Listen) {
		t.Errorf("binding a busy address: %v; want an error naming control.listen", err)
	}
	if c, _, _ := do(t, "GET", "http://"+next.Listen+"/healthz", ""); c == 0 {
		t.Error("after a failed rebind the old listener is gone")
	}
	if s.config().Listen != next.Listen {
		t.Errorf("config says %s after a failed rebind; want the old %s", s.config().Listen, next.Listen)
	}

	bad := next
	bad.PreviewFPS = -1
	if err := s.Reconfigure(bad); err == nil || !strings.Contains(err.Error(), "control.preview_fps") {
		t.Errorf("invalid: %v", err)
	}
	if s.config().PreviewFPS != 2 {
		t.Error("an invalid reload changed the config")
	}
}

// The neural dream's state and the frame budget reach the technician: a
// dream that is off says why in /api/status and as a degradation, its steps
// are in /metrics, and so are the render scale and why.
func TestStatusShowsTheDream(t *testing.T) {
	s, eng, ts, _ := newTestServer(t, DefaultConfig())
	eng.mu.Lock()
	eng.dream = "off: trained network posenet: not installed: run `make setup`"
	eng.mu.Unlock()
	s.checkHealth(s.alive())
	_, body, _ := do(t, "GET", ts.URL+"/api/status", "")
	var st Status
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(st.Dream, "make setup") {
		t.Errorf("status dream %q; want the reason it is off", st.Dream)
	}
	found := false
	for _, d := range st.Degraded {
		found = found || strings.HasPrefix(d, "dream: trained network posenet")
	}
	if !found {
		t.Errorf("degraded %q; want the dream listed", st.Degraded)
	}
	eng.mu.Lock()
	eng.dream, eng.dreamSteps, eng.dreamMs = "on", 1234, 17.5
	eng.mu.Unlock()
	s.checkHealth(s.alive())
	_, body, _ = do(t, "GET", ts.URL+"/api/status", "")
	st = Status{}
	_ = json.Unmarshal([]byte(body), &st)
	if st.Dream != "on" || st.DreamMs != 17.5 || len(st.Degraded) != 0 {
		t.Errorf("a running dream: %+v", st)
	}
	if st.Scale != 0.85 || st.Share != 0.8 || st.TargetFPS != 30 || st.ScaleCause != "lowered" || !strings.Contains(st.ScaleReason, "below the target") {
		t.Errorf("status's frame budget: scale %g share %g target %g cause %q reason %q", st.Scale, st.Share, st.TargetFPS, st.ScaleCause, st.ScaleReason)
	}
	_, metrics, _ := do(t, "GET", ts.URL+"/metrics", "")
	for _, want := range []string{"reverie_dream_steps_total 1234", "reverie_dream_step_seconds 0.0175",
		"reverie_render_scale 0.85", "reverie_background_share 0.8", `reverie_render_scale_reason{reason="lowered"} 1`, `reverie_render_scale_reason{reason="full"} 0`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

package core

import (
	le "encoding/binary"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"reverie/control"
	"reverie/director"
	"reverie/gen"
	"reverie/scene"
)

// The conv decoder's psi input is a live parameter through the engine
// adapter, as the web panel, PATCH /api/params and OSC reach it: it is
// listed with the manifest's range among the scene's parameters, setting it
// changes the next frame, a value out of range is refused with the range,
// and after a swap to a model without it, it is gone from the list.
func TestEngineGeneratorParams(t *testing.T) {
	if _, err := gen.Init(""); err != nil {
		t.Fatal(err)
	}
	gc := gen.DefaultConfig()
	gc.Model, gc.Width, gc.Height, gc.Crossfade = "builtin:convdecoder", 48, 32, 0
	m, _, err := gc.Open()
	if err != nil {
		t.Fatal(err)
	}
	runner := gen.NewRunner(m)
	defer runner.Close()
	sc := scene.DefaultConfig()
	sc.RenderW, sc.RenderH = 64, 36
	game, err := scene.NewGame(sc, m.Width(), m.Height(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer game.Dispose()
	eng := newEngine(&pipeline{ctl: game.Controls(), runner: runner, cam: &camera{}, gen: gc})

	find := func(name string) *control.ParamInfo {
		for _, p := range eng.List() {
			if p.Name == name {
				return &p
			}
		}
		return nil
	}
	ps := eng.List()
	if len(ps) < 2 {
		t.Fatalf("List has %d parameters", len(ps))
	}
	for i := 1; i < len(ps); i++ {
		if ps[i-1].Name >= ps[i].Name {
			t.Errorf("List is not sorted: %q before %q", ps[i-1].Name, ps[i].Name)
		}
	}
	p := find("generator.psi")
	if p == nil || p.Value != 1 || p.Min != 0 || p.Max != 2 || !strings.Contains(p.Doc, `"psi"`) {
		t.Fatalf("generator.psi listed as %+v, want value 1, range 0..2 and a doc naming the input", p)
	}

	z := make([]float32, m.Manifest.Latent.Dim)
	for i := range z {
		z[i] = float32(math.Sin(float64(i)))
	}
	before, _ := runner.Step(z)
	a := append([]byte(nil), before.Pix...)

	// Through the control server's handler, as the panel and scripts do.
	srv, err := control.New(control.DefaultConfig(), eng, control.NewJournal(8))
	if err != nil {
		t.Fatal(err)
	}
	patch := func(body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPatch, "/api/params", strings.NewReader(body))
		req.RemoteAddr = "127.0.0.1:5000"
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, req)
		return rec
	}
	if rec := patch(`{"generator.psi": 0.2}`); rec.Code != http.StatusOK {
		t.Fatalf("PATCH generator.psi 0.2: %d %s", rec.Code, rec.Body)
	} else {
		var got []control.ParamInfo
		json.Unmarshal(rec.Body.Bytes(), &got)
		ok := false
		for _, q := range got {
			ok = ok || (q.Name == "generator.psi" && math.Abs(q.Value-0.2) < 1e-6)
		}
		if !ok {
			t.Errorf("PATCH reply does not list generator.psi at 0.2: %s", rec.Body)
		}
	}
	after, _ := runner.Step(z)
	if d := meanDiff(a, after.Pix); d < 2 {
		t.Errorf("psi 1 → 0.2 changed the frame by only %.2f", d)
	}
	if rec := patch(`{"generator.psi": 7}`); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "0..2") {
		t.Errorf("PATCH generator.psi 7: %d %s, want 400 naming the range", rec.Code, rec.Body)
	}
	// Set directly (OSC /reverie/param/generator.psi calls it).
	if err := eng.Set("generator.psi", 1.5); err != nil {
		t.Fatal(err)
	}
	if p := find("generator.psi"); p == nil || p.Value != 1.5 {
		t.Errorf("after Set 1.5, generator.psi is listed as %+v", p)
	}
	if err := eng.Set("generator.psi", -1); err == nil || !strings.Contains(err.Error(), "generator.psi: -1 is out of range: expected 0..2") {
		t.Errorf("Set generator.psi -1: %v", err)
	}
	if err := eng.Set("generator.noise", 0.5); err == nil || !strings.Contains(err.Error(), "generator.noise") {
		t.Errorf("Set generator.noise: %v, want an error naming it", err)
	}

	c := gc
	c.Model = "builtin:cppn"
	if err := eng.SwapModel(c.Model); err != nil {
		t.Fatal(err)
	}
	if p := find("generator.psi"); p != nil {
		t.Errorf("after a swap to the CPPN, generator.psi is still listed: %+v", p)
	}
}

func meanDiff(a, b []byte) float64 {
	var s float64
	for i := range a {
		s += math.Abs(float64(a[i]) - float64(b[i]))
	}
	return s / float64(len(a))
}

// A user's manifest with a directions file works end to end: it loads
// through Config.Manifest from another working directory, the file resolves
// beside the manifest, and the scene's director takes its rows.
func TestManifestDirectionsEndToEnd(t *testing.T) {
	dir := t.TempDir()
	const dim, k = 8, 3
	man := "name: pca\nmodel: pca.onnx\nlatent: {input: z, dim: 8}\n" +
		"output: {name: image, layout: NCHW, range: [-1, 1], width: 16, height: 16}\ndirections: dirs.bin\n"
	path := filepath.Join(dir, "pca.yaml")
	os.WriteFile(path, []byte(man), 0o644)
	rows := make([]byte, 4*dim*k)
	for r := 0; r < k; r++ {
		le.LittleEndian.PutUint32(rows[4*(r*dim+r):], math.Float32bits(3)) // row r is 3·e_r
	}
	os.WriteFile(filepath.Join(dir, "dirs.bin"), rows, 0o644)
	if wd, _ := os.Getwd(); strings.HasPrefix(wd, dir) {
		t.Fatal("the test must run outside the manifest's folder")
	}
	gc := gen.DefaultConfig()
	gc.Model = path
	m, err := gc.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if m.DirectionsPath() != filepath.Join(dir, "dirs.bin") {
		t.Errorf("DirectionsPath %q, want beside the manifest", m.DirectionsPath())
	}
	dc := director.DefaultConfig()
	for _, mode := range []string{"auto", "model"} {
		dc.Directions = mode
		d, err := director.NewFor(dc, m)
		if err != nil {
			t.Fatalf("directions %s: %v", mode, err)
		}
		if d.Directions() != k || d.Dim() != dim {
			t.Errorf("directions %s: the director has %d directions of %d, want %d of %d", mode, d.Directions(), d.Dim(), k, dim)
		}
	}
	dirs, err := m.LoadDirections()
	if err != nil {
		t.Fatal(err)
	}
	if dirs[1][1] != 1 || dirs[1][0] != 0 {
		t.Errorf("row 1 read as %v, want the unit vector e_1", dirs[1])
	}
}

// A model swap through the engine (POST /api/model, OSC and reloads call
// it) retargets the scene's director: once the CPPN (16 values) is swapped
// for the conv decoder (64), latent component 63 can be offset, and after a
// swap back it is refused again.
func TestEngineSwapRetargetsLatent(t *testing.T) {
	gc, m, runner := testRunner(t)
	sc := testScene()
	d, err := director.NewFor(sc.Director, m.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	cam := &camera{}
	game, err := scene.NewGame(sc, m.Width(), m.Height(), d, &live{cam: cam, runner: runner})
	if err != nil {
		t.Fatal(err)
	}
	defer game.Dispose()
	eng := newEngine(&pipeline{ctl: game.Controls(), runner: runner, cam: cam, gen: gc})
	if err := eng.SetLatent(63, 1); err == nil {
		t.Fatal("latent 63 accepted with the 16-value CPPN")
	}
	if err := eng.SwapModel("builtin:convdecoder"); err != nil {
		t.Fatal(err)
	}
	if err := eng.SetLatent(63, 1); err != nil {
		t.Errorf("after the swap to the conv decoder (64 values): %v", err)
	}
	if err := eng.SwapModel("builtin:cppn"); err != nil {
		t.Fatal(err)
	}
	if err := eng.SetLatent(63, 1); err == nil || !strings.Contains(err.Error(), "0..15") {
		t.Errorf("after the swap back: %v, want an error naming 0..15", err)
	}
}

// Over the network (POST /api/model; OSC /reverie/model takes the same
// path) a model loads only from generator.model_dirs, by default models/
// and the config file's folder: /etc/passwd, a path climbing out with ..,
// a link in the folder to a file outside and /dev/zero are refused with an
// error naming the rule and never quoting the file, while a manifest in the
// config file's folder loads.
func TestNetworkModelDirs(t *testing.T) {
	gc, runner, game := testGame(t)
	confDir := t.TempDir()
	p := &pipeline{ctl: game.Controls(), runner: runner, cam: &camera{}, gen: gc, configDir: confDir}
	eng := newEngine(p)

	// A real model in the config file's folder, and one outside it.
	write := func(dir string) string {
		c := gc
		c.Model = "builtin:convdecoder"
		man, err := c.Manifest()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "deco.onnx"), man.ONNX(), 0o644); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, "deco.yaml")
		if err := man.Write(p, "deco.onnx"); err != nil {
			t.Fatal(err)
		}
		return p
	}
	inside, outside := write(confDir), write(t.TempDir())
	if err := os.Symlink("/etc/passwd", filepath.Join(confDir, "passwd.yaml")); err != nil {
		t.Fatal(err)
	}
	srv, err := control.New(control.DefaultConfig(), eng, control.NewJournal(8))
	if err != nil {
		t.Fatal(err)
	}
	h := srv.Handler()
	swap := func(model string) (int, string) {
		body, _ := json.Marshal(map[string]string{"model": model})
		req := httptest.NewRequest(http.MethodPost, "/api/model", strings.NewReader(string(body)))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	for _, model := range []string{"/etc/passwd", "../../../../../../../../etc/passwd", filepath.Join(confDir, "..", "..", "etc", "shadow"),
		filepath.Join(confDir, "passwd.yaml"), "/dev/zero", outside} {
		code, body := swap(model)
		if code == http.StatusOK || !strings.Contains(body, "generator.model_dirs") {
			t.Errorf("POST /api/model %s: %d %s, want a refusal naming generator.model_dirs", model, code, body)
		}
		if strings.Contains(body, "root:") {
			t.Errorf("POST /api/model %s quotes the file: %s", model, body)
		}
	}
	// A file inside the folders that is not a manifest (the config file
	// itself, with its token; a file of secrets in YAML or not) is refused
	// without its contents, in the answer and in /api/status.
	secrets := map[string]string{
		"config.yaml": "control:\n  token: s3cret-token-value\n",
		"notes.yaml":  "s3cret-token-value: [1, 2\n",
		"list.yaml":   "- s3cret-token-value\n",
		"keys.txt":    "s3cret-token-value\n",
		"dup.yaml":    "name: s3cret-token-value\nname: s3cret-token-value\n",
		"types.yaml":  "name: [s3cret-token-value]\nlatent: s3cret-token-value\n",
	}
	for name, text := range secrets {
		p := filepath.Join(confDir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		code, body := swap(p)
		if code == http.StatusOK || strings.Contains(body, "s3cret") || !strings.Contains(body, p) {
			t.Errorf("POST /api/model %s: %d %s, want a refusal naming the file and never quoting it", p, code, body)
		}
	}
	// A manifest in the folder whose model is a file of secrets.
	man, err := os.ReadFile(inside)
	if err != nil {
		t.Fatal(err)
	}
	evil := filepath.Join(confDir, "evil.yaml")
	os.WriteFile(evil, []byte(strings.Replace(string(man), "deco.onnx", "keys.txt", 1)), 0o644)
	if code, body := swap(evil); code == http.StatusOK || strings.Contains(body, "s3cret") || !strings.Contains(body, "keys.txt") {
		t.Errorf("POST /api/model %s (model: keys.txt): %d %s, want a refusal naming the file and never quoting it", evil, code, body)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/status", nil))
	if strings.Contains(rec.Body.String(), "s3cret") || strings.Contains(rec.Body.String(), "root:") {
		t.Errorf("/api/status quotes a file the network named: %s", rec.Body)
	}
	if got := eng.Generator().Model; got != "builtin:cppn" {
		t.Fatalf("after the refusals the model is %s, want builtin:cppn", got)
	}
	if code, body := swap(inside); code != http.StatusOK {
		t.Fatalf("POST /api/model %s (in the config file's folder): %d %s", inside, code, body)
	}
	// generator.model_dirs replaces the defaults, live on reload.
	next := gc
	next.ModelDirs = []string{filepath.Dir(outside)}
	p.setSwapRules(next)
	if code, body := swap(inside); code == http.StatusOK || !strings.Contains(body, filepath.Dir(outside)) {
		t.Errorf("POST /api/model %s with model_dirs [%s]: %d %s, want a refusal naming the folder", inside, filepath.Dir(outside), code, body)
	}
	if code, body := swap(outside); code != http.StatusOK {
		t.Errorf("POST /api/model %s, now in model_dirs: %d %s", outside, code, body)
	}
}

// testRunner opens the built-in CPPN at 32×32 in a Runner, closed when the
// test ends.
func testRunner(t *testing.T) (gen.Config, *gen.Model, *gen.Runner) {
	t.Helper()
	if _, err := gen.Init(""); err != nil {
		t.Fatal(err)
	}
	gc := gen.DefaultConfig()
	gc.Width, gc.Height, gc.Crossfade = 32, 32, 0
	m, _, err := gc.Open()
	if err != nil {
		t.Fatal(err)
	}
	runner := gen.NewRunner(m)
	t.Cleanup(runner.Close)
	return gc, m, runner
}

// testScene is the default scene at a small render size.
// testGame is a runner and a game on testScene without a director or
// drive, disposed when the test ends.
func testGame(t *testing.T) (gen.Config, *gen.Runner, *scene.Game) {
	t.Helper()
	gc, m, runner := testRunner(t)
	game, err := scene.NewGame(testScene(), m.Width(), m.Height(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(game.Dispose)
	return gc, runner, game
}

func testScene() scene.Config {
	sc := scene.DefaultConfig()
	sc.RenderW, sc.RenderH = 64, 36
	return sc
}

package control

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
)

// An over-long body is 413 (the client must send less), not 400.
func TestOverLimitBodyIs413(t *testing.T) {
	_, _, ts, j := newTestServer(t, DefaultConfig())
	captureLog(t, j)
	big := `{"pad": "` + strings.Repeat("x", maxBody) + `"}`
	for _, route := range []string{"PATCH /api/params", "POST /api/model"} {
		method, path, _ := strings.Cut(route, " ")
		code, body, _ := do(t, method, ts.URL+path, big)
		if code != 413 || !strings.Contains(errText(body), "larger than") {
			t.Errorf("%s with %d bytes: %d %s", route, len(big), code, body)
		}
	}
}

// Authentication schemes are case-insensitive (RFC 7235 section 2.1).
func TestBearerSchemeIsCaseInsensitive(t *testing.T) {
	const token = "s3cret-token-for-tests-for-tests"
	cfg := DefaultConfig()
	cfg.Token = token
	_, _, ts, j := newTestServer(t, cfg)
	captureLog(t, j)
	for _, h := range []string{"Bearer " + token, "bearer " + token, "BEARER " + token, "Bearer   " + token} {
		if code, _, _ := do(t, "GET", ts.URL+"/api/status", "", "Authorization", h); code != 200 {
			t.Errorf("Authorization: %.10s…: %d", h, code)
		}
	}
	for _, h := range []string{"Basic " + token, "Bearer", "Bearer " + token + "x", token, "Bearer" + token} {
		if code, _, _ := do(t, "GET", ts.URL+"/api/status", "", "Authorization", h); code != 401 {
			t.Errorf("Authorization: %.12s…: %d, want 401", h, code)
		}
	}
}

// A null value is a mistake, not a zero.
func TestPatchNullIsRefused(t *testing.T) {
	_, eng, ts, j := newTestServer(t, DefaultConfig())
	captureLog(t, j)
	code, body, _ := do(t, "PATCH", ts.URL+"/api/params", `{"inject.mix": 0.5, "warp.zoom": null}`)
	if code != 400 || !strings.Contains(errText(body), `"warp.zoom"`) || !strings.Contains(errText(body), "null") {
		t.Errorf("null: %d %s", code, body)
	}
	if eng.value("warp.zoom") != 1.01 || eng.value("inject.mix") != 0.1 {
		t.Errorf("a refused PATCH set something: zoom %g mix %g", eng.value("warp.zoom"), eng.value("inject.mix"))
	}
}

// Refusals are requests too: 401, 404 and 405 are counted, under a label
// set that a client cannot grow (no raw paths).
func TestRefusalsAreCounted(t *testing.T) {
	const token = "s3cret-token-for-tests-for-tests"
	cfg := DefaultConfig()
	cfg.Token = token
	_, _, ts, j := newTestServer(t, cfg)
	captureLog(t, j)
	auth := []string{"Authorization", "Bearer " + token}
	do(t, "GET", ts.URL+"/api/status", "")
	do(t, "GET", ts.URL+"/no/such/thing", "", auth...)
	do(t, "GET", ts.URL+"/no/such/other", "", auth...)
	do(t, "DELETE", ts.URL+"/api/params", "", auth...)
	_, text, _ := do(t, "GET", ts.URL+"/metrics", "", auth...)
	for _, w := range []string{
		`reverie_http_requests_total{code="401",route="/api/status"} 1`,
		`reverie_http_requests_total{code="404",route="unmatched"} 2`,
		`reverie_http_requests_total{code="405",route="unmatched"} 1`,
	} {
		if !strings.Contains(text, w) {
			t.Errorf("metrics lack %s:\n%s", w, grepLines(text, "reverie_http"))
		}
	}
	if strings.Contains(text, "/no/such") {
		t.Error("a raw path became a metric label")
	}
}

// /metrics passes the linter promtool check metrics runs.
func TestMetricsLint(t *testing.T) {
	_, _, ts, _ := newTestServer(t, DefaultConfig())
	_, text, _ := do(t, "GET", ts.URL+"/metrics", "")
	problems, err := promlint.New(strings.NewReader(text)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "reverie_") {
			t.Errorf("%s: %s", p.Metric, p.Text)
		}
	}
	if !strings.Contains(text, "reverie_generator_seconds 0.012") {
		t.Errorf("generator time not in seconds:\n%s", grepLines(text, "reverie_generator"))
	}
}

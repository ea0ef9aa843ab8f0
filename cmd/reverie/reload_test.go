package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"reverie/vision"
)

// A running installation takes a new pass chain, a new camera source and
// new control addresses from its config file without a restart, and keeps
// running on the old ones when the new file is invalid. Real parts: the
// binary on Xvfb, OpenCV reading vtest.avi, ONNX Runtime, Ebiten.
func TestReloadAppliesLive(t *testing.T) {
	if os.Getenv("DISPLAY") == "" {
		t.Skip("needs a display: run under xvfb-run")
	}
	dir := t.TempDir()
	clipB := filepath.Join(dir, "second.avi")
	if err := os.Symlink(vision.SampleClip, clipB); err != nil {
		t.Fatal(err)
	}
	addr1, addr2 := freeAddr(t), freeAddr(t)
	cfgPath := filepath.Join(dir, "config.yaml")
	write := func(source, listen, passes string) {
		if passes != "" {
			// The default presets name passes a new chain may lack.
			passes = "  presets: []\n  passes:\n" + passes
		}
		y := fmt.Sprintf("vision:\n  source: %s\nscene:\n  fullscreen: false\n%s\ncontrol:\n  listen: %s\n  osc:\n    listen: \"\"\n", source, passes, listen)
		if err := os.WriteFile(cfgPath, []byte(y), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(vision.SampleClip, addr1, "")
	p := startPiece(t, cfgPath)
	get, waitFor := httpGet, p.waitFor
	source := func(addr string) string {
		var st struct{ Source, Camera string }
		_, body := get(addr, "/api/status")
		_ = json.Unmarshal([]byte(body), &st)
		return st.Camera + " " + st.Source
	}
	waitFor("the camera on the sample clip", 60*time.Second, func() bool {
		return source(addr1) == "ok sample clip "+vision.SampleClip
	})

	// Invalid: an unknown pass. Rejected, the old chain and address stay.
	write(vision.SampleClip, addr1, "    - pass: warp\n    - pass: swirl\n")
	waitFor("the rejected reload logged", 15*time.Second, func() bool {
		return strings.Contains(p.log(), "config reload rejected") && strings.Contains(p.log(), "swirl")
	})
	if _, body := get(addr1, "/api/params"); !strings.Contains(body, "deepdream.step") {
		t.Errorf("after an invalid reload the chain changed: %s", body)
	}

	// The chain, the source and the address at once.
	write(clipB, addr2, "    - pass: warp\n    - pass: inject\n    - pass: warp\n      rotate: 0.01\n")
	waitFor("the new address serving", 20*time.Second, func() bool { c, _ := get(addr2, "/healthz"); return c == 200 })
	waitFor("the new chain's parameters", 20*time.Second, func() bool {
		_, body := get(addr2, "/api/params")
		return strings.Contains(body, "warp#2.rotate") && !strings.Contains(body, "deepdream.step")
	})
	waitFor("the camera on the new file", 30*time.Second, func() bool { return source(addr2) == "ok file "+clipB })
	if c, _ := get(addr1, "/healthz"); c != 0 {
		t.Errorf("the old address still answers (%d) after the rebind", c)
	}
	for _, want := range []string{"scene rebuilt", "restarting the camera", "control server listening"} {
		if !strings.Contains(p.log(), want) {
			t.Errorf("log lacks %q", want)
		}
	}
	if strings.Contains(p.log(), "take effect at the next restart") {
		t.Error("a reload of passes, vision and control still asked for a restart")
	}
}

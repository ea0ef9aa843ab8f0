package control

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// chromiumPath is Debian's chromium, installed by scripts/setup.sh.
const chromiumPath = "/usr/bin/chromium"

// cdp drives Chromium over the DevTools protocol on a pipe
// (--remote-debugging-pipe: commands on fd 3, replies on fd 4, each message
// ending in a NUL byte), so no websocket and no open port are needed.
type cdp struct {
	w       *os.File
	mu      sync.Mutex
	next    int
	waiting map[int]chan cdpReply
	session string
}

type cdpReply struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Message string `json:"message"`
	} `json:"error"`
}

func startChromium(t *testing.T) *cdp {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("%s: %v; run make setup (scripts/setup.sh installs chromium)", chromiumPath, err)
	}
	cmdR, cmdW, _ := os.Pipe()
	outR, outW, _ := os.Pipe()
	cmd := exec.Command(chromiumPath, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--remote-debugging-pipe", "--window-size=1280,900",
		"--user-data-dir="+t.TempDir(), "about:blank")
	cmd.ExtraFiles = []*os.File{cmdR, outW}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	cmdR.Close()
	outW.Close()
	t.Cleanup(func() {
		cmdW.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("chromium stderr:\n%s", stderr.String())
		}
	})
	c := &cdp{w: cmdW, waiting: map[int]chan cdpReply{}}
	go func() {
		r := bufio.NewReader(outR)
		for {
			msg, err := r.ReadBytes(0)
			if err != nil {
				return
			}
			var m struct {
				ID int `json:"id"`
				cdpReply
			}
			if json.Unmarshal(msg[:len(msg)-1], &m) != nil || m.ID == 0 {
				continue // an event
			}
			c.mu.Lock()
			ch := c.waiting[m.ID]
			delete(c.waiting, m.ID)
			c.mu.Unlock()
			if ch != nil {
				ch <- m.cdpReply
			}
		}
	}()
	return c
}

// call sends one command (to the attached page when there is one) and
// waits for its result.
func (c *cdp) call(t *testing.T, method string, params any, result any) {
	t.Helper()
	c.mu.Lock()
	c.next++
	id := c.next
	ch := make(chan cdpReply, 1)
	c.waiting[id] = ch
	msg := map[string]any{"id": id, "method": method, "params": params}
	if c.session != "" {
		msg["sessionId"] = c.session
	}
	c.mu.Unlock()
	b, _ := json.Marshal(msg)
	if _, err := c.w.Write(append(b, 0)); err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	select {
	case r := <-ch:
		if r.Error != nil {
			t.Fatalf("%s: %s", method, r.Error.Message)
		}
		if result != nil {
			if err := json.Unmarshal(r.Result, result); err != nil {
				t.Fatalf("%s: %v", method, err)
			}
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: no answer from chromium", method)
	}
}

// eval runs JavaScript in the page and returns its value as JSON.
func (c *cdp) eval(t *testing.T, js string) json.RawMessage {
	t.Helper()
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	c.call(t, "Runtime.evaluate", map[string]any{"expression": js, "returnByValue": true, "awaitPromise": true}, &r)
	if r.ExceptionDetails != nil {
		t.Fatalf("%s: %s", js, r.ExceptionDetails.Text)
	}
	return r.Result.Value
}

func (c *cdp) waitFor(t *testing.T, what, js string) {
	t.Helper()
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if string(c.eval(t, js)) == "true" {
			return
		}
	}
	t.Fatalf("page: timed out waiting for %s", what)
}

// TestPanelInChromium loads the panel in headless Chromium against the real
// server (with the engine faked at the package boundary), opens it with the
// token link, moves a slider, presses a preset button and takes a
// screenshot.
func TestPanelInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	const token = "panel-test-token-0123"
	cfg := DefaultConfig()
	cfg.Token = token
	_, eng, ts, _ := newTestServer(t, cfg)
	c := startChromium(t)
	c.openPage(t, ts.URL+"/?token="+token)

	c.waitFor(t, "the sliders", `!!document.querySelector('input[name="warp.zoom"]')`)
	if got := string(c.eval(t, `location.search`)); got != `""` {
		t.Errorf("the token stays in the address bar: %s", got)
	}
	c.eval(t, `(() => { const r = document.querySelector('input[name="warp.zoom"]');
		r.value = 1.15; r.dispatchEvent(new Event('input', {bubbles: true})); return r.value; })()`)
	eventually(t, "warp.zoom = 1.15 on the server", func() bool { v := eng.value("warp.zoom"); return v > 1.149 && v < 1.151 })

	c.waitFor(t, "preset buttons", `document.querySelectorAll('[data-preset]').length === 2`)
	c.eval(t, `document.querySelector('[data-preset="storm"]').click()`)
	eventually(t, "preset storm", func() bool { return eng.Stats().Preset == "storm" })

	c.waitFor(t, "the status", `document.getElementById('s-model').textContent === 'builtin:cppn' && document.getElementById('health').textContent === 'running'`)
	c.waitFor(t, "the preview", `document.getElementById('preview').naturalWidth === 64`)
	c.waitFor(t, "the model list", `document.getElementById('models').options.length === 2`)

	// Sliders are grouped by pass in chain order, the latent directions
	// first; a direction slider pushes through the live parameters.
	c.waitFor(t, "the groups", `[...document.querySelectorAll('details.group')].map(d => d.dataset.group).join() === 'push,warp,inject,director'`)
	if got := string(c.eval(t, `!!document.querySelector('details[data-group="warp"] input[name="warp.zoom"]')`)); got != "true" {
		t.Error("warp.zoom is not in the warp group")
	}
	c.eval(t, `(() => { const r = document.querySelector('input[name="push.1"]');
		r.value = 2.5; r.dispatchEvent(new Event('input', {bubbles: true})); })()`)
	eventually(t, "push.1 = 2.5 on the server", func() bool { return eng.value("push.1") == 2.5 })

	// The record button starts a recording, then stops it and shows the file.
	c.eval(t, `document.getElementById('rec').click()`)
	eventually(t, "recording", func() bool { return eng.VideoOut().Record.Recording })
	c.waitFor(t, "the stop button", `document.getElementById('rec').textContent === '■ STOP'`)
	c.eval(t, `document.getElementById('rec').click()`)
	c.waitFor(t, "the saved file", `document.getElementById('msg').textContent === 'saved recordings/take-1.mp4'`)

	// The camera view, and a phone's width without sideways scrolling.
	c.waitFor(t, "the camera view", `document.getElementById('camera').naturalWidth === 80`)

	var shot struct {
		Data string `json:"data"`
	}
	c.call(t, "Page.captureScreenshot", map[string]any{"format": "png"}, &shot)
	raw, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds().Dx() < 800 {
		t.Errorf("screenshot is %v", img.Bounds())
	}
	path := filepath.Join(os.TempDir(), "reverie-panel.png")
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%v)", path, img.Bounds())

	c.call(t, "Emulation.setDeviceMetricsOverride", map[string]any{"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": true}, nil)
	c.waitFor(t, "a phone layout", `document.documentElement.scrollWidth <= 390 && document.getElementById('rec').getBoundingClientRect().right <= 390`)
}

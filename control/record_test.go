package control

import (
	"errors"
	"strings"
	"testing"
)

// Recording over HTTP: start answers the new file, a second start is a
// conflict, stop answers the finished file's path; a refused start names
// why; /api/status and /metrics show frames and drops.
func TestRecordOverHTTP(t *testing.T) {
	_, eng, ts, _ := newTestServer(t, DefaultConfig())
	code, body, _ := do(t, "POST", ts.URL+"/api/record/start", "")
	if code != 200 || !strings.Contains(body, `"file": "recordings/take-1.mp4"`) {
		t.Fatalf("start: %d %s", code, body)
	}
	if code, body, _ = do(t, "POST", ts.URL+"/api/record/start", ""); code != 409 || !strings.Contains(body, "already recording to recordings/take-1.mp4") {
		t.Errorf("second start: %d %s", code, body)
	}
	code, body, _ = do(t, "GET", ts.URL+"/api/status", "")
	if !strings.Contains(body, `"recording": true`) || !strings.Contains(body, `"dropped": 2`) {
		t.Errorf("status while recording: %s", body)
	}
	if code, body, _ = do(t, "POST", ts.URL+"/api/record/stop", ""); code != 200 || !strings.Contains(body, `"file": "recordings/take-1.mp4"`) {
		t.Errorf("stop: %d %s", code, body)
	}
	if code, body, _ = do(t, "POST", ts.URL+"/api/record/stop", ""); code != 409 || !strings.Contains(body, "not recording") {
		t.Errorf("second stop: %d %s", code, body)
	}
	eng.rec.mu.Lock()
	eng.rec.startErr = errors.New("video_out.record.folder /ro is not writable: read-only file system")
	eng.rec.mu.Unlock()
	if code, body, _ = do(t, "POST", ts.URL+"/api/record/start", ""); code != 500 || !strings.Contains(body, "video_out.record.folder /ro is not writable") {
		t.Errorf("start into a read-only folder: %d %s", code, body)
	}
	_, body, _ = do(t, "GET", ts.URL+"/metrics", "")
	if !strings.Contains(body, `reverie_video_out_dropped_total{output="record"} 5`) || !strings.Contains(body, `reverie_video_out_frames_total{output="record"} 90`) {
		t.Errorf("metrics lack the recording's counts")
	}
	if code, _, _ = do(t, "GET", ts.URL+"/api/camera.jpg", ""); code != 200 {
		t.Errorf("camera view: %d", code)
	}
}

// OSC /reverie/record 1 starts a recording and 0 stops it.
func TestRecordOverOSC(t *testing.T) {
	s, eng, _, _ := newTestServer(t, DefaultConfig())
	recording := func() bool { return eng.VideoOut().Record.Recording }
	if err := handle(t, s, packet(t, "/reverie/record", int32(1))); err != nil {
		t.Fatal(err)
	}
	eventually(t, "recording after /reverie/record 1", recording)
	if err := handle(t, s, packet(t, "/reverie/record", int32(0))); err != nil {
		t.Fatal(err)
	}
	eventually(t, "stopped after /reverie/record 0", func() bool { return !recording() })
}

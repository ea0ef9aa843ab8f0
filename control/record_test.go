package control

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
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

// A phone that stops reading the camera view does not hold up the other
// viewers: the shared picture is written outside its lock.
func TestCameraViewSlowViewer(t *testing.T) {
	_, eng, ts, _ := newTestServer(t, DefaultConfig())
	eng.mu.Lock()
	eng.camJPEG = make([]byte, 64<<20) // far more than the sockets buffer
	eng.mu.Unlock()
	stalled, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	if _, err := fmt.Fprintf(stalled, "GET /api/camera.jpg HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	// The stalled viewer's picture is drawn; its write then blocks.
	for i := 0; ; i++ {
		eng.mu.Lock()
		n := eng.camViews
		eng.mu.Unlock()
		if n > 0 {
			break
		}
		if i > 500 {
			t.Fatal("the stalled viewer's picture was never drawn")
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // into the blocked write
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(ts.URL + "/api/camera.jpg")
	if err != nil {
		t.Fatalf("a second viewer waited on the stalled one: %v", err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || n != 64<<20 {
		t.Errorf("second viewer: status %d, %d bytes, %v; want 200 and the whole picture", resp.StatusCode, n, err)
	}
}

package core

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"reverie/control"
	"reverie/internal/redact"
	"reverie/vision"
)

func TestDescribeSource(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"0", "camera 0 (/dev/video0)"},
		{"2", "camera 2 (/dev/video2)"},
		{vision.SampleClip, "sample clip " + vision.SampleClip},
		{"clips/room.mp4", "file clips/room.mp4"},
		{"rtsp://cam.local:554/live", "stream rtsp://cam.local:554/live"},
		{"rtsp://user:s3cret@cam.local:554/live", "stream rtsp://cam.local:554/live"},
		{"rtsp://user@cam.local/live", "stream rtsp://cam.local/live"},
		{"http://user:s3cret@10.0.0.5/video.mjpg?q=1", "stream http://10.0.0.5/video.mjpg?q=1"},
		{"rtsp://admin:p@ss@cam/live", "stream rtsp://cam/live"}, // a bare @ in the password
		{"rtsp://admin:s3cret@cam/live path", "stream rtsp://cam/live%20path"},
		// Not a URL net/url takes: still redacted.
		{"rtsp://admin:s3cret@cam:port/live", "stream rtsp://admin:xxxxx@cam:port/live"},
		// A name already redacted by vision (capSource.Name) stays so.
		{"rtsp://user:xxxxx@cam/live", "stream rtsp://cam/live"},
	} {
		got := describeSource(tc.in)
		if got != tc.want {
			t.Errorf("describeSource(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if strings.Contains(got, "s3cret") || strings.Contains(got, "p@ss") {
			t.Errorf("describeSource(%q) = %q shows the password", tc.in, got)
		}
	}
}

// TestStreamPasswordNeverShown runs a camera on a stream with a password
// that refuses to connect, as a gallery's IP camera behind a wrong address
// does, and reads every place it is reported: /api/status (source, camera
// error, errors, faults), the log lines, and /metrics. None shows the
// password.
func TestStreamPasswordNeverShown(t *testing.T) {
	const secret = "s3cret-pw"
	url := "rtsp://user:" + secret + "@127.0.0.1:1/live"
	var logBuf bytes.Buffer
	j := control.NewJournal(32)
	prev := slog.Default()
	slog.SetDefault(slog.New(redact.Handler(j.Handler(slog.NewTextHandler(&logBuf, nil)))))
	defer slog.SetDefault(prev)

	gc, runner, game := testGame(t)

	vc := vision.DefaultConfig()
	vc.Source = url
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cam := &camera{parent: ctx}
	cam.start(vc)
	p := &pipeline{ctl: game.Controls(), runner: runner, cam: cam, gen: gc}
	eng := newEngine(p)
	srv, err := control.New(control.DefaultConfig(), eng, j)
	if err != nil {
		t.Fatal(err)
	}
	h := srv.Handler()
	get := func(path string) string {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		b, _ := io.ReadAll(rec.Body)
		return string(b)
	}
	deadline := time.Now().Add(20 * time.Second)
	for eng.Camera().Err == "" && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if eng.Camera().Err == "" {
		t.Fatal("the camera reported no error for a stream that refuses to connect")
	}
	cam.restart(vc) // logs the source again
	status, metrics := get("/api/status"), get("/metrics")
	cancel()
	if !strings.Contains(status, "127.0.0.1:1/live") {
		t.Errorf("/api/status does not name the stream at all: %s", status)
	}
	for what, text := range map[string]string{"/api/status": status, "/metrics": metrics, "the log": logBuf.String()} {
		if strings.Contains(text, secret) {
			t.Errorf("%s shows the stream's password:\n%s", what, text)
		}
	}
	if !strings.Contains(logBuf.String(), "user:xxxxx@127.0.0.1:1/live") {
		t.Errorf("the log does not name the stream (redacted):\n%s", logBuf.String())
	}
}

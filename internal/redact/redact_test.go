package redact

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestURLs(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"rtsp://user:s3cret@cam.local:554/stream", "rtsp://user:xxxxx@cam.local:554/stream"},
		{"url rtsp://user:s3cret@10.0.0.2/x: OpenCV could not open it", "url rtsp://user:xxxxx@10.0.0.2/x: OpenCV could not open it"},
		{"CAP_IMAGES: can't find starting number (in the name of file): http://u:s3cret@h/x.mjpg in function 'icvExtractPattern'",
			"CAP_IMAGES: can't find starting number (in the name of file): http://u:xxxxx@h/x.mjpg in function 'icvExtractPattern'"},
		{"rtsp://admin:p@ss@cam/", "rtsp://admin:xxxxx@cam/"},         // a bare @ in the password
		{"rtsp://admin:s3cret@cam", "rtsp://admin:xxxxx@cam"},         // no path
		{"rtsp://admin:s3cret@cam?x=1", "rtsp://admin:xxxxx@cam?x=1"}, // a query
		{"a rtsp://a:s3cret@h/ and http://b:s3cret@k/", "a rtsp://a:xxxxx@h/ and http://b:xxxxx@k/"},
		{"rtsp://user@cam/", "rtsp://user@cam/"}, // no password
		{"rtsp://cam/x", "rtsp://cam/x"},
		{"mail bob@example.com", "mail bob@example.com"},
		{"rtsp://cam/path@x", "rtsp://cam/path@x"}, // @ in the path, not user info
		{"", ""},
	} {
		if got := URLs(tc.in); got != tc.want {
			t.Errorf("URLs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestError(t *testing.T) {
	base := errors.New("plain")
	if Error(base) != base {
		t.Error("an error without a URL should come back as itself")
	}
	if err := Error(fmt.Errorf("open rtsp://u:s3cret@h/: %w", base)); strings.Contains(err.Error(), "s3cret") {
		t.Errorf("Error left the password: %v", err)
	}
}

// TestHandler: a password in a log line's message, string attribute,
// error, group or WithAttrs never reaches the output.
func TestHandler(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		var buf bytes.Buffer
		var h slog.Handler = slog.NewTextHandler(&buf, nil)
		if format == "json" {
			h = slog.NewJSONHandler(&buf, nil)
		}
		log := slog.New(Handler(h))
		const url = "rtsp://user:s3cret@cam/x"
		log.Info("open "+url, "source", url, "err", fmt.Errorf("open %s: refused", url), slog.Group("g", "s", url))
		log.With("source", url).Warn("lost")
		log.Error("x", "n", 3, "ok", "plain")
		out := buf.String()
		if strings.Contains(out, "s3cret") {
			t.Errorf("%s log shows the password:\n%s", format, out)
		}
		if !strings.Contains(out, "rtsp://user:xxxxx@cam/x") || !strings.Contains(out, "plain") || !strings.Contains(out, "3") {
			t.Errorf("%s log lost the rest of the line:\n%s", format, out)
		}
	}
}

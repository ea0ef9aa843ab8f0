package vision

import (
	"os"
	"strings"
	"syscall"
	"testing"
)

// TestStreamPasswordHidden: a stream that fails to open is reported
// without its password, in the error and in what OpenCV and FFmpeg print
// to stderr (the journal under systemd). Before, OpenCV's fallback
// backends printed the whole URL.
func TestStreamPasswordHidden(t *testing.T) {
	const secret = "s3cret-pw"
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	saved, err := syscall.Dup(2)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Dup2(int(f.Fd()), 2); err != nil {
		t.Fatal(err)
	}
	var errs []string
	for _, u := range []string{"rtsp://user:" + secret + "@127.0.0.1:1/x", "http://user:" + secret + "@127.0.0.1:1/x.mjpg"} {
		c := DefaultConfig()
		c.Source = u
		_, err := OpenSource(c, u)
		if err == nil {
			errs = append(errs, "opened "+u)
			continue
		}
		errs = append(errs, err.Error())
	}
	syscall.Dup2(saved, 2)
	syscall.Close(saved)
	printed, _ := os.ReadFile(f.Name())
	for _, e := range errs {
		if strings.Contains(e, secret) || !strings.Contains(e, "user:xxxxx@127.0.0.1") {
			t.Errorf("error %q: want the URL without its password", e)
		}
	}
	if strings.Contains(string(printed), secret) {
		t.Errorf("stderr shows the password:\n%s", printed)
	}
}

package main

import (
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// piece is `reverie run` started by a test: the binary on Xvfb, its log in
// a file, stopped (and its log shown when the test failed) at cleanup.
type piece struct {
	t       *testing.T
	exited  chan struct{}
	logPath string
}

// startPiece runs `reverie run -config cfgPath -windowed`.
func startPiece(t *testing.T, cfgPath string) *piece {
	t.Helper()
	p := &piece{t: t, exited: make(chan struct{}), logPath: filepath.Join(t.TempDir(), "log")}
	logf, err := os.Create(p.logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "run", "-config", cfgPath, "-windowed")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
		}
		logf.Close()
		if t.Failed() {
			t.Logf("log:\n%s", p.log())
		}
	})
	return p
}

func (p *piece) log() string {
	b, _ := os.ReadFile(p.logPath)
	return string(b)
}

// waitFor polls cond for up to d, failing the test when the piece exits or
// the time runs out.
func (p *piece) waitFor(what string, d time.Duration, cond func() bool) {
	p.t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		if cond() {
			return
		}
		select {
		case <-p.exited:
			p.t.Fatalf("reverie exited while waiting for %s", what)
		default:
		}
	}
	p.t.Fatalf("timed out after %s waiting for %s", d, what)
}

// httpGet answers the status code and body of GET http://addr/path; 0 and
// the error when nothing answers.
func httpGet(addr, path string) (int, string) {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + addr + path)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// freeAddr is a loopback address no one listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

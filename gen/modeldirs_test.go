package gen

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestCheckModelPath: over the network a model loads only from the
// configured folders, with links resolved first, and a refusal names the
// path and the rule.
func TestCheckModelPath(t *testing.T) {
	root := t.TempDir()
	models := filepath.Join(root, "models")
	other := filepath.Join(root, "other")
	for _, d := range []string{models, other, filepath.Join(models, "sub")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p string) {
		if err := os.WriteFile(p, []byte("name: x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(models, "ok.yaml"))
	write(filepath.Join(models, "sub", "deep.yaml"))
	write(filepath.Join(other, "secret.yaml"))
	write(filepath.Join(root, "modelsx.yaml")) // a sibling whose name starts like the folder
	link := func(target, name string) {
		if err := os.Symlink(target, name); err != nil {
			t.Fatal(err)
		}
	}
	link(filepath.Join(other, "secret.yaml"), filepath.Join(models, "escape.yaml"))
	link("/etc/passwd", filepath.Join(models, "passwd.yaml"))
	link(other, filepath.Join(models, "otherdir"))
	link(filepath.Join(models, "ok.yaml"), filepath.Join(models, "alias.yaml"))
	// A model folder that is itself a link (models/ on another disk).
	link(models, filepath.Join(root, "linked"))
	if err := syscall.Mkfifo(filepath.Join(models, "fifo.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}

	dirs := []string{models}
	for _, tc := range []struct {
		name, model string
		dirs        []string
		want        string // "" allowed, else a part of the error
	}{
		{"builtin", "builtin:cppn", dirs, ""},
		{"inside", filepath.Join(models, "ok.yaml"), dirs, ""},
		{"nested", filepath.Join(models, "sub", "deep.yaml"), dirs, ""},
		{"link inside to inside", filepath.Join(models, "alias.yaml"), dirs, ""},
		{"through a linked folder", filepath.Join(root, "linked", "ok.yaml"), []string{filepath.Join(root, "linked")}, ""},
		{"folder named through its link", filepath.Join(models, "ok.yaml"), []string{filepath.Join(root, "linked")}, ""},
		{"a FIFO inside passes the rule (the reader refuses it)", filepath.Join(models, "fifo.yaml"), dirs, ""},
		{"absolute outside", "/etc/passwd", dirs, "outside generator.model_dirs"},
		{"dev zero", "/dev/zero", dirs, "outside generator.model_dirs"},
		{"dot-dot", filepath.Join(models, "..", "other", "secret.yaml"), dirs, "outside generator.model_dirs"},
		{"relative dot-dot", "../../../etc/shadow", dirs, "outside generator.model_dirs"},
		{"sibling with the folder's prefix", filepath.Join(root, "modelsx.yaml"), dirs, "outside generator.model_dirs"},
		{"link to outside file", filepath.Join(models, "escape.yaml"), dirs, "is a link to a file outside"},
		{"link to /etc/passwd", filepath.Join(models, "passwd.yaml"), dirs, "is a link to a file outside"},
		{"through a link to an outside folder", filepath.Join(models, "otherdir", "secret.yaml"), dirs, "is a link to a file outside"},
		{"missing inside", filepath.Join(models, "nope.yaml"), dirs, "no such file"},
		{"missing outside says nothing of existence", "/nonexistent/x.yaml", dirs, "outside generator.model_dirs"},
		{"no folders", filepath.Join(models, "ok.yaml"), nil, "outside generator.model_dirs"},
		{"missing folder", filepath.Join(models, "ok.yaml"), []string{filepath.Join(root, "gone")}, "outside generator.model_dirs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckModelPath(tc.dirs, tc.model)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("CheckModelPath(%q) = %v, want allowed", tc.model, err)
			case tc.want == "":
				return
			case err == nil:
				t.Fatalf("CheckModelPath(%q) allowed it, want %q", tc.model, tc.want)
			case !strings.Contains(err.Error(), tc.want):
				t.Fatalf("CheckModelPath(%q) = %v, want it to say %q", tc.model, err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.model) {
				t.Errorf("the error does not name the path %q: %v", tc.model, err)
			}
			if strings.Contains(tc.want, "outside") && (!errors.Is(err, ErrOutsideModelDirs) || !strings.Contains(err.Error(), "generator.model_dirs")) {
				t.Errorf("the refusal does not name the rule: %v", err)
			}
			if strings.Contains(err.Error(), "root:") {
				t.Errorf("the error quotes a file: %v", err)
			}
		})
	}
}

func TestNetworkModelDirs(t *testing.T) {
	c := DefaultConfig()
	if got := c.NetworkModelDirs("/etc/reverie"); strings.Join(got, ",") != "models,/etc/reverie" {
		t.Errorf("default model dirs = %v, want models/ and the config file's folder", got)
	}
	c.ModelDirs = []string{"/srv/art"}
	if got := c.NetworkModelDirs("/etc/reverie"); strings.Join(got, ",") != "/srv/art" {
		t.Errorf("configured model dirs = %v, want only /srv/art", got)
	}
	c.ModelDirs = []string{" "}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "model_dirs[0]") {
		t.Errorf("an empty model_dirs entry: %v, want an error naming model_dirs[0]", err)
	}
	c = DefaultConfig()
	c.LoadTimeout = -1
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "load_timeout") {
		t.Errorf("load_timeout -1: %v, want an error naming load_timeout", err)
	}
}

// TestSwapLoadTimeout: a load that hangs is abandoned after
// generator.load_timeout with an error naming the model and the limit; the
// swap slot is free at once, so the next swap works while the hung load
// still runs; when the hung load finishes at last, its model is closed and
// never shown.
func TestSwapLoadTimeout(t *testing.T) {
	r := newCPPNRunner(t, 32, 32)
	defer r.Close()
	release := make(chan struct{})
	var hung atomic.Pointer[Model]
	r.open = func(c *Config) (*Model, Warning, error) {
		if c.Seed == 99 { // the hanging model
			<-release
			m, w, err := c.Open()
			hung.Store(m)
			return m, w, err
		}
		return c.Open()
	}
	c := DefaultConfig()
	c.Width, c.Height = 32, 32
	c.Model, c.Seed, c.LoadTimeout = "builtin:convdecoder", 99, 0.2
	start := time.Now()
	err := r.Swap(c)
	if err == nil || !strings.Contains(err.Error(), "builtin:convdecoder") || !strings.Contains(err.Error(), "generator.load_timeout (0.2s)") {
		t.Fatalf("a hanging load: %v, want an error naming the model and generator.load_timeout (0.2s)", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("the swap returned after %v, long past its 0.2 s limit", d)
	}
	if got := r.Stats().Model; !strings.HasPrefix(got, "builtin:cppn") {
		t.Fatalf("after the abandoned load the model is %s, want builtin:cppn still", got)
	}
	// The slot is free: another swap works while the hung load still runs.
	c.Seed, c.LoadTimeout = 5, 30
	if err := r.Swap(c); err != nil {
		t.Fatalf("the swap after an abandoned load: %v", err)
	}
	if got := r.Stats().Model; !strings.HasPrefix(got, "builtin:convdecoder") {
		t.Fatalf("model after the second swap = %s, want builtin:convdecoder*", got)
	}
	swaps := r.Stats().Swaps
	close(release)
	deadline := time.Now().Add(20 * time.Second)
	for r.abandoned.Load() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := r.abandoned.Load(); n != 0 {
		t.Fatalf("%d abandoned loads still counted after they finished", n)
	}
	if m := hung.Load(); m == nil || m == r.Model() || m.session != nil {
		t.Errorf("the abandoned load's model was not closed, or was installed")
	}
	if r.Stats().Swaps != swaps {
		t.Errorf("the abandoned load counted as a swap")
	}
}

// TestSwapAbandonedCap: loads past their timeout hold memory until they
// end, so after maxAbandoned of them a swap is refused with the reason.
func TestSwapAbandonedCap(t *testing.T) {
	r := newCPPNRunner(t, 32, 32)
	defer r.Close()
	release := make(chan struct{})
	defer close(release)
	r.open = func(c *Config) (*Model, Warning, error) {
		<-release
		return nil, "", errors.New("released")
	}
	c := DefaultConfig()
	c.Width, c.Height, c.LoadTimeout = 32, 32, 0.05
	for i := 0; i < maxAbandoned; i++ {
		if err := r.Swap(c); err == nil || !strings.Contains(err.Error(), "abandoned") {
			t.Fatalf("hung load %d: %v, want abandoned", i, err)
		}
	}
	err := r.Swap(c)
	if err == nil || !strings.Contains(err.Error(), "still running") {
		t.Fatalf("a swap with %d abandoned loads running: %v, want a refusal saying they are still running", maxAbandoned, err)
	}
}

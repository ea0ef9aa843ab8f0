package gen

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// hostile makes the files a hostile request names, by kind, in dir.
func hostile(t testing.TB, dir string, kind byte, data []byte, limit int64) string {
	t.Helper()
	p := filepath.Join(dir, "x.onnx")
	switch kind % 6 {
	case 0: // a regular file
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	case 1: // a FIFO nobody writes
		if err := syscall.Mkfifo(p, 0o644); err != nil {
			t.Skip("no FIFOs here:", err)
		}
	case 2: // a folder
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatal(err)
		}
	case 3: // an endless device
		if err := os.Symlink("/dev/zero", p); err != nil {
			t.Fatal(err)
		}
	case 4: // a sparse file over the limit
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		f.Truncate(limit + 1 + int64(len(data)))
		f.Close()
	case 5: // missing
	}
	return p
}

// A model path naming /dev/zero, a FIFO, a folder or a huge sparse file is
// refused at once, naming the file and the rule, with nothing read.
func TestReadUserFileRefusesHostileFiles(t *testing.T) {
	for kind, want := range map[byte]string{1: "a FIFO", 2: "a folder", 3: "a device", 4: "at most 1024", 5: "no such file"} {
		p := hostile(t, t.TempDir(), kind, nil, 1024)
		done := make(chan error, 1)
		go func() { _, err := readUserFile(p, "model", 1024); done <- err }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), p) {
				t.Errorf("kind %d: %v, want it to name %s and say %q", kind, err, p, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("kind %d (%s): still reading after 5 s", kind, want)
		}
	}
	p := hostile(t, t.TempDir(), 0, []byte("ok"), 1024)
	if b, err := readUserFile(p, "model", 1024); err != nil || string(b) != "ok" {
		t.Errorf("a regular file: %q %v", b, err)
	}
}

// A file that is not a manifest is refused without quoting it: YAML's own
// errors would print /etc/passwd line by line.
func TestManifestErrorsDoNotQuoteTheFile(t *testing.T) {
	secret := "root:$y$j9T$SECRETHASHSECRETHASH:19000:0:99999:7:::"
	for name, text := range map[string]string{
		"shadow":     secret + "\ndaemon:*:19000:0:99999:7:::\n",
		"mapping":    "name: x\n" + secret + ": 1\n",
		"bad scalar": "latent:\n  dim: " + secret + "\n",
		"not yaml":   "name: [" + secret + "\n",
	} {
		p := filepath.Join(t.TempDir(), "m.yaml")
		os.WriteFile(p, []byte(text), 0o644)
		_, err := LoadManifest(p)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if strings.Contains(err.Error(), "SECRET") {
			t.Errorf("%s: the error quotes the file: %v", name, err)
		}
		if !strings.Contains(err.Error(), p) {
			t.Errorf("%s: the error does not name the file: %v", name, err)
		}
	}
}

// manifestSeeds are the fuzz corpus: a valid manifest, and near misses.
var manifestSeeds = []string{
	"name: m\nmodel: m.onnx\nlatent: {input: z, dim: 8, distribution: normal}\noutput: {name: img, layout: NCHW, range: [-1, 1], dtype: float32, width: 8, height: 8}\n",
	"name: m\nmodel: m.onnx\nlatent: {input: z, dim: 8, distribution: normal}\ninputs:\n  - {name: psi, shape: [1], value: 0.7, param: psi, min: 0, max: 1}\noutput: {name: img, layout: NHWC, range: [0, 255], dtype: uint8, width: 4, height: 4}\ndirections: d.bin\n",
	"latent: {dim: -1}\n",
	"output: {range: [1]}\n",
	"inputs: [{shape: [99999999999, 99999999999]}]\n",
	"&a [*a, *a]\n",
	"root:x:0:0:root:/root:/bin/bash\n",
	"",
	"\xff\xfe",
}

// FuzzManifest: no manifest text may panic or hang the parser, and an
// error names the file without quoting any line of it.
func FuzzManifest(f *testing.F) {
	for _, s := range manifestSeeds {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "m.yaml")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadManifest(p)
		if err == nil {
			return
		}
		if !strings.Contains(err.Error(), p) {
			t.Fatalf("error does not name the file: %v", err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			if line = strings.TrimSpace(line); len(line) >= 24 && strings.Contains(err.Error(), line) {
				t.Fatalf("error quotes the line %q: %v", line, err)
			}
		}
	})
}

// FuzzOpenModel: whatever file a model path names (its bytes, or a FIFO,
// a folder, /dev/zero, a sparse giant), opening it returns promptly, never
// reads past the limit, and names the file. Bytes that are read go to ONNX
// Runtime, which must refuse garbage with an error, not a crash.
func FuzzOpenModel(f *testing.F) {
	built, err := DefaultCPPN(1, 4, 4).Build()
	if err != nil {
		f.Fatal(err)
	}
	onnx := built.onnx
	f.Add(byte(0), onnx)
	f.Add(byte(0), onnx[:len(onnx)/2])
	f.Add(byte(0), []byte("\x08\x07\x12\x04junk"))
	f.Add(byte(0), []byte{})
	for k := byte(1); k < 6; k++ {
		f.Add(k, []byte("x"))
	}
	_, initErr := Init("")
	haveORT := initErr == nil
	const limit = 1 << 20
	f.Fuzz(func(t *testing.T, kind byte, data []byte) {
		p := hostile(t, t.TempDir(), kind, data, limit)
		data2, err := readUserFile(p, "model", limit)
		if err != nil {
			if !strings.Contains(err.Error(), p) {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if int64(len(data2)) > limit {
			t.Fatalf("read %d bytes past the limit %d", len(data2), limit)
		}
		if haveORT {
			man := *built
			man.Model, man.onnx = p, nil
			if m, _, err := Load(&man, SessionConfig{}); err == nil {
				m.Close()
			}
		}
	})
}

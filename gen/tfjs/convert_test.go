package tfjs_test

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"reverie/gen"
	"reverie/gen/networks"
	"reverie/gen/tfjs"
)

func TestMain(m *testing.M) {
	if _, err := gen.Init(""); err != nil {
		println(err.Error())
		os.Exit(1)
	}
	os.Exit(m.Run())
}

type weight struct {
	Name         string         `json:"name"`
	Shape        []int64        `json:"shape"`
	DType        string         `json:"dtype"`
	Quantization map[string]any `json:"quantization,omitempty"`
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// writeModel writes a small model.json: image [1,3,4,2] NHWC → 1×1
// _FusedConv2D (BiasAdd, Relu6) to 3 channels → extra op (when set) → out.
// The filter is uint8-quantised and the bias float16, as in the packages.
func writeModel(t *testing.T, extraOp string) (string, []float32, []float32) {
	t.Helper()
	dir := t.TempDir()
	// filter [1,1,2,3] from uint8 q*0.1 - 0.5; bias [3] float16.
	q := []byte{0, 3, 5, 7, 10, 2}
	filter := make([]float32, len(q))
	for i, v := range q {
		filter[i] = float32(float64(v)*0.1 - 0.5)
	}
	bias := []float32{0.5, -0.25, 2}
	halves := []uint16{0x3800, 0xb400, 0x4000} // 0.5, -0.25, 2
	var bin bytes.Buffer
	bin.Write(q)
	for _, h := range halves {
		binary.Write(&bin, binary.LittleEndian, h)
	}
	attrs := map[string]any{
		"strides":     map[string]any{"list": map[string]any{"i": []string{"1", "1", "1", "1"}}},
		"padding":     map[string]any{"s": b64("SAME")},
		"fused_ops":   map[string]any{"list": map[string]any{"s": []string{b64("BiasAdd"), b64("Relu6")}}},
		"data_format": map[string]any{"s": b64("NHWC")},
	}
	nodes := []map[string]any{
		{"name": "image", "op": "Placeholder", "attr": map[string]any{
			"dtype": map[string]any{"type": "DT_FLOAT"},
			"shape": map[string]any{"shape": map[string]any{"dim": []map[string]string{{"size": "1"}, {"size": "3"}, {"size": "4"}, {"size": "2"}}}}}},
		{"name": "w", "op": "Const"},
		{"name": "b", "op": "Const"},
		{"name": "conv", "op": "_FusedConv2D", "input": []string{"image", "w", "b"}, "attr": attrs},
	}
	out := "conv"
	if extraOp != "" {
		nodes = append(nodes, map[string]any{"name": "extra", "op": extraOp, "input": []string{"conv"}})
		out = "extra"
	}
	model := map[string]any{
		"format": "graph-model", "generatedBy": "test",
		"modelTopology": map[string]any{"node": nodes},
		"signature": map[string]any{"outputs": map[string]any{out + ":0": map[string]any{"name": out + ":0", "dtype": "DT_FLOAT",
			"tensorShape": map[string]any{"dim": []map[string]string{{"size": "1"}, {"size": "3"}, {"size": "4"}, {"size": "3"}}}}}},
		"weightsManifest": []map[string]any{{"paths": []string{"m.bin"}, "weights": []weight{
			{"w", []int64{1, 1, 2, 3}, "float32", map[string]any{"dtype": "uint8", "min": -0.5, "scale": 0.1}},
			{"b", []int64{3}, "float32", map[string]any{"dtype": "float16"}},
		}}},
	}
	js, _ := json.Marshal(model)
	p := filepath.Join(dir, "m.json")
	if err := os.WriteFile(p, js, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "m.bin"), bin.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p, filter, bias
}

// TestQuantisedConv converts a 1×1 convolution with uint8 and float16
// weights and checks ONNX Runtime's output against the sum done here.
func TestQuantisedConv(t *testing.T) {
	p, filter, bias := writeModel(t, "")
	m, err := tfjs.Read(p)
	if err != nil {
		t.Fatal(err)
	}
	onnx, err := tfjs.Convert(m, tfjs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "m.onnx")
	os.WriteFile(f, onnx, 0o644)
	net, _, err := gen.OpenNet(f, []int64{1, 3, 4, 2}, gen.SessionConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer net.Close()
	in := net.Input()
	for i := range in {
		in[i] = float32(i%7)*0.7 - 1.5
	}
	if err := net.Run(); err != nil {
		t.Fatal(err)
	}
	got, shape := net.Output(0)
	if len(shape) != 4 || shape[3] != 3 || shape[1] != 3 || shape[2] != 4 {
		t.Fatalf("output shape %v, want NHWC [1 3 4 3]", shape)
	}
	for px := 0; px < 12; px++ {
		for o := 0; o < 3; o++ {
			want := bias[o]
			for c := 0; c < 2; c++ {
				want += in[px*2+c] * filter[c*3+o] // HWIO
			}
			want = min(max(want, 0), 6)
			if g := got[px*3+o]; math.Abs(float64(g-want)) > 1e-5 {
				t.Errorf("pixel %d channel %d: %g, want %g", px, o, g, want)
			}
		}
	}
}

func TestUnsupportedOpIsNamed(t *testing.T) {
	p, _, _ := writeModel(t, "Erf")
	m, err := tfjs.Read(p)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tfjs.Convert(m, tfjs.Options{})
	if err == nil {
		t.Fatal("converted an Erf node; want an error")
	}
	for _, want := range []string{"Erf", `"extra"`, p} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}

func TestBadFilesAreRefused(t *testing.T) {
	p, _, _ := writeModel(t, "")
	dir := filepath.Dir(p)
	bin := filepath.Join(dir, "m.bin")

	os.WriteFile(bin, []byte{1, 2, 3}, 0o644)
	if _, err := tfjs.Read(p); err == nil || !strings.Contains(err.Error(), "weight w") || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("truncated shard: %v, want an error naming weight w and saying truncated", err)
	}

	js, _ := os.ReadFile(p)
	os.WriteFile(p, bytes.Replace(js, []byte(`"m.bin"`), []byte(`"../../etc/passwd"`), 1), 0o644)
	if _, err := tfjs.Read(p); err == nil || !strings.Contains(err.Error(), "beside model.json") {
		t.Errorf("shard path climbing out: %v, want a refusal", err)
	}

	os.WriteFile(p, []byte("secret line one\nsecret: two"), 0o644)
	if _, err := tfjs.Read(p); err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("not JSON: %v, want an error that does not quote the file", err)
	}

	fifo := filepath.Join(dir, "fifo.json")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := tfjs.Read(fifo); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("FIFO: %v, want refused as not a regular file (and not to block)", err)
	}
	if _, err := tfjs.Read("/dev/zero"); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("/dev/zero: %v, want refused as not a regular file", err)
	}
}

// TestDeterministic converts the installed PoseNet twice: the bytes match.
func TestDeterministic(t *testing.T) {
	n, _ := networks.Lookup("posenet")
	src := filepath.Join(networks.Dir(), filepath.Base(n.Source))
	var first []byte
	for i := 0; i < 2; i++ {
		m, err := tfjs.Read(src)
		if err != nil {
			t.Fatalf("%v (run `make setup`)", err)
		}
		b, err := tfjs.Convert(m, tfjs.Options{DynamicSize: true, Metadata: map[string]string{"a": "1", "b": "2"}})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = b
		} else if !bytes.Equal(first, b) {
			t.Error("two conversions of posenet differ")
		}
	}
}

package grad

import (
	"fmt"
	"math/rand"
	"os"
	"runtime"
	"sort"
	"syscall"
	"testing"
	"time"
	"unsafe"

	ort "github.com/yalue/onnxruntime_go"

	"reverie/gen/networks"
	"reverie/gen/onnxpb"
)

// mobileNet is PoseNet's MobileNetV1 up to Conv2d_7_pointwise with random
// weights: NHWC input, a Transpose, SAME_UPPER convs, Clip(0, 6).
func mobileNet() (model []byte, layer string) {
	g := onnxpb.NewGraph("mobilenet")
	n := &net{g: g, r: rand.New(rand.NewSource(1))}
	x := g.Input("image", onnxpb.Float, 1, onnxpb.Dynamic, onnxpb.Dynamic, 3)
	same := onnxpb.AttrString("auto_pad", "SAME_UPPER")
	relu6 := func(v string) string { return g.Op("Clip", []string{v, g.Scalar(0), g.Scalar(6)}) }
	y := g.Op("Transpose", []string{x}, onnxpb.AttrInts("perm", 0, 3, 1, 2))
	y = relu6(n.conv(y, 3, 32, 3, same, onnxpb.AttrInts("strides", 2, 2)))
	c := int64(32)
	for _, blk := range []struct{ out, stride int64 }{{64, 1}, {128, 2}, {128, 1}, {256, 2}, {256, 1}, {512, 2}, {512, 1}} {
		y = relu6(n.convG(y, c, c, 3, c, same, onnxpb.AttrInts("strides", blk.stride, blk.stride)))
		y = relu6(n.conv(y, c, blk.out, 1))
		c = blk.out
	}
	g.OutputInfo(y, onnxpb.Float, nil, nil)
	return g.Model("bench", "1"), y
}

const benchH, benchW = 144, 256

func benchImage() []float32 {
	r := rand.New(rand.NewSource(2))
	img := make([]float32, benchH*benchW*3)
	for i := range img {
		img[i] = 2*r.Float32() - 1
	}
	return img
}

// runner runs one session over and over with tensors made once.
func runner(b *testing.B, model []byte, inputs []string, ins []tensorIn, outputs []string) func() {
	s := newSession(b, model, inputs, outputs)
	vals := make([]ort.Value, len(ins))
	for i, in := range ins {
		t, err := ort.NewTensor(ort.NewShape(in.shape...), in.data)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { t.Destroy() })
		vals[i] = t
	}
	// The first run lets ONNX Runtime allocate its outputs and pick kernels;
	// after it, outputs are tensors made once and written in place, as the
	// dream and gen.Net run (a fresh image-sized output per run costs page
	// faults the forward pass's small output does not).
	first := make([]ort.Value, len(outputs))
	if err := s.s.Run(vals, first); err != nil {
		b.Fatal(err)
	}
	outs := make([]ort.Value, len(outputs))
	for i, o := range first {
		t, err := ort.NewEmptyTensor[float32](o.GetShape())
		o.Destroy()
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { t.Destroy() })
		outs[i] = t
	}
	return func() {
		if err := s.s.Run(vals, outs); err != nil {
			b.Fatal(err)
		}
	}
}

// benchRun times one session.
func benchRun(b *testing.B, model []byte, inputs []string, ins []tensorIn, outputs []string) {
	run := runner(b, model, inputs, ins, outputs)
	b.ResetTimer()
	for range b.N {
		run()
	}
}

// BenchmarkStepVsForward alternates a forward pass and a step, so that both
// see the same load on a shared machine, and reports the median of each and
// the median ratio (step-ms / fwd-ms: the figure to keep under 3.5).
func BenchmarkStepVsForward(b *testing.B) {
	model, layer := mobileNet()
	step, err := Build(model, Options{Layer: layer, Output: Step})
	if err != nil {
		b.Fatal(err)
	}
	stepVsForward(b, model, step, layer)
}

func stepVsForward(b *testing.B, model, step []byte, layer string) {
	img := tensorIn{[]int64{1, benchH, benchW, 3}, benchImage()}
	// With one intra-op thread ONNX Runtime runs every kernel on the calling
	// thread, so that thread's CPU time is the work done, whatever else the
	// shared machine is running: cpu-ratio is the steadier figure.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	fwd := runner(b, model, []string{"image"}, []tensorIn{img}, []string{layer})
	stp := runner(b, step, []string{"image", StepName}, []tensorIn{img, {[]int64{1}, []float32{1}}}, []string{ObjectiveName, SteppedName})
	var fs, ss, rs, cs []float64
	b.ResetTimer()
	for range b.N {
		t0, c0 := time.Now(), threadCPU()
		fwd()
		t1, c1 := time.Now(), threadCPU()
		stp()
		t2, c2 := time.Now(), threadCPU()
		f, s := t1.Sub(t0).Seconds()*1e3, t2.Sub(t1).Seconds()*1e3
		fs, ss, rs = append(fs, f), append(ss, s), append(rs, s/f)
		cs = append(cs, float64(c2-c1)/float64(c1-c0))
	}
	b.ReportMetric(median(fs), "fwd-ms")
	b.ReportMetric(median(ss), "step-ms")
	b.ReportMetric(median(rs), "ratio")
	b.ReportMetric(median(cs), "cpu-ratio")
}

// threadCPU is the calling OS thread's CPU time in nanoseconds.
func threadCPU() int64 {
	var ts syscall.Timespec
	const clockThreadCPUTime = 3 // CLOCK_THREAD_CPUTIME_ID
	if _, _, e := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTime, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		return 0
	}
	return ts.Nano()
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}

// BenchmarkForward is the bare forward pass to the layer, the baseline for
// BenchmarkStep. One intra-op thread, 256×144.
func BenchmarkForward(b *testing.B) {
	model, layer := mobileNet()
	benchRun(b, model, []string{"image"}, []tensorIn{{[]int64{1, benchH, benchW, 3}, benchImage()}}, []string{layer})
}

// BenchmarkStep is one DeepDream step through the same network: forward,
// backward and the normalised step.
func BenchmarkStep(b *testing.B) {
	model, layer := mobileNet()
	step, err := Build(model, Options{Layer: layer, Output: Step})
	if err != nil {
		b.Fatal(err)
	}
	benchRun(b, step, []string{"image", StepName},
		[]tensorIn{{[]int64{1, benchH, benchW, 3}, benchImage()}, {[]int64{1}, []float32{1}}}, []string{ObjectiveName, SteppedName})
}

const posenetLayer = "MobilenetV1/MobilenetV1/Conv2d_7_pointwise/Relu6"

// posenet is the converted PoseNet ($REVERIE_POSENET, else where set-up puts
// it); the benchmarks skip without it, the tests in posenet_test.go fail.
func posenet(b *testing.B) []byte {
	p := os.Getenv("REVERIE_POSENET")
	if p == "" {
		var err error
		if p, err = networks.Find("posenet"); err != nil {
			b.Skip(err)
		}
	}
	data, err := os.ReadFile(p)
	if err != nil {
		b.Skipf("no PoseNet at %s: %v", p, err)
	}
	return data
}

// BenchmarkPoseNetStepVsForward is BenchmarkStepVsForward on the converted
// PoseNet to Conv2d_7_pointwise.
func BenchmarkPoseNetStepVsForward(b *testing.B) {
	model := posenet(b)
	shape := []int64{1, benchH, benchW, 3}
	if os.Getenv("REVERIE_GRAD_DYNAMIC") != "" {
		shape = nil
	}
	step, err := Build(model, Options{Layer: posenetLayer, Output: Step, Shape: shape})
	if err != nil {
		b.Fatal(err)
	}
	stepVsForward(b, pruned(b, model, posenetLayer, shape), step, posenetLayer)
}

// BenchmarkPoseNetDreamSteps is the live DeepDream's tick: one Step at
// 256×144 through PoseNet to Conv2d_7_pointwise, its output fed back as the
// next input, with ONNX Runtime's own choice of intra-op threads (0), with
// two, and with one for reference; "nospin" turns off the pool's spinning,
// which on a shared machine burns the time slices the other thread needs.
// It reports steps/s (the target is 30 or more on two cores; PyTorch's CPU
// autograd takes about 18 ms a step on this machine).
func BenchmarkPoseNetDreamSteps(b *testing.B) {
	model := posenet(b)
	dims := []int64{1, benchH, benchW, 3}
	step, err := Build(model, Options{Layer: posenetLayer, Output: Step, Shape: dims})
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		threads int
		spin    bool
	}{{0, true}, {2, true}, {0, false}, {2, false}, {1, true}} {
		name := fmt.Sprintf("threads=%d", c.threads)
		var config [][2]string
		if !c.spin {
			name += "/nospin"
			config = append(config, [2]string{"session.intra_op.allow_spinning", "0"})
		}
		b.Run(name, func(b *testing.B) {
			s := newSessionThreads(b, step, []string{"image", StepName}, []string{ObjectiveName, SteppedName}, c.threads, config...)
			img, err := ort.NewTensor(ort.NewShape(dims...), benchImage())
			if err != nil {
				b.Fatal(err)
			}
			defer img.Destroy()
			size, err := ort.NewTensor(ort.NewShape(1), []float32{0.01})
			if err != nil {
				b.Fatal(err)
			}
			defer size.Destroy()
			obj, err := ort.NewEmptyTensor[float32](ort.NewShape(1))
			if err != nil {
				b.Fatal(err)
			}
			defer obj.Destroy()
			next, err := ort.NewEmptyTensor[float32](ort.NewShape(dims...))
			if err != nil {
				b.Fatal(err)
			}
			defer next.Destroy()
			tick := func() {
				if err := s.s.Run([]ort.Value{img, size}, []ort.Value{obj, next}); err != nil {
					b.Fatal(err)
				}
				// The dream feeds the stepped picture back in.
				copy(img.GetData(), next.GetData())
			}
			tick() // ONNX Runtime's first run allocates and picks kernels
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				tick()
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "steps/s")
		})
	}
}

package videoout

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"reverie/internal/matcount"
)

// paint draws picture i: a grey level that changes and a bright square
// that moves, so consecutive frames differ.
func paint(i, w, h int) func(pix []byte) {
	return func(pix []byte) {
		g := byte(40 + (i*7)%160)
		for k := 0; k < len(pix); k += 4 {
			pix[k], pix[k+1], pix[k+2], pix[k+3] = g, g/2, 255-g, 255
		}
		sq := min(32, w/4, h/4)
		x0 := (i * 8) % (w - sq)
		for y := h / 3; y < h/3+sq; y++ {
			for x := x0; x < x0+sq; x++ {
				o := 4 * (y*w + x)
				pix[o], pix[o+1], pix[o+2] = 255, 255, 255
			}
		}
	}
}

// waitFree waits until the recording's encoder has a free buffer, so a
// test that must not drop frames hands them over no faster than it encodes.
func waitFree(t *testing.T, s *sink) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); len(s.free) == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("the encoder took no frame for 10 s")
		}
	}
}

func slot(i int, fps float64) time.Duration {
	return time.Duration((float64(i) + 0.5) / fps * float64(time.Second))
}

// Recordings through Debian's FFmpeg, in each container and codec the
// config offers, read back with the frame count (one picture shown for two
// slots fills both), the size, and pictures that differ.
func TestRecordingReadsBack(t *testing.T) {
	matcount.Check(t)
	const w, h, n = 320, 180, 30
	for _, tc := range []struct{ container, codec string }{{"mp4", "h264"}, {"mkv", "mpeg4"}, {"avi", "mjpeg"}} {
		t.Run(tc.container+"/"+tc.codec, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Record.Folder, cfg.Record.Container, cfg.Record.Codec = t.TempDir(), tc.container, tc.codec
			o := New(cfg, w, h, DefaultOpeners())
			path, err := o.StartRecording()
			if err != nil {
				t.Fatal(err)
			}
			if filepath.Dir(path) != cfg.Record.Folder || !strings.HasSuffix(path, "."+tc.container) {
				t.Errorf("recording at %s: expected a .%s file in %s", path, tc.container, cfg.Record.Folder)
			}
			slots := 0
			for i := 0; i < n; i++ {
				waitFree(t, o.rec)
				slots++
				if i == n/2 {
					slots++ // this picture stays up for two slots
				}
				o.Capture(slot(slots-1, cfg.Record.FPS), paint(i, w, h))
			}
			got, err := o.StopRecording()
			if err != nil || got != path {
				t.Fatalf("stop: %q, %v; expected %s", got, err, path)
			}
			st := o.Stats().Record
			if st.Recording || st.Frames != n || st.Dropped != 0 {
				t.Errorf("stats after stop: %+v; expected %d frames, none dropped", st, n)
			}
			frames, fw, fh, differ := readBack(t, path)
			if frames != slots || fw != w || fh != h || !differ {
				t.Errorf("%s: %d frames of %dx%d, differing %v; expected %d of %dx%d that differ", path, frames, fw, fh, differ, slots, w, h)
			}
		})
	}
}

// readBack counts a video file's frames and says whether consecutive ones
// differ.
func readBack(t *testing.T, path string) (n, w, h int, differ bool) {
	t.Helper()
	vc, err := gocv.VideoCaptureFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer vc.Close()
	frame, prev, diff := gocv.NewMat(), gocv.NewMat(), gocv.NewMat()
	defer frame.Close()
	defer prev.Close()
	defer diff.Close()
	for vc.Read(&frame) && !frame.Empty() {
		w, h = frame.Cols(), frame.Rows()
		if n > 0 {
			gocv.AbsDiff(frame, prev, &diff)
			if s := diff.Sum(); s.Val1+s.Val2+s.Val3 > float64(w*h) {
				differ = true
			}
		}
		frame.CopyTo(&prev)
		n++
	}
	return n, w, h, differ
}

// A folder that cannot be written, or a full disk, is an error naming the
// folder; the outputs keep taking pictures, and a later recording into a
// good folder works. A disk that fills while recording stops it with the
// reason in the stats, and the file is finished.
func TestRecordingFolderErrors(t *testing.T) {
	matcount.Check(t)
	const w, h = 64, 36
	file := filepath.Join(t.TempDir(), "a-file")
	os.WriteFile(file, []byte("x"), 0o644)
	cfg := DefaultConfig()
	cfg.Record.Folder = filepath.Join(file, "recordings")
	o := New(cfg, w, h, DefaultOpeners())
	_, err := o.StartRecording()
	if err == nil || !strings.Contains(err.Error(), "video_out.record.folder "+cfg.Record.Folder) {
		t.Fatalf("unwritable folder: %v; expected an error naming video_out.record.folder", err)
	}
	if st := o.Stats().Record; st.Recording || st.Err != err.Error() {
		t.Errorf("stats after a refused start: %+v", st)
	}
	o.Capture(0, paint(0, w, h)) // the piece goes on

	var mu sync.Mutex
	free := uint64(10 << 20)
	o.SetFreeSpace(func(string) (uint64, error) { mu.Lock(); defer mu.Unlock(); return free, nil }, 5*time.Millisecond)
	cfg.Record.Folder = t.TempDir()
	o.Reconfigure(cfg)
	if _, err := o.StartRecording(); err == nil || !strings.Contains(err.Error(), "the disk is full (10 MiB free, video_out.record.min_free_mb is 500)") {
		t.Fatalf("full disk: %v", err)
	}
	mu.Lock()
	free = 1 << 40
	mu.Unlock()
	path, err := o.StartRecording()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		waitFree(t, o.rec)
		o.Capture(slot(i, cfg.Record.FPS), paint(i, w, h))
	}
	mu.Lock()
	free = 100 << 20
	mu.Unlock()
	for end := time.Now().Add(5 * time.Second); o.Stats().Record.Recording && time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
	}
	st := o.Stats().Record
	if st.Recording || !strings.Contains(st.Err, "recording "+path+" stopped: video_out.record.folder") || !strings.Contains(st.Err, "the disk is full") {
		t.Fatalf("disk filling while recording: %+v", st)
	}
	if _, err := o.StopRecording(); !errors.Is(err, ErrNotRecording) {
		t.Errorf("stop after the disk filled: %v", err)
	}
	if n, _, _, _ := readBack(t, path); n != 5 {
		t.Errorf("the recording stopped by a full disk has %d frames, expected 5", n)
	}
}

// gated is an encoder that takes a frame only when the test lets it: a
// slow encoder, at the package boundary.
type gated struct {
	gate    chan struct{}
	encoded int
}

func (g *gated) Encode(*Frame) error { <-g.gate; g.encoded++; return nil }
func (g *gated) Close() error        { return nil }

// An encoder that falls behind costs frames, counted once per frame slot,
// never a wait: the pool's frames go to the encoder, every later slot is
// dropped, and the hand-over allocates nothing.
func TestSlowEncoderDropsFrames(t *testing.T) {
	const w, h, queue = 32, 18, 4
	enc := &gated{gate: make(chan struct{})}
	op := DefaultOpeners()
	op.File = func(string, string, int, int, float64) (Encoder, error) { return enc, nil }
	cfg := DefaultConfig()
	cfg.Record.Folder, cfg.Record.Queue = t.TempDir(), queue
	o := New(cfg, w, h, op)
	if _, err := o.StartRecording(); err != nil {
		t.Fatal(err)
	}
	fill := func(pix []byte) { pix[0]++ }
	for i := 0; i < 20; i++ {
		start := time.Now()
		o.Capture(slot(i, cfg.Record.FPS), fill)
		o.Capture(slot(i, cfg.Record.FPS), fill) // a second display tick in the same slot
		if d := time.Since(start); d > time.Second {
			t.Fatalf("Capture waited %v for the encoder", d)
		}
	}
	if st := o.Stats().Record; st.Dropped != 20-queue {
		t.Errorf("dropped %d frames, expected %d (20 slots, a pool of %d)", st.Dropped, 20-queue, queue)
	}
	allocs := testing.AllocsPerRun(50, func() { o.Capture(slot(100, cfg.Record.FPS), fill) })
	if allocs != 0 {
		t.Errorf("Capture allocates %v times per frame", allocs)
	}
	close(enc.gate)
	if _, err := o.StopRecording(); err != nil {
		t.Fatal(err)
	}
	if st := o.Stats().Record; enc.encoded != queue || st.TotalFrames != queue || st.TotalDropped != 20-queue+1 {
		t.Errorf("encoded %d, stats %+v; expected %d encoded and %d dropped", enc.encoded, st, queue, 20-queue+1)
	}
}

// The stream reaches a receiver: an in-process FFmpeg capture on the same
// udp address gets frames of the render size. The delay from hand-over to
// decoded picture is logged.
func TestStreamReceivedInProcess(t *testing.T) {
	matcount.Check(t)
	const w, h = 320, 180
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	cfg := DefaultConfig()
	cfg.Stream.URL = "udp://" + addr
	o := New(cfg, w, h, DefaultOpeners())
	defer o.Close()
	if st := o.Stats().Stream; !st.On || st.Err != "" {
		t.Fatalf("stream: %+v", st)
	}
	stop := make(chan struct{})
	var sent sync.Map // picture number → when it was handed over
	done := make(chan struct{})
	go func() {
		defer close(done)
		start := time.Now()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(33 * time.Millisecond):
			}
			sent.Store(i%1024, time.Now())
			o.Capture(time.Since(start), stampFrame(i%1024, w, h))
		}
	}()
	defer func() { close(stop); <-done }()

	vc, err := gocv.VideoCaptureFile("udp://" + addr)
	if err != nil {
		t.Fatalf("receiving udp://%s: %v", addr, err)
	}
	defer vc.Close()
	frame := gocv.NewMat()
	defer frame.Close()
	var lat []time.Duration
	for got := 0; got < 60; got++ {
		if !vc.Read(&frame) || frame.Empty() {
			t.Fatalf("frame %d of the stream did not arrive", got)
		}
		if frame.Cols() != w || frame.Rows() != h {
			t.Fatalf("received %dx%d, expected %dx%d", frame.Cols(), frame.Rows(), w, h)
		}
		if at, ok := sent.Load(readStamp(frame)); ok {
			lat = append(lat, time.Since(at.(time.Time)))
		}
	}
	if len(lat) > 0 {
		least := lat[0]
		for _, l := range lat {
			least = min(least, l)
		}
		t.Logf("stream: hand-over to decoded picture %v at least, %v for the last frame (the receiver's start-up backlog included)", least, lat[len(lat)-1])
	}
}

// stampFrame writes i in ten black or white blocks the codec keeps.
func stampFrame(i, w, h int) func(pix []byte) {
	return func(pix []byte) {
		for k := range pix {
			pix[k] = 90
		}
		for b := 0; b < 10; b++ {
			v := byte(0)
			if i>>b&1 == 1 {
				v = 255
			}
			for y := 8; y < 24; y++ {
				for x := b*w/10 + 4; x < b*w/10+w/10-4; x++ {
					o := 4 * (y*w + x)
					pix[o], pix[o+1], pix[o+2] = v, v, v
				}
			}
		}
	}
}

func readStamp(m gocv.Mat) int {
	i := 0
	for b := 0; b < 10; b++ {
		if m.GetVecbAt(16, b*m.Cols()/10+m.Cols()/20)[0] > 128 {
			i |= 1 << b
		}
	}
	return i
}

// Without v4l2loopback (as on the test machines) the virtual camera says
// how to load it; a device that is not a loopback is refused.
func TestVirtualCameraNeedsLoopback(t *testing.T) {
	if _, err := os.Stat(loopbackModule); err == nil {
		t.Skip("v4l2loopback is loaded here")
	}
	_, err := openLoopback("auto", 64, 36)
	if err == nil || !strings.Contains(err.Error(), "v4l2loopback module is not loaded") || !strings.Contains(err.Error(), "modprobe v4l2loopback") {
		t.Errorf("auto without the module: %v", err)
	}
	_, err = openLoopback("/dev/null", 64, 36)
	if err == nil || !strings.Contains(err.Error(), "/dev/null is not a video device") {
		t.Errorf("/dev/null: %v", err)
	}
	cfg := DefaultConfig()
	cfg.VirtualCamera.Device = "auto"
	o := New(cfg, 64, 36, DefaultOpeners())
	if st := o.Stats().Camera; st.On || !strings.Contains(st.Err, "modprobe") {
		t.Errorf("stats without the module: %+v", st)
	}
	o.Close()
}

// Encoding cost per frame at 1280x720 for each codec, through the same
// encoder the outputs use; compare with the bare BGR conversion.
func BenchmarkEncode1280x720(b *testing.B) {
	const w, h = 1280, 720
	for _, codec := range []string{"h264", "mpeg4", "mjpeg"} {
		b.Run(codec, func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "bench."+map[string]string{"h264": "mp4", "mpeg4": "mp4", "mjpeg": "avi"}[codec])
			enc, err := OpenFile(path, codec, w, h, 30)
			if err != nil {
				b.Fatal(err)
			}
			f := &Frame{Pix: make([]byte, 4*w*h), W: w, H: h, Repeat: 1}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				paint(i, w, h)(f.Pix)
				if err := enc.Encode(f); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			enc.Close()
		})
	}
	b.Run("bare-paint", func(b *testing.B) {
		pix := make([]byte, 4*w*h)
		for i := 0; i < b.N; i++ {
			paint(i, w, h)(pix)
		}
	})
	_ = fmt.Sprint
}

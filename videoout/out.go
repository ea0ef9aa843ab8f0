package videoout

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// Openers open the outputs' encoders. The defaults write through FFmpeg and
// V4L2; tests replace them at this boundary.
type Openers struct {
	File   func(path, codec string, w, h int, fps float64) (Encoder, error)
	Stream func(url, codec string, w, h int, fps float64) (Encoder, error)
	Camera func(device string, w, h int) (Encoder, error)
}

// DefaultOpeners are FFmpeg (files, the stream) and v4l2loopback.
func DefaultOpeners() Openers {
	return Openers{File: OpenFile, Stream: openStream, Camera: openLoopback}
}

// Out is every video output of the running piece. The game loop hands it
// the displayed picture with Capture; any goroutine starts and stops
// recordings and reads its Stats.
type Out struct {
	w, h      int
	open      Openers
	freeSpace func(dir string) (uint64, error) // bytes free where dir is
	now       func() time.Time
	watchTick time.Duration

	mu  sync.Mutex // guards everything below; Capture holds it for one hand-over
	cfg Config
	rec *sink
	// The recording in progress (rec), or the last one.
	recPath      string
	recStart     time.Time
	recStarting  bool
	recErr       string // why the last recording failed or stopped by itself
	recStop      chan struct{}
	recClosing   bool   // a stopped recording's file is being finished
	recFrames    uint64 // totals of finished recordings, for /metrics
	recDropped   uint64
	lastFrames   uint64 // the last finished recording's
	lastDropped  uint64
	stream, cam  *sink
	streamTarget string
	camTarget    string
	streamErr    string
	camErr       string
}

// New makes the outputs for pictures of w×h and opens the stream and the
// virtual camera when cfg asks for them; one that cannot open is logged and
// shown in Stats, and the piece runs on without it.
func New(cfg Config, w, h int, open Openers) *Out {
	o := &Out{w: w, h: h, open: open, freeSpace: freeBytes, now: time.Now, watchTick: time.Second, cfg: cfg}
	o.openStream(cfg.Stream)
	o.openCamera(cfg.VirtualCamera)
	return o
}

// SetFreeSpace replaces how free disk space is measured (tests).
func (o *Out) SetFreeSpace(f func(dir string) (uint64, error), every time.Duration) {
	o.mu.Lock()
	o.freeSpace, o.watchTick = f, every
	o.mu.Unlock()
}

// Capture hands the picture shown at clock time t to every output whose
// next frame is due and has a free buffer: read fills the buffer (once;
// further outputs get a copy). It runs on the game loop, never waits for an
// encoder and allocates nothing.
func (o *Out) Capture(t time.Duration, read func(pix []byte)) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var first *Frame
	for _, s := range [...]*sink{o.rec, o.stream, o.cam} {
		if s == nil {
			continue
		}
		f := s.take(t)
		if f == nil {
			continue
		}
		if first == nil {
			read(f.Pix)
			first = f
		} else {
			copy(f.Pix, first.Pix)
		}
		s.put(f)
	}
}

// Active reports whether any output is taking pictures: the game loop
// skips reading pixels back when none is.
func (o *Out) Active() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.rec != nil || o.stream != nil || o.cam != nil
}

// Reconfigure applies a reloaded video_out section: the stream and the
// virtual camera reopen when theirs changed; the record settings apply
// from the next recording.
func (o *Out) Reconfigure(cfg Config) {
	o.mu.Lock()
	old := o.cfg
	o.cfg = cfg
	o.mu.Unlock()
	if cfg.Stream != old.Stream {
		o.closeOutput(&o.stream)
		o.openStream(cfg.Stream)
	}
	if cfg.VirtualCamera != old.VirtualCamera {
		o.closeOutput(&o.cam)
		o.openCamera(cfg.VirtualCamera)
	}
}

// Close stops every output, finishing a recording's file.
func (o *Out) Close() {
	if _, err := o.StopRecording(); err != nil && !errors.Is(err, ErrNotRecording) {
		slog.Error("recording: "+err.Error(), "file", o.recPath)
	}
	o.closeOutput(&o.stream)
	o.closeOutput(&o.cam)
}

func (o *Out) openStream(c StreamConfig) {
	o.openOutput(&o.stream, &o.streamTarget, &o.streamErr, c.URL, "video stream", c.FPS, c.Queue,
		func() (Encoder, error) { return o.open.Stream(c.URL, c.Codec, o.w, o.h, c.FPS) })
}

func (o *Out) openCamera(c CameraConfig) {
	o.openOutput(&o.cam, &o.camTarget, &o.camErr, c.Device, "virtual camera", c.FPS, 3,
		func() (Encoder, error) { return o.open.Camera(c.Device, o.w, o.h) })
}

// openOutput opens a stream or the virtual camera at target ("" is off)
// into *s; a failure is logged and kept in *errText for Stats.
func (o *Out) openOutput(s **sink, targetField, errText *string, target, what string, fps float64, queue int, open func() (Encoder, error)) {
	o.mu.Lock()
	*targetField, *errText = target, ""
	o.mu.Unlock()
	if target == "" {
		return
	}
	enc, err := open()
	o.mu.Lock()
	defer o.mu.Unlock()
	if err != nil {
		*errText = err.Error()
		slog.Error(what+" not sending; the piece runs on without it", "err", err)
		return
	}
	*s = newSink(enc, o.w, o.h, fps, queue, func(err error) {
		slog.Error(what+" failed; it stops until the config is reloaded", "target", target, "err", err)
	})
	slog.Info(what+" sending", "target", target, "size", fmt.Sprintf("%dx%d", o.w, o.h), "fps", fps)
}

// closeOutput takes the sink out of the game loop's reach, then closes it.
func (o *Out) closeOutput(p **sink) {
	o.mu.Lock()
	s := *p
	*p = nil
	o.mu.Unlock()
	if s != nil {
		if err := s.close(); err != nil {
			slog.Warn("closing a video output", "err", err)
		}
	}
}

// ErrNotRecording is StopRecording's answer when nothing records.
var ErrNotRecording = errors.New("not recording")

// StartRecording opens a new file in video_out.record.folder and starts
// recording the displayed output into it. The name comes from the clock,
// never from a request. An unwritable folder or a nearly full disk is an
// error naming the folder; the piece runs on either way.
func (o *Out) StartRecording() (string, error) {
	o.mu.Lock()
	if o.rec != nil || o.recStarting || o.recClosing {
		path := o.recPath
		o.mu.Unlock()
		return path, fmt.Errorf("already recording to %s", path)
	}
	o.recStarting = true
	c, free := o.cfg.Record, o.freeSpace
	o.mu.Unlock()
	path, enc, err := o.openRecording(c, free)
	o.mu.Lock()
	defer o.mu.Unlock()
	o.recStarting = false
	if err != nil {
		o.recErr = err.Error()
		slog.Error("recording not started; the piece runs on", "err", err)
		return "", err
	}
	o.rec = newSink(enc, o.w, o.h, c.FPS, c.Queue, func(err error) {
		slog.Error("recording: the encoder failed", "file", path, "err", err)
	})
	o.recPath, o.recStart, o.recErr = path, o.now(), ""
	o.recStop = make(chan struct{})
	go o.watch(o.rec, o.recStop, c, free, o.watchTick)
	slog.Info("recording", "file", path, "codec", c.Codec, "size", fmt.Sprintf("%dx%d", o.w, o.h), "fps", c.FPS)
	return path, nil
}

func (o *Out) openRecording(c RecordConfig, free func(string) (uint64, error)) (string, Encoder, error) {
	if err := os.MkdirAll(c.Folder, 0o755); err != nil {
		return "", nil, fmt.Errorf("video_out.record.folder %s cannot be made: %v", c.Folder, errors.Unwrap(err))
	}
	if err := enoughSpace(c, free); err != nil {
		return "", nil, err
	}
	stamp := o.now().Format("2006-01-02_15-04-05")
	var path string
	for n := 1; ; n++ {
		name := "reverie-" + stamp + "." + c.Container
		if n > 1 {
			name = fmt.Sprintf("reverie-%s-%d.%s", stamp, n, c.Container)
		}
		path = filepath.Join(c.Folder, name)
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, os.ErrExist) && n < 100 {
			continue
		}
		if err != nil {
			return "", nil, fmt.Errorf("video_out.record.folder %s is not writable: %v", c.Folder, errors.Unwrap(err))
		}
		f.Close()
		break
	}
	enc, err := o.open.File(path, c.Codec, o.w, o.h, c.FPS)
	if err != nil {
		os.Remove(path)
		return "", nil, fmt.Errorf("recording: %w", err)
	}
	return path, enc, nil
}

// enoughSpace refuses a folder with less than record.min_free_mb free.
func enoughSpace(c RecordConfig, free func(string) (uint64, error)) error {
	if c.MinFreeMB == 0 {
		return nil
	}
	b, err := free(c.Folder)
	if err != nil {
		return fmt.Errorf("video_out.record.folder %s: free space unknown: %v", c.Folder, err)
	}
	if mb := b >> 20; mb < uint64(c.MinFreeMB) {
		return fmt.Errorf("video_out.record.folder %s: the disk is full (%d MiB free, video_out.record.min_free_mb is %d)", c.Folder, mb, c.MinFreeMB)
	}
	return nil
}

// watch stops the recording s when the disk fills or its encoder fails.
func (o *Out) watch(s *sink, stop chan struct{}, c RecordConfig, free func(string) (uint64, error), every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		err := s.lastErr()
		if err == nil {
			err = enoughSpace(c, free)
		}
		if err == nil {
			continue
		}
		path, serr := o.stopRecording(s, err)
		if !errors.Is(serr, ErrNotRecording) {
			slog.Error("recording stopped; the piece runs on", "file", path, "err", err)
		}
		return
	}
}

// StopRecording finishes the file and returns its path.
func (o *Out) StopRecording() (string, error) { return o.stopRecording(nil, nil) }

// stopRecording stops the recording in progress; only, when only is not
// nil, if that is the one, giving reason as why it stopped by itself.
func (o *Out) stopRecording(only *sink, reason error) (string, error) {
	o.mu.Lock()
	s, path := o.rec, o.recPath
	if s == nil || (only != nil && s != only) {
		o.mu.Unlock()
		return "", ErrNotRecording
	}
	if reason != nil {
		o.recErr = fmt.Sprintf("recording %s stopped: %v", path, reason)
	}
	o.rec, o.recClosing = nil, true
	close(o.recStop)
	o.mu.Unlock()
	err := s.close()
	o.mu.Lock()
	o.recClosing = false
	o.lastFrames, o.lastDropped = s.frames.Load(), s.dropped.Load()
	o.recFrames += o.lastFrames
	o.recDropped += o.lastDropped
	o.mu.Unlock()
	slog.Info("recording stopped", "file", path, "frames", s.frames.Load(), "dropped", s.dropped.Load())
	if err != nil {
		return path, fmt.Errorf("finishing %s: %w", path, err)
	}
	return path, nil
}

// RecordStats is the recording's state.
type RecordStats struct {
	Recording bool    // recording, or finishing the file
	File      string  // the recording in progress, or the last one
	Seconds   float64 // how long it has been recording
	Frames    uint64  // pictures encoded in this (or the last) recording
	Dropped   uint64  // its frames lost because the encoder fell behind
	Err       string  // why the last recording failed or stopped by itself
	// Totals over every recording since the start, for /metrics.
	TotalFrames, TotalDropped uint64
}

// OutputStats is the stream's or the virtual camera's state.
type OutputStats struct {
	Target  string // the URL or device; "" when off
	On      bool
	Frames  uint64
	Dropped uint64
	Err     string
}

// Stats is every output's state.
type Stats struct {
	Record RecordStats
	Stream OutputStats
	Camera OutputStats
}

// Stats reports every output's state.
func (o *Out) Stats() Stats {
	o.mu.Lock()
	defer o.mu.Unlock()
	var st Stats
	r := &st.Record
	r.File, r.Err, r.TotalFrames, r.TotalDropped = o.recPath, o.recErr, o.recFrames, o.recDropped
	r.Frames, r.Dropped = o.lastFrames, o.lastDropped
	r.Recording = o.rec != nil || o.recClosing
	if o.rec != nil {
		r.Seconds = o.now().Sub(o.recStart).Seconds()
		r.Frames, r.Dropped = o.rec.frames.Load(), o.rec.dropped.Load()
		r.TotalFrames += r.Frames
		r.TotalDropped += r.Dropped
	}
	st.Stream = outputStats(o.stream, o.streamTarget, o.streamErr)
	st.Camera = outputStats(o.cam, o.camTarget, o.camErr)
	return st
}

func outputStats(s *sink, target, errText string) OutputStats {
	st := OutputStats{Target: target, Err: errText}
	if s != nil {
		st.On = !s.failed.Load()
		st.Frames, st.Dropped = s.frames.Load(), s.dropped.Load()
		if err := s.lastErr(); err != nil {
			st.Err = err.Error()
		}
	}
	return st
}

// freeBytes is the space free to an unprivileged writer where dir is.
func freeBytes(dir string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return st.Bavail * uint64(st.Bsize), nil
}

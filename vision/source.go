package vision

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"gocv.io/x/gocv"

	"reverie/internal/redact"
	"reverie/internal/userfile"
)

// ErrEnd is returned by a file source set to stop at its end.
var ErrEnd = errors.New("end of video")

// ErrLost is returned when a device or stream stops delivering frames.
var ErrLost = errors.New("source lost")

// DamagedError is a video file that ends before the frames its header
// declares: truncated by a failed copy, or corrupt. It is not a short clip.
type DamagedError struct {
	File     string
	Frame    int // the first frame that could not be read, from 1
	Declared int // the frames the file's header declares
}

func (e *DamagedError) Error() string {
	return fmt.Sprintf("video file %s is damaged: frame %d of the %d its header declares cannot be read (truncated or corrupt); copy the file again", e.File, e.Frame, e.Declared)
}

// damaged says whether a file that stops after read frames, of declared,
// stopped early. Containers estimate their frame count from the duration
// now and then, so a shortfall of 1% (and two frames) passes.
func damaged(read, declared int) bool {
	return declared > 0 && read+2+declared/100 < declared
}

// Source delivers camera frames as BGR Mats.
type Source interface {
	// Read fills dst with the next frame. It returns ErrEnd at the end of a
	// file that does not loop, and ErrLost when a device gives nothing.
	Read(dst *gocv.Mat) error
	Name() string
	// FPS is the source's nominal rate; files use it as their clock.
	FPS() float64
	// Paced says whether Read waits for the next frame itself, as a camera
	// or a stream does. A file does not: Capture paces it at FPS, and an
	// offline analysis reads it as fast as it decodes. A wrapper says what
	// the source it wraps says.
	Paced() bool
	Close() error
}

// SourceKind tells devices, files and streams apart.
type SourceKind int

// Source kinds.
const (
	KindDevice SourceKind = iota
	KindFile
	KindURL
)

func (k SourceKind) String() string {
	return [...]string{"device", "file", "url"}[k]
}

// ParseSource classifies a source string: a device index, a URL (has "://")
// or a file path.
func ParseSource(s string) SourceKind {
	if _, ok := DeviceIndex(s); ok {
		return KindDevice
	}
	if strings.Contains(s, "://") {
		return KindURL
	}
	return KindFile
}

type capSource struct {
	vc     *gocv.VideoCapture
	name   string
	kind   SourceKind
	loop   bool
	mirror bool
	fps    float64
	frames int // read since the start or the last loop
	count  int // the frames a file's header declares, 0 when it does not say
}

// Open opens one source as configured. "auto" tries device 0 and falls back
// to the sample clip; the returned note says so, for the log.
func Open(cfg Config) (Source, string, error) {
	if cfg.Source == "auto" {
		c := cfg
		c.Source = "0"
		if s, err := OpenSource(c, c.Source); err == nil {
			return s, "camera 0", nil
		}
		s, err := OpenSource(cfg, SampleClip)
		if err != nil {
			return nil, "", fmt.Errorf("vision.source auto: no camera at index 0 and the sample clip failed: %w", err)
		}
		return s, "no camera found at index 0: playing the sample clip " + SampleClip + " in a loop", nil
	}
	s, err := OpenSource(cfg, cfg.Source)
	return s, "", err
}

// OpenSource opens spec (a device index, file or URL) with cfg's capture
// settings.
func OpenSource(cfg Config, spec string) (Source, error) {
	kind := ParseSource(spec)
	var vc *gocv.VideoCapture
	var err error
	switch kind {
	case KindDevice:
		idx, _ := DeviceIndex(spec)
		if _, statErr := os.Stat(fmt.Sprintf("/dev/video%d", idx)); statErr != nil {
			return nil, fmt.Errorf("camera %d: /dev/video%d does not exist", idx, idx)
		}
		vc, err = gocv.VideoCaptureDevice(idx)
	case KindFile:
		if _, statErr := os.Stat(spec); statErr != nil {
			return nil, fmt.Errorf("video file %s: %w", spec, userfile.StripPath(statErr))
		}
		vc, err = gocv.VideoCaptureFile(spec)
	default:
		vc, err = openURL(spec)
	}
	// The name shown everywhere (logs, errors, /api/status) is the spec
	// without a stream's password.
	name := redact.URLs(spec)
	if err != nil || vc == nil || !vc.IsOpened() {
		if vc != nil {
			vc.Close()
		}
		return nil, fmt.Errorf("%s %s: OpenCV could not open it", kind, name)
	}
	if kind == KindDevice {
		if cfg.Width > 0 && cfg.Height > 0 {
			vc.Set(gocv.VideoCaptureFrameWidth, float64(cfg.Width))
			vc.Set(gocv.VideoCaptureFrameHeight, float64(cfg.Height))
		}
		if cfg.FPS > 0 {
			vc.Set(gocv.VideoCaptureFPS, cfg.FPS)
		}
	}
	fps := vc.Get(gocv.VideoCaptureFPS)
	if fps <= 0 || fps > 1000 {
		fps = 30
	}
	src := &capSource{vc: vc, name: name, kind: kind, loop: cfg.AtEnd != "stop", mirror: cfg.Mirror, fps: fps}
	if n := vc.Get(gocv.VideoCaptureFrameCount); kind == KindFile && n > 0 && n < 1e9 {
		src.count = int(n)
	}
	return src, nil
}

// openURL opens a stream with FFmpeg. OpenCV's other backends, tried
// after a failure, print the URL to stderr, password and all: a URL with a
// password goes to FFmpeg only.
func openURL(spec string) (*gocv.VideoCapture, error) {
	vc, err := gocv.VideoCaptureFileWithAPI(spec, gocv.VideoCaptureFFmpeg)
	if err == nil && vc != nil && vc.IsOpened() {
		return vc, nil
	}
	if vc != nil {
		vc.Close()
	}
	if redact.URLs(spec) != spec {
		return nil, errors.New("FFmpeg could not open it")
	}
	return gocv.VideoCaptureFile(spec)
}

// Name is the source without a stream's password.
func (s *capSource) Name() string { return s.name }
func (s *capSource) FPS() float64 { return s.fps }
func (s *capSource) Paced() bool  { return s.kind != KindFile }
func (s *capSource) Close() error { return s.vc.Close() }

func (s *capSource) Read(dst *gocv.Mat) error {
	ok := s.vc.Read(dst)
	if (!ok || dst.Empty()) && s.kind == KindFile {
		if damaged(s.frames, s.count) {
			return &DamagedError{File: s.name, Frame: s.frames + 1, Declared: s.count}
		}
		if !s.loop || s.frames == 0 {
			return ErrEnd
		}
		// Seek back to the first frame rather than reopening the file.
		s.vc.Set(gocv.VideoCapturePosFrames, 0)
		s.frames = 0
		ok = s.vc.Read(dst)
	}
	if !ok || dst.Empty() {
		return ErrLost
	}
	s.frames++
	if s.mirror {
		gocv.Flip(*dst, dst, 1)
	}
	return nil
}

// Package videoout takes the displayed picture out of the piece: recordings
// into video files, a live stream other software takes in (OBS, VLC,
// TouchDesigner through a relay), and a v4l2loopback virtual camera. Each
// output encodes on its own goroutine from a small pool of reused frame
// buffers: one that falls behind drops frames and counts them, and the
// display never waits for it.
package videoout

import (
	"fmt"
	"net/url"
	"strings"

	"reverie/internal/field"
)

// Config is the video_out section of config.yaml.
type Config struct {
	Record        RecordConfig `yaml:"record"`
	Stream        StreamConfig `yaml:"stream"`
	VirtualCamera CameraConfig `yaml:"virtual_camera"`
}

// RecordConfig is video_out.record: recordings of the displayed output.
type RecordConfig struct {
	Folder    string  `yaml:"folder"`      // where recordings go; never named by a request
	Container string  `yaml:"container"`   // mp4, mkv or avi
	Codec     string  `yaml:"codec"`       // h264, mpeg4 or mjpeg
	FPS       float64 `yaml:"fps"`         // frames per second of the file
	Queue     int     `yaml:"queue"`       // frames waiting for the encoder before frames drop
	MinFreeMB int     `yaml:"min_free_mb"` // a recording stops below this much free disk space
}

// StreamConfig is video_out.stream: a live MPEG-TS stream over UDP.
type StreamConfig struct {
	URL   string  `yaml:"url"`   // udp://host:port; "" sends none
	Codec string  `yaml:"codec"` // h264 or mpeg4
	FPS   float64 `yaml:"fps"`
	Queue int     `yaml:"queue"`
}

// CameraConfig is video_out.virtual_camera: a v4l2loopback device.
type CameraConfig struct {
	Device string  `yaml:"device"` // "", auto or /dev/videoN
	FPS    float64 `yaml:"fps"`
}

// DefaultConfig is the section's defaults, the same as config.yaml's.
func DefaultConfig() Config {
	return Config{
		Record:        RecordConfig{Folder: "recordings", Container: "mp4", Codec: "h264", FPS: 30, Queue: 8, MinFreeMB: 500},
		Stream:        StreamConfig{Codec: "mpeg4", FPS: 30, Queue: 4},
		VirtualCamera: CameraConfig{FPS: 30},
	}
}

// FieldError names the config key a validation failure is about.
type FieldError = field.Error

// Containers and codecs, each checked to write and read back here through
// Debian's FFmpeg (videoout's tests).
var (
	containers = []string{"mp4", "mkv", "avi"}
	codecs     = map[string]string{"h264": "avc1", "mpeg4": "mp4v", "mjpeg": "MJPG"}
)

// Validate checks every value.
func (c *Config) Validate() error {
	r := &c.Record
	switch {
	case strings.TrimSpace(r.Folder) == "":
		return &FieldError{Key: "record.folder", Msg: "empty: expected a folder for recordings, such as recordings"}
	case !oneOf(r.Container, containers):
		return &FieldError{Key: "record.container", Msg: fmt.Sprintf("%q: expected mp4, mkv or avi", r.Container)}
	case codecs[r.Codec] == "":
		return &FieldError{Key: "record.codec", Msg: fmt.Sprintf("%q: expected h264, mpeg4 or mjpeg", r.Codec)}
	case r.Codec == "mjpeg" && r.Container == "mp4":
		return &FieldError{Key: "record.codec", Msg: "mjpeg does not go in an mp4 file: use container avi or mkv, or codec h264"}
	case !(r.FPS >= 1 && r.FPS <= 120):
		return &FieldError{Key: "record.fps", Msg: fmt.Sprintf("%g: expected 1..120", r.FPS)}
	case r.Queue < 2 || r.Queue > 64:
		return &FieldError{Key: "record.queue", Msg: fmt.Sprintf("%d: expected 2..64 frames", r.Queue)}
	case r.MinFreeMB < 0 || r.MinFreeMB > 1<<20:
		return &FieldError{Key: "record.min_free_mb", Msg: fmt.Sprintf("%d: expected 0..1048576", r.MinFreeMB)}
	}
	s := &c.Stream
	if s.URL != "" {
		if err := checkStreamURL(s.URL); err != nil {
			return &FieldError{Key: "stream.url", Msg: err.Error()}
		}
	}
	switch {
	case s.Codec != "h264" && s.Codec != "mpeg4":
		return &FieldError{Key: "stream.codec", Msg: fmt.Sprintf("%q: expected h264 or mpeg4", s.Codec)}
	case !(s.FPS >= 1 && s.FPS <= 120):
		return &FieldError{Key: "stream.fps", Msg: fmt.Sprintf("%g: expected 1..120", s.FPS)}
	case s.Queue < 2 || s.Queue > 64:
		return &FieldError{Key: "stream.queue", Msg: fmt.Sprintf("%d: expected 2..64 frames", s.Queue)}
	}
	v := &c.VirtualCamera
	if v.Device != "" && v.Device != "auto" && !strings.HasPrefix(v.Device, "/dev/video") {
		return &FieldError{Key: "virtual_camera.device", Msg: fmt.Sprintf("%q: expected \"\" (off), auto, or a device such as /dev/video10", v.Device)}
	}
	if !(v.FPS >= 1 && v.FPS <= 120) {
		return &FieldError{Key: "virtual_camera.fps", Msg: fmt.Sprintf("%g: expected 1..120", v.FPS)}
	}
	return nil
}

// checkStreamURL accepts udp://HOST:PORT with FFmpeg's udp options.
func checkStreamURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "udp" || u.Hostname() == "" || u.Port() == "" || (u.Path != "" && u.Path != "/") || u.User != nil {
		return fmt.Errorf("%q: expected udp://HOST:PORT (a receiver's address, or a multicast group such as udp://239.0.0.1:5000), with FFmpeg's udp options after ? if any", s)
	}
	return nil
}

func oneOf(s string, list []string) bool {
	for _, x := range list {
		if s == x {
			return true
		}
	}
	return false
}
